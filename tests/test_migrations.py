from io import StringIO

import pytest
from django.core.management import call_command


# makemigrations checks the migration history of every database alias, the pgvector one included.
@pytest.mark.django_db(databases="__all__")
def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
