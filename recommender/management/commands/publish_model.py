"""Publish a given model version, or roll back to the previous one."""

from django.core.management.base import BaseCommand, CommandError

from recommender.models import ModelVersion
from recommender.training import PublishRefused, version_publish, version_rollback


class Command(BaseCommand):
    help = "Make a model version live (--model-version N) or go back to the previous one (--rollback)."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--model-version", type=int, dest="model_version")
        group.add_argument("--rollback", action="store_true")

    def handle(self, *args, model_version, rollback, **options):
        try:
            if rollback:
                live = version_rollback()
            else:
                target = ModelVersion.objects.filter(pk=model_version).first()
                if target is None:
                    raise CommandError(f"model version {model_version} does not exist")
                live = version_publish(version=target)
        except PublishRefused as exc:
            raise CommandError(f"refused: {exc}; the live version is unchanged") from exc
        self.stdout.write(self.style.SUCCESS(f"Model version {live.pk} is live"))
