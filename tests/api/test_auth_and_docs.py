import datetime as dt
import re

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from catalog.models import Item
from recommender.models import EvaluationReport
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


def test_token_obtained_with_password_authenticates(alice):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=alice).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/me/").json()["username"] == "alice"


def test_wrong_password_gets_no_token_and_bad_token_is_401(alice):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["non_field_errors"])
    assert Token.objects.count() == 0
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/me/").status_code == 401


def test_session_login_authenticates(alice):
    client = APIClient()
    assert client.login(username="alice", password=PASSWORD)
    assert client.get("/api/me/").json()["username"] == "alice"


def test_anonymous_401_carries_token_challenge(anon_api):
    response = anon_api.get("/api/me/")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")


@pytest.fixture
def endpoints(db):
    item = ItemFactory()
    report = EvaluationReport.objects.create(params={}, results={})
    return {
        "/api/": None,
        "/api/items/": None,
        f"/api/items/{item.id}/": None,
        "/api/categories/": None,
        f"/api/items/{item.id}/similar/": "auth",
        "/api/interactions/": "auth",
        "/api/me/": "auth",
        "/api/recommendations/": "auth",
        "/api/evaluations/": "staff",
        f"/api/evaluations/{report.id}/": "staff",
    }


EXPECTED = {  # who may GET what: (anonymous, alice, staff)
    None: (200, 200, 200),
    "auth": (401, 200, 200),
    "staff": (401, 403, 200),
}


def test_permission_matrix_for_reads(endpoints, anon_api, alice_api, staff_api):
    seen = {url: tuple(api.get(url).status_code for api in (anon_api, alice_api, staff_api)) for url in endpoints}
    assert seen == {url: EXPECTED[rule] for url, rule in endpoints.items()}


def test_anonymous_is_throttled(anon_api, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    codes = [anon_api.get("/api/categories/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_users_are_throttled_per_user(alice_api, bob_api, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/min"})
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1000/min"})
    assert [alice_api.get("/api/me/").status_code for _ in range(2)] == [200, 429]
    assert bob_api.get("/api/me/").status_code == 200


def test_schema_lists_every_endpoint(anon_api):
    response = anon_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert paths == {
        "/api/v1/auth/signup/",
        "/api/v1/auth/token/",
        "/api/v1/categories/",
        "/api/v1/categories/{slug}/",
        "/api/v1/evaluations/",
        "/api/v1/evaluations/{id}/",
        "/api/v1/interactions/",
        "/api/v1/items/",
        "/api/v1/items/{id}/",
        "/api/v1/items/{id}/similar/",
        "/api/v1/me/",
        "/api/v1/recommendations/",
        # Service clients (integrations/api.py).
        "/api/v1/items:batch",
        "/api/v1/users:batch",
        "/api/v1/interactions:batch",
        "/api/v1/items:export",
        "/api/v1/users:export",
        "/api/v1/interactions:export",
        "/api/v1/items/by-external-id/{external_id}/",
        "/api/v1/items/by-external-id/{external_id}/similar/",
        "/api/v1/users/{external_id}/",
        "/api/v1/users/{external_id}/recommendations/",
        "/api/v1/popular/",
        "/api/v1/trending/",
    }
    # What GET /api/me/ returns for an account without an email ("") must match its schema.
    email = response.json()["components"]["schemas"]["Profile"]["properties"]["email"]
    assert email == {
        "type": "string",
        "readOnly": True,
        "description": "The account's email address; empty when it has none.",
    }


def test_the_unversioned_paths_answer_as_the_v1_ones(alice_api):
    ItemFactory(title="Toy Story")
    assert alice_api.get("/api/v1/items/").json() == alice_api.get("/api/items/").json()
    assert alice_api.get("/api/v1/me/").json() == alice_api.get("/api/me/").json()
    created = alice_api.post("/api/v1/interactions/", {"item": Item.objects.get().pk, "kind": "like"}, format="json")
    assert created.status_code == 201
    assert [row["id"] for row in alice_api.get("/api/interactions/").json()["results"]] == [created.json()["id"]]


def test_swagger_ui_uses_local_assets_only(anon_api):
    response = anon_api.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"} <= set(assets)
    assert [a for a in assets if a.startswith(("http:", "https:", "//"))] == []
    assert not re.search(r"cdn|unpkg|jsdelivr|cloudflare", html, re.IGNORECASE)
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset


@pytest.mark.parametrize(
    ("method", "url", "as_user"),
    [("POST", "/api/auth/token/", False), ("POST", "/api/interactions/", True), ("PATCH", "/api/me/", True)],
)
def test_a_deeply_nested_json_body_is_a_400_not_a_500(alice, method, url, as_user):
    client = APIClient()
    if as_user:
        client.force_authenticate(alice)
    body = "[" * 100_000 + "]" * 100_000
    response = client.generic(method, url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the document is nested too deeply."}
    assert Token.objects.count() == 0 and alice.interactions.count() == 0


def test_token_guessing_is_throttled_per_username_before_any_password_check(alice, settings):
    client = APIClient()
    codes = [
        client.post("/api/auth/token/", {"username": "Alice", "password": f"guess-{n}"}, format="json").status_code
        for n in range(5)
    ]
    blocked = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert codes == [400] * 5 and blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 60 and Token.objects.count() == 0
    # Another username from the same address is still let through (up to the per-address limit).
    assert client.post("/api/auth/token/", {"username": "bob", "password": "x"}, format="json").status_code == 400


def test_token_guessing_is_throttled_per_address_across_usernames(alice):
    client = APIClient()
    codes = [
        client.post("/api/auth/token/", {"username": f"user{n}", "password": "x"}, format="json").status_code
        for n in range(21)
    ]
    assert codes == [400] * 20 + [429]


def test_a_json_body_over_the_size_limit_is_a_413_and_stores_nothing(alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = APIClient()
    client.force_authenticate(alice)
    item = ItemFactory()
    padding = "x" * 1000
    body = f'{{"item": {item.id}, "kind": "like", "padding": "{padding}"}}'
    response = client.generic("POST", "/api/interactions/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 1000 bytes."}
    assert alice.interactions.count() == 0
    small = client.post("/api/interactions/", {"item": item.id, "kind": "like"}, format="json")
    assert small.status_code == 201


def test_an_expired_token_is_refused_and_signing_in_again_issues_a_new_one(alice, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    client = APIClient()
    old = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json").json()["token"]
    Token.objects.filter(key=old).update(created=timezone.now() - dt.timedelta(days=31))
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    refused = client.get("/api/me/")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token has expired; ask for a new one at /api/auth/token/."}
    client.credentials()
    new = client.post("/api/auth/token/", {"username": "alice", "password": PASSWORD}, format="json").json()["token"]
    assert new != old and list(Token.objects.values_list("key", flat=True)) == [new]
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/me/").status_code == 200


def test_delete_revokes_the_callers_token(alice, bob):
    tokens = {}
    for name in ("alice", "bob"):
        response = APIClient().post("/api/auth/token/", {"username": name, "password": PASSWORD}, format="json")
        tokens[name] = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['alice']}")
    assert client.delete("/api/auth/token/").status_code == 204
    assert client.get("/api/me/").status_code == 401
    assert list(Token.objects.values_list("key", flat=True)) == [tokens["bob"]]
    assert APIClient().delete("/api/auth/token/").status_code == 401  # nothing to revoke anonymously
