"""Service client keys: created once in clear, stored hashed, scoped, revocable, never logged."""

import datetime as dt
import logging

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from integrations.models import ServiceClient
from integrations.services import client_create
from integrations.throttles import ServiceRateThrottle
from tests.integrations.conftest import key_client

pytestmark = pytest.mark.django_db
POPULAR = "/api/v1/popular/"


def test_the_command_prints_the_key_once_and_stores_only_its_hash(capsys):
    call_command("create_api_key", "--name", "shop", "--scopes", "recommend, ingest")
    out, err = capsys.readouterr()
    key = out.strip()
    client = ServiceClient.objects.get()
    assert client.name == "shop" and client.scopes == ["ingest", "recommend"]
    assert key.startswith(client.prefix + ".") and len(key) == 41
    assert key not in client.hashed_key and key.split(".")[1] not in client.id
    assert client.hashed_key.startswith("sha512$$")
    assert "cannot be shown again" in err and key not in err
    assert key_client(key).get(POPULAR).status_code == 200


def test_an_unknown_scope_is_refused_and_nothing_is_created():
    with pytest.raises(CommandError, match="Unknown scope 'admin'"):
        call_command("create_api_key", "--name", "shop", "--scopes", "ingest,admin")
    assert not ServiceClient.objects.exists()


def test_a_revoked_key_is_refused_for_good(capsys):
    client, key = client_create(name="shop", scopes=["recommend"])
    call_command("revoke_api_key", key)  # the whole key works as well as its prefix
    assert ServiceClient.objects.get().revoked
    response = key_client(key).get(POPULAR)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unknown or revoked API key."}
    assert response["WWW-Authenticate"] == "Token"
    with pytest.raises(CommandError, match="no API key with prefix 'nope'"):
        call_command("revoke_api_key", "nope")


def test_an_expired_or_wrong_key_is_refused():
    client, key = client_create(name="shop", scopes=["recommend"])
    secret = key.split(".")[1]
    wrong = client.prefix + "." + ("y" if secret[0] == "x" else "x") + secret[1:]  # one character changed
    assert wrong != key
    assert key_client(wrong).get(POPULAR).status_code == 401
    assert key_client("no-dot-at-all").get(POPULAR).status_code == 401
    ServiceClient.objects.filter(pk=client.pk).update(expiry_date=timezone.now() - dt.timedelta(seconds=1))
    response = key_client(key).get(POPULAR)
    assert response.status_code == 401 and response.json() == {"detail": "This API key has expired."}


def test_no_credentials_ask_for_them():
    response = APIClient().get(POPULAR)
    assert response.status_code == 401


def test_keys_never_reach_the_logs(caplog):
    client, key = client_create(name="shop", scopes=["ingest"])
    caplog.set_level(logging.DEBUG)
    secret = key.split(".")[1]
    key_client(key).get(POPULAR)  # a scope it lacks: 403, logged as a warning by Django
    key_client(key[:-1] + "x").get(POPULAR)  # a wrong key: 401
    key_client(key).post("/api/v1/items:batch", [{"external_id": "a"}], format="json")  # a refused batch
    assert caplog.records and all(secret not in record.getMessage() for record in caplog.records)


def test_a_key_has_its_own_rate_not_a_persons(monkeypatch, alice_api):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/min"})
    monkeypatch.setattr(ServiceRateThrottle, "THROTTLE_RATES", {"service": "3/min"})
    _, key = client_create(name="shop", scopes=["recommend"])
    shop = key_client(key)
    assert [shop.get(POPULAR).status_code for _ in range(4)] == [200, 200, 200, 429]  # above a person's 1/min
    assert int(shop.get(POPULAR)["Retry-After"]) > 0
    assert [alice_api.get("/api/v1/me/").status_code for _ in range(2)] == [200, 429]  # people keep theirs
    _, other = client_create(name="other shop", scopes=["recommend"])
    assert key_client(other).get(POPULAR).status_code == 200  # per key
