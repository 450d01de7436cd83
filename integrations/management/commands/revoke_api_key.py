from django.core.management.base import BaseCommand, CommandError

from integrations.models import ServiceClient
from integrations.services import client_revoke


class Command(BaseCommand):
    help = "Revoke a service client's API key by its prefix (the part before the dot). This cannot be undone."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        try:
            client = client_revoke(prefix=prefix.split(".")[0])
        except ServiceClient.DoesNotExist:
            raise CommandError(f"no API key with prefix '{prefix.split('.')[0]}'") from None
        self.stdout.write(f"Revoked the key {client.prefix} of '{client.name}'.")
