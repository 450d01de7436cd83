"""The schema documents the errors each operation can answer with, in the shape they really have."""

import pytest
from rest_framework.throttling import UserRateThrottle

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
