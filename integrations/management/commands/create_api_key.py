from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.models import SCOPES
from integrations.services import client_create


class Command(BaseCommand):
    help = "Create a service client and print its API key (shown only this once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="who the key is for, e.g. 'shop backend'")
        parser.add_argument(
            "--scopes", required=True, help=f"comma-separated, some of: {', '.join(SCOPES)} (e.g. ingest,recommend)"
        )

    def handle(self, *args, name, scopes, **options):
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            client, key = client_create(name=name, scopes=wanted)
        except (ValidationError, ValueError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            raise CommandError(message) from None
        scopes = ", ".join(client.scopes) or "none"
        self.stderr.write(f"Service client '{client.name}' (prefix {client.prefix}), scopes: {scopes}")
        self.stderr.write("Store the key now: it cannot be shown again.")
        self.stdout.write(key)
