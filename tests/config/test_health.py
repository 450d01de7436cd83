"""/health/live answers without I/O; /health/ready names every dependency that is down, within its deadline."""

import time

import pytest
from django.core.cache import cache

from config.settings import redis_cache
from recommender import serving
from tests.tasks.broker import broker_at, closed_port_url, silent_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_loaded(monkeypatch):
    monkeypatch.setattr(serving, "loaded_version_id", lambda: 7)


def test_live_is_always_ok(client):
    response = client.get("/health/live")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_ready_is_ok_when_everything_is_there(client, model_loaded):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {
            "database": "ok",
            "cache": "ok (local memory)",
            "broker": "ok (tasks run in-process)",
            "model": "ok (version 7)",
        },
    }


def test_ready_is_503_without_a_loaded_model(client, monkeypatch):
    monkeypatch.setattr(serving, "loaded_version_id", lambda: None)
    response = client.get("/health/ready")
    assert (response.status_code, response.json()["down"]) == (503, ["model"])
    assert response.json()["checks"]["model"] == "down: no model loaded in this process yet"


def test_ready_names_a_broker_and_a_cache_that_are_down(client, settings, model_loaded):
    settings.CACHES = {"default": redis_cache(closed_port_url())}
    with broker_at(closed_port_url()):
        response = client.get("/health/ready")
    assert (response.status_code, response.json()["down"]) == (503, ["broker", "cache"])
    assert response.json()["checks"]["database"] == "ok"
    assert cache.get("anything") is None  # the cache itself still fails open for the site


def test_ready_gives_up_on_a_hung_broker_within_its_deadline(client, settings, model_loaded):
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    with silent_server() as url, broker_at(url):
        started = time.monotonic()
        response = client.get("/health/ready")
        elapsed = time.monotonic() - started
    assert (response.status_code, response.json()["down"]) == (503, ["broker"])
    assert elapsed < 2.0
