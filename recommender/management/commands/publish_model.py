"""Publish a given model version, roll back to the previous one, or run a challenger beside the live one."""

from django.core.management.base import BaseCommand, CommandError

from recommender.experiments import challenger_start, challenger_stop
from recommender.models import ModelVersion
from recommender.training import PublishRefused, version_publish, version_rollback


class Command(BaseCommand):
    help = (
        "Make a model version live (--model-version N), go back to the previous one (--rollback), serve a"
        " version to a share of the users beside the live one (--challenger N --share 0.1), or end that"
        " (--stop-challenger). Publishing the challenger promotes it."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--model-version", type=int, dest="model_version")
        group.add_argument("--rollback", action="store_true")
        group.add_argument("--challenger", type=int, help="a ready version to serve to --share of the users")
        group.add_argument("--stop-challenger", action="store_true", help="serve every user the live version")
        parser.add_argument("--share", type=float, help="with --challenger: the share of users, between 0 and 1")

    def handle(self, *args, model_version, rollback, challenger, stop_challenger, share, **options):
        if (share is None) != (challenger is None):
            raise CommandError(
                "--share goes with --challenger"
                if challenger is None
                else "--challenger needs --share (the share of users it serves)"
            )
        try:
            if stop_challenger:
                stopped = challenger_stop()
                self.stdout.write(
                    f"Model version {stopped.pk} is no longer a challenger" if stopped else "No challenger"
                )
            elif challenger is not None:
                version = challenger_start(version=self._version(challenger), share=share)
                self.stdout.write(
                    self.style.SUCCESS(f"Model version {version.pk} is the challenger for {share:.0%} of the users")
                )
            else:
                live = version_rollback() if rollback else version_publish(version=self._version(model_version))
                self.stdout.write(self.style.SUCCESS(f"Model version {live.pk} is live"))
        except PublishRefused as exc:
            raise CommandError(f"refused: {exc}; nothing changed") from exc

    @staticmethod
    def _version(pk: int) -> ModelVersion:
        version = ModelVersion.objects.filter(pk=pk).first()
        if version is None:
            raise CommandError(f"model version {pk} does not exist")
        return version
