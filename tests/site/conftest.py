"""Fixtures for the site's view tests: a small catalog and logged-in Django test clients."""

import pytest
from django.test import Client

from tests.factories import CategoryFactory, ItemFactory


@pytest.fixture
def genres(db):
    return {name: CategoryFactory(name=name) for name in ("Comedy", "Drama", "Sci-Fi")}


@pytest.fixture
def films(genres):
    """Six active films and one retired one, two per genre."""
    made = {
        "Alien": ItemFactory(title="Alien", year=1979, categories=[genres["Sci-Fi"]]),
        "Solaris": ItemFactory(title="Solaris", year=1972, categories=[genres["Sci-Fi"], genres["Drama"]]),
        "Airplane!": ItemFactory(title="Airplane!", year=1980, categories=[genres["Comedy"]]),
        "Clue": ItemFactory(title="Clue", year=1985, categories=[genres["Comedy"]]),
        "Heat": ItemFactory(title="Heat", year=1995, categories=[genres["Drama"]]),
        "Fargo": ItemFactory(title="Fargo", year=1996, categories=[genres["Drama"], genres["Comedy"]]),
        "Retired": ItemFactory(title="Retired", year=1990, is_active=False),
    }
    return made


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client
