"""The schema documents the errors each operation can answer with, in the shape they really have, and its
examples are requests the API takes and answers it gives."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from tests.factories import CategoryFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon_api):
    return anon_api.get("/api/schema/", {"format": "json"}).json()


def _codes(schema, method, path):
    return sorted(schema["paths"][path][method]["responses"])


def test_every_operation_documents_the_errors_it_can_answer_with(schema):
    assert _codes(schema, "get", "/api/v1/items/{id}/") == ["200", "401", "404", "429"]  # reads are public
    assert _codes(schema, "get", "/api/v1/items/") == ["200", "400", "401", "404", "429"]  # 404: no such page
    assert _codes(schema, "post", "/api/v1/interactions/") == ["201", "400", "401", "403", "413", "429"]
    assert _codes(schema, "get", "/api/v1/recommendations/") == ["200", "400", "401", "403", "429"]
    # A person's endpoints refuse a service client's key (403), and say so.
    assert _codes(schema, "get", "/api/v1/interactions/") == ["200", "400", "401", "403", "404", "429"]
    assert _codes(schema, "get", "/api/v1/me/") == ["200", "401", "403", "429"]
    # What an export gives back is what is stored: "" for a user who gave no gender.
    user = schema["components"]["schemas"]["UserRow"]["properties"]["gender"]
    assert user["oneOf"] == [{"$ref": "#/components/schemas/GenderEnum"}, {"$ref": "#/components/schemas/BlankEnum"}]
    assert _codes(schema, "get", "/api/v1/evaluations/{id}/") == ["200", "401", "403", "404", "429"]  # staff only
    assert _codes(schema, "delete", "/api/v1/auth/token/") == ["204", "401", "403"]  # not throttled
    assert _codes(schema, "post", "/api/v1/auth/token/") == ["200", "400", "401", "403", "413", "429"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "{" not in path or "404" in codes, (method, path)
            assert ("413" in codes) == (method in ("post", "put", "patch")), (method, path)
            assert ("401" in codes) == (path != "/api/v1/auth/signup/"), (method, path)  # sign-up reads no credentials


def test_documented_error_bodies_match_real_ones(schema, alice_api, bob_api, monkeypatch):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"] and set(error["properties"]) == {"detail"}
    for path in ("/api/items/987654/", "/api/items/1.5/", "/api/no-such-endpoint/", "/api/items/?page=0"):
        not_found = alice_api.get(path)  # no such object, no route at all, no such page: the same body
        assert not_found.status_code == 404 and set(not_found.json()) == {"detail"}, path
    invalid_json = alice_api.patch("/api/me/", data=b"\x00", content_type="application/json")
    assert invalid_json.status_code == 400 and set(invalid_json.json()) == {"detail"}  # the Error branch
    invalid = schema["paths"]["/api/v1/recommendations/"]["get"]["responses"]["400"]["content"]["application/json"]
    fields, error = invalid["schema"]["anyOf"]
    assert fields["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert error == {"$ref": "#/components/schemas/Error"}
    refused = alice_api.get("/api/recommendations/", {"k": 0})
    assert refused.status_code == 400 and list(refused.json()) == ["k"]
    assert all(isinstance(message, str) for message in refused.json()["k"])
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "1/min"})
    bob_api.get("/api/me/")
    throttled = bob_api.get("/api/me/")
    assert throttled.status_code == 429 and set(throttled.json()) == {"detail"} and int(throttled["Retry-After"]) > 0


def test_the_site_keeps_its_html_error_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def _examples(schema, method, path, part):
    operation = schema["paths"][path][method]
    if part == "request":
        return operation["requestBody"]["content"]["application/json"]["examples"]
    return operation["responses"][part]["content"]["application/json"]["examples"]


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_the_examples_are_requests_the_api_takes_and_answers_it_gives(schema, alice_api):
    animation = CategoryFactory(name="Animation", slug="animation")
    ItemFactory(pk=1, categories=[animation])
    ItemFactory(pk=2, categories=[animation])  # still unseen for the feed once item 1 is rated
    answers = []
    for example in _examples(schema, "post", "/api/v1/interactions/", "request").values():
        response = alice_api.post("/api/v1/interactions/", example["value"], format="json")
        assert response.status_code == 201, (example, response.json())
        answers.append(response.json())
    (recorded,) = _examples(schema, "post", "/api/v1/interactions/", "201").values()
    assert _shape(answers[-1]) == _shape(recorded["value"])
    (signup,) = _examples(schema, "post", "/api/v1/auth/signup/", "request").values()
    created = APIClient().post("/api/v1/auth/signup/", signup["value"], format="json")
    (answer,) = _examples(schema, "post", "/api/v1/auth/signup/", "201").values()
    assert created.status_code == 201 and _shape(created.json()) == _shape(answer["value"])
    (feed,) = _examples(schema, "get", "/api/v1/recommendations/", "200").values()
    real = alice_api.get("/api/v1/recommendations/", {"k": 1}).json()
    assert real["results"] and _shape(real) == _shape(feed["value"])
