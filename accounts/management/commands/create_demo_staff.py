"""Create (or reset) the demo staff account and print its credentials."""

from django.core.management.base import BaseCommand

from accounts.services import demo_staff_ensure


class Command(BaseCommand):
    help = "Create the demo staff account (username 'demo') and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-2026")

    def handle(self, *args, username, password, **options):
        demo_staff_ensure(username=username, password=password)
        self.stdout.write(self.style.SUCCESS(f"Demo staff account: username={username} password={password}"))
        self.stdout.write("Sign in at http://127.0.0.1:8000/admin/ (or the site's log-in page).")
