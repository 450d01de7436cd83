"""Every endpoint x every kind of caller: a key can do exactly what its scopes allow, and nothing a
person's token is for; a person's token cannot use the service endpoints."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Profile
from catalog.models import Interaction
from integrations.services import client_create
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory, UserFactory
from tests.integrations.conftest import key_client

pytestmark = pytest.mark.django_db
EVENT = {"user": "u1", "item": "i1", "kind": "like", "timestamp": "2026-01-01T00:00:00Z"}

# (method, path, body, the scope it needs, the status it answers when allowed)
SERVICE = [
    ("post", "/api/v1/items:batch", [{"external_id": "n1", "title": "New"}], "ingest", 200),
    ("post", "/api/v1/users:batch", [{"external_id": "u9", "age": 30}], "ingest", 200),
    ("post", "/api/v1/interactions:batch", [EVENT], "ingest", 200),
    ("delete", "/api/v1/items/by-external-id/i2/", None, "ingest", 204),
    ("delete", "/api/v1/users/u2/", None, "ingest", 204),
    ("get", "/api/v1/items:export", None, "read", 200),
    ("get", "/api/v1/users:export", None, "read", 200),
    ("get", "/api/v1/interactions:export", None, "read", 200),
    ("get", "/api/v1/users/u1/", None, "read", 200),
    ("get", "/api/v1/items/by-external-id/i1/", None, "read", 200),
    ("get", "/api/v1/users/u1/recommendations/?k=2", None, "recommend", 200),
    ("get", "/api/v1/users/visitor-7/recommendations/?k=2&interests=drama", None, "recommend", 200),
    ("get", "/api/v1/items/by-external-id/i1/similar/?k=2", None, "recommend", 200),
    ("get", "/api/v1/popular/?k=2", None, "recommend", 200),
    ("get", "/api/v1/trending/?k=2", None, "recommend", 200),
]
# What a signed-in person does for themselves (a key is refused), and what staff do.
PERSON = [
    ("get", "/api/v1/me/", None, 200),
    ("get", "/api/v1/interactions/", None, 200),
    ("post", "/api/v1/interactions/", {"item": "{i1}", "kind": "like"}, 201),
    ("get", "/api/v1/recommendations/?k=2", None, 200),
    ("get", "/api/v1/items/{i1}/similar/?k=2", None, 200),
    ("delete", "/api/v1/auth/token/", None, 204),
]
STAFF = [
    ("get", "/api/v1/evaluations/", None, 200),
    ("post", "/api/v1/items/", {"external_id": "s", "title": "S"}, 201),
]
CALLERS = ("ingest", "recommend", "read", "no-scope", "person", "anonymous")


@pytest.fixture
def world(db):
    drama = CategoryFactory(name="Drama", slug="drama")
    items = [ItemFactory(external_id=f"i{n}", categories=[drama]) for n in (1, 2, 3)]
    users = []
    for n in (1, 2):
        user = UserFactory(username=f"ext-u{n}")
        Profile.objects.filter(user=user).update(external_id=f"u{n}")
        InteractionFactory(user=user, item=items[2], kind="like", value=1.0)
        users.append(user)
    return {"items": {i.external_id: i for i in items}, "person": UserFactory(username="carol")}


def caller(name: str, world) -> APIClient:
    if name == "anonymous":
        return APIClient()
    if name == "person":
        client = APIClient()
        token = client.post("/api/v1/auth/token/", {"username": "carol", "password": "correct-horse-battery"})
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
        return client
    _, key = client_create(name=name, scopes=[] if name == "no-scope" else [name])
    return key_client(key)


def send(client: APIClient, method: str, path: str, body, world):
    path = path.replace("{i1}", str(world["items"]["i1"].pk))
    if isinstance(body, dict):
        body = {k: (world["items"]["i1"].pk if v == "{i1}" else v) for k, v in body.items()}
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize(("method", "path", "body", "needs", "ok"), SERVICE, ids=[f"{m} {p}" for m, p, *_ in SERVICE])
def test_a_service_endpoint_answers_only_a_key_with_its_scope(world, who, method, path, body, needs, ok):
    rows_before = Interaction.objects.count()
    response = send(caller(who, world), method, path, body, world)
    if who == needs:
        assert response.status_code == ok, response.content
    elif who == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code == 403
        assert needs in response.json()["detail"]
        assert Interaction.objects.count() == rows_before  # nothing refused was written


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize(("method", "path", "body", "ok"), PERSON, ids=[f"{m} {p}" for m, p, *_ in PERSON])
def test_a_persons_endpoint_refuses_every_key(world, who, method, path, body, ok):
    response = send(caller(who, world), method, path, body, world)
    if who == "person":
        assert response.status_code == ok, response.content
    elif who == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code == 403
        assert response.json()["detail"] == (
            "This endpoint acts for a signed-in person; a service client's API key cannot use it."
        )


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize(("method", "path", "body", "ok"), STAFF, ids=[f"{m} {p}" for m, p, *_ in STAFF])
def test_no_key_is_staff(world, who, method, path, body, ok):
    response = send(caller(who, world), method, path, body, world)
    assert response.status_code == (401 if who == "anonymous" else 403)


@pytest.mark.parametrize("who", CALLERS)
def test_the_public_catalog_reads_answer_everyone(world, who):
    client = caller(who, world)
    assert client.get("/api/v1/items/").status_code == 200
    assert client.get("/api/v1/categories/").status_code == 200
