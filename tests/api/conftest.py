"""API test fixtures: throttle counters start empty in every test; enqueue calls are recorded."""

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
