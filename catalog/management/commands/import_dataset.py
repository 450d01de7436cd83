"""Import a dataset directory: RecBole atomic files, raw MovieLens-100K, or CSV/JSON Lines."""

from django.core.management.base import BaseCommand, CommandError

from catalog.importers import FORMATS, DatasetError, dataset_import


class Command(BaseCommand):
    help = "Import items, users and interactions from PATH (a directory). Nothing is written if any row is invalid."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), required=True)
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar (shown on stderr)")

    def handle(self, *args, path, fmt, no_progress, **options):
        try:
            summary = dataset_import(path=path, fmt=fmt, progress=not no_progress)
        except DatasetError as error:
            raise CommandError(str(error)) from error
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Imported {path} ({fmt})."))
