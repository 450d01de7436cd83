"""Named fixtures: alice and bob (ordinary users) and staff. API clients for each. Fresh throttle counters."""

from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fresh_throttle_cache(monkeypatch, request):
    """A private, empty cache for the throttles (API and sign-in), so counts never leak between tests."""
    cache = LocMemCache(f"throttle-{request.node.nodeid}", {})
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    yield cache
    cache.clear()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


def _client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def anon_api():
    return APIClient()


@pytest.fixture
def alice_api(alice):
    return _client_for(alice)


@pytest.fixture
def bob_api(bob):
    return _client_for(bob)


@pytest.fixture
def staff_api(staff):
    return _client_for(staff)


@pytest.fixture
def queued(monkeypatch):
    """Record what the services hand to tasks.enqueue (only the services' calls, not signals')."""
    calls = {"items": [], "users": [], "interactions": []}
    spy = SimpleNamespace(
        items_changed=lambda ids: calls["items"].append(list(ids)),
        users_changed=lambda ids: calls["users"].append(list(ids)),
        interactions_added=lambda count=1: calls["interactions"].append(count),
    )
    monkeypatch.setattr("catalog.services.enqueue", spy)
    monkeypatch.setattr("accounts.services.enqueue", spy)
    return calls
