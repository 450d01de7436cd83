"""With the cache server down or hung the API still answers (the cache fails open), and says so once."""

import logging
import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from catalog.models import Interaction
from config.logs import OncePerInterval
from config.settings import redis_cache
from tests.factories import ItemFactory, UserFactory
from tests.tasks.broker import closed_port_url, silent_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_log_filter():
    """The once-a-minute filter on the cache logger, with nothing logged yet."""
    (log_filter,) = [f for f in logging.getLogger("config.cache").filters if isinstance(f, OncePerInterval)]
    log_filter._last.clear()
    return log_filter


@pytest.mark.parametrize("server", ["down", "hung"])
def test_every_request_succeeds_and_the_failure_is_logged_once(settings, caplog, fresh_log_filter, monkeypatch, server):
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)  # the throttles on the configured cache again
    item = ItemFactory(title="Toy Story")
    user = UserFactory(username="alice")
    with silent_server() as hung_url:  # a server that accepts connections and never answers
        settings.CACHES = {"default": redis_cache(closed_port_url() if server == "down" else hung_url)}
        anonymous, alice = APIClient(), APIClient()
        alice.force_authenticate(user)
        caplog.clear()
        started = time.monotonic()
        listed = [anonymous.get("/api/items/").status_code for _ in range(3)]
        liked = alice.post("/api/interactions/", {"item": item.id, "kind": "like"}, format="json").status_code
        elapsed = time.monotonic() - started
    assert (listed, liked) == ([200, 200, 200], 201)
    assert Interaction.objects.filter(user=user, item=item, kind="like").count() == 1
    assert [r.getMessage() for r in caplog.records if r.name == "config.cache"] == ["Exception ignored"]
    assert elapsed < 8.0  # each cache call gives up after CACHE_TIMEOUT (0.1 s)


def test_the_log_filter_lets_one_record_a_minute_through_and_counts_the_rest():
    log_filter = OncePerInterval(seconds=60)
    records = [
        logging.LogRecord("config.cache", logging.ERROR, __file__, 1, "Exception ignored", (), None) for _ in range(4)
    ]
    assert [log_filter.filter(r) for r in records] == [True, False, False, False]
    log_filter._last[("config.cache", "Exception ignored")] = (time.monotonic() - 61, 3)
    later = logging.LogRecord("config.cache", logging.ERROR, __file__, 1, "Exception ignored", (), None)
    assert log_filter.filter(later) and later.getMessage() == "Exception ignored (3 more like it in the last 60 s)"
