"""Embed what is missing, train the hybrid scorer on the database, and publish it."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender.models import ModelVersion
from recommender.training import PublishRefused, train_and_publish


class Command(BaseCommand):
    help = "Synchronously embed missing vectors, train the hybrid scorer and publish it as the live version."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--if-no-live", action="store_true", help="do nothing when a live model exists")

    def handle(self, *args, seed, if_no_live, **options):
        live = ModelVersion.objects.filter(is_live=True).first()
        if if_no_live and live is not None:
            self.stdout.write(f"Model version {live.pk} is already live; not retraining (--if-no-live)")
            return
        started = time.perf_counter()
        # A bar on a terminal (stderr); the log has one line per phase either way.
        bar = tqdm(total=100, file=sys.stderr, disable=not sys.stderr.isatty(), bar_format="{l_bar}{bar}| {elapsed}")

        def progress(phase: str, fraction: float) -> None:
            bar.set_description_str(phase[:60])
            bar.update(round(100 * fraction) - bar.n)

        try:
            with bar:
                version = train_and_publish(seed=seed, progress=progress)
        except (PublishRefused, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        metrics = version.metrics
        self.stdout.write(
            self.style.SUCCESS(
                f"Model version {version.pk} is live: {metrics['n_users']} users, {metrics['n_items']} items, "
                f"{metrics['n_interactions']} interactions; fit {metrics['fit_seconds']:.1f} s, "
                f"total {time.perf_counter() - started:.1f} s"
            )
        )
        for regime, ndcg in sorted(metrics.get("validation_ndcg@20", {}).items()):
            self.stdout.write(f"  validation NDCG@20 {regime:10s} {ndcg:.4f}")
