"""API test fixtures: throttle counters start empty in every test; enqueue calls are recorded."""

from types import SimpleNamespace

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture(autouse=True)
def fresh_throttle_cache(monkeypatch, request):
    """A private, empty cache for the throttles, so request counts never leak between tests."""
    cache = LocMemCache(f"throttle-{request.node.nodeid}", {})
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    yield cache
    cache.clear()


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
