"""Batches by external id: the importer's checks, all or nothing, idempotent, queued once per batch."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from accounts.models import Profile, User
from catalog.models import Category, Interaction, Item
from integrations.services import BATCH_MAX_ROWS

pytestmark = pytest.mark.django_db
ITEMS, USERS, EVENTS = "/api/v1/items:batch", "/api/v1/users:batch", "/api/v1/interactions:batch"


@pytest.fixture
def enqueued(monkeypatch):
    """What the batch writer hands to tasks.enqueue."""
    calls = []
    for name in ("items_changed", "users_changed", "interactions_added"):
        monkeypatch.setattr(
            f"catalog.importers.writer.enqueue.{name}", lambda *a, _n=name, **kw: calls.append((_n, *a))
        )
    return calls


def counts() -> tuple:
    return Item.objects.count(), Profile.objects.count(), Interaction.objects.count(), Category.objects.count()


def catalog_rows(n: int) -> list[dict]:
    return [
        {
            "external_id": f"sku-{i}",
            "title": f"Film {i}",
            "year": 1990 + i % 30,
            "categories": ["Drama", "Sci-Fi"][: 1 + i % 2],
        }
        for i in range(n)
    ]


def test_a_batch_of_each_kind_is_stored_and_sending_it_again_changes_nothing(service_api, enqueued):
    users = [{"external_id": f"c-{i}", "age": 20 + i, "gender": "F", "interests": ["Drama"]} for i in range(3)]
    events = [
        {"user": f"c-{i}", "item": f"sku-{j}", "kind": "rating", "value": 4, "timestamp": 1_700_000_000 + j}
        for i in range(3)
        for j in range(4)
    ]
    first = [
        service_api.post(path, rows, format="json")
        for path, rows in ((ITEMS, catalog_rows(5)), (USERS, users), (EVENTS, events))
    ]
    assert [r.status_code for r in first] == [200, 200, 200]
    assert first[0].json()["items"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert first[0].json()["categories"] == {"created": 2, "updated": 0, "unchanged": 0}
    assert first[1].json()["users"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert first[2].json()["interactions"] == {"created": 12, "updated": 0, "unchanged": 0}
    assert sorted(Item.objects.get(external_id="sku-1").categories.values_list("name", flat=True)) == [
        "Drama",
        "Sci-Fi",
    ]
    assert Profile.objects.get(external_id="c-2").age == 22
    assert Interaction.objects.filter(user__profile__external_id="c-1").count() == 4
    # Queued once per batch, never per row.
    assert [call[0] for call in enqueued] == ["items_changed", "users_changed", "interactions_added"]
    assert enqueued[2] == ("interactions_added", 12)

    before, enqueued[:] = counts(), []
    again = [
        service_api.post(path, rows, format="json")
        for path, rows in ((ITEMS, catalog_rows(5)), (USERS, users), (EVENTS, events))
    ]
    assert again[0].json()["items"] == {"created": 0, "updated": 0, "unchanged": 5}
    assert again[1].json()["users"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again[2].json()["interactions"] == {"created": 0, "updated": 0, "unchanged": 12}
    assert counts() == before and enqueued == []


def test_json_lines_are_taken_too(service_api):
    body = "\n".join(json.dumps(row) for row in catalog_rows(3)) + "\n\n"
    response = service_api.post(ITEMS, body, content_type="application/x-ndjson")
    assert response.status_code == 200 and response.json()["items"]["created"] == 3
    bad = service_api.post(
        ITEMS, '{"external_id": "a", "title": "A"}\n{"external_id": ', content_type="application/jsonl"
    )
    assert bad.status_code == 400 and "line 2" in bad.json()["detail"]
    assert Item.objects.count() == 3


@pytest.mark.parametrize(
    ("path", "rows", "index", "field", "message"),
    [
        (
            ITEMS,
            [{"external_id": "a", "title": "A"}, {"external_id": "b", "title": "B", "year": 1700}],
            1,
            "year",
            "bad year '1700' (expected 1800-2100)",
        ),
        (
            ITEMS,
            [{"external_id": "a", "title": "A"}, {"external_id": "A", "title": "B"}],
            1,
            "external_id",
            "duplicate item id 'A' (first on line 0 as 'a'; ids ignore case)",
        ),
        (ITEMS, [{"external_id": "a"}], 0, "title", "empty title"),
        (
            ITEMS,
            [{"external_id": "a", "title": "A", "attributes": [1]}],
            0,
            "attributes",
            "attributes must be a JSON object",
        ),
        (USERS, [{"external_id": "u", "age": 300}], 0, "age", "bad age '300' (expected 1-120)"),
        (USERS, [{"external_id": "u", "gender": "x"}], 0, "gender", "bad gender 'x' (expected M, F or O)"),
        (EVENTS, [{"user": "nobody", "item": "sku-0", "value": 4, "timestamp": 1}], 0, "user", "unknown user 'nobody'"),
        (
            EVENTS,
            [{"user": "c-0", "item": "sku-0", "value": 9, "timestamp": 1}],
            0,
            "value",
            "rating 9 is outside 0.5-5.0",
        ),
        (
            EVENTS,
            [{"user": "c-0", "item": "sku-0", "value": 4, "timestamp": "soon"}],
            0,
            "timestamp",
            "bad timestamp 'soon' (expected unix seconds or ISO-8601)",
        ),
        (
            EVENTS,
            [{"user": "c-0", "item": "sku-0", "value": 4, "timestamp": 1}, "x"],
            1,
            None,
            "expected a JSON object",
        ),
    ],
)
def test_a_refused_row_is_named_by_index_and_field_and_nothing_is_written(
    service_api, path, rows, index, field, message
):
    service_api.post(ITEMS, catalog_rows(1), format="json")
    service_api.post(USERS, [{"external_id": "c-0"}], format="json")
    before = counts()
    response = service_api.post(path, rows, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"row {index}: {message}",
        "errors": [{"index": index, "field": field, "message": message}],
    }
    assert counts() == before


def test_the_whole_batch_is_refused_when_its_last_row_is_bad(service_api):
    rows = catalog_rows(50) + [{"external_id": "bad", "title": ""}]
    response = service_api.post(ITEMS, rows, format="json")
    assert response.status_code == 400 and response.json()["errors"][0] == {
        "index": 50,
        "field": "title",
        "message": "empty title",
    }
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "the batch is empty"),
        ({"external_id": "a", "title": "A"}, "expected a JSON array of objects (or JSON Lines)"),
        (
            [{"external_id": str(i), "title": "t"} for i in range(BATCH_MAX_ROWS + 1)],
            f"{BATCH_MAX_ROWS + 1} rows; at most {BATCH_MAX_ROWS} per request",
        ),
    ],
)
def test_a_batch_that_is_not_a_list_of_rows_is_refused(service_api, body, detail):
    response = service_api.post(ITEMS, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": detail, "errors": [{"index": None, "field": None, "message": detail}]}
    assert counts() == (0, 0, 0, 0)


def test_a_batch_stores_what_import_dataset_stores_from_the_same_rows(service_api, tmp_path):
    items = catalog_rows(6)
    users = [{"external_id": f"c-{i}", "about": "likes space", "occupation": "writer"} for i in range(2)]
    events = [
        {"user": "c-1", "item": f"sku-{j}", "kind": "like", "timestamp": f"2026-01-0{j + 1}T00:00:00Z"}
        for j in range(4)
    ]
    for path, rows in ((ITEMS, items), (USERS, users), (EVENTS, events)):
        assert service_api.post(path, rows, format="json").status_code == 200
    via_api = snapshot()
    Item.objects.all().delete(), User.objects.all().delete(), Category.objects.all().delete()
    for name, rows in (("items", items), ("users", users), ("interactions", events)):
        (tmp_path / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    call_command("import_dataset", str(tmp_path), "--format", "csv", "--no-progress", stdout=io.StringIO())
    assert snapshot() == via_api


def snapshot() -> dict:
    return {
        "items": sorted(Item.objects.values_list("external_id", "title", "year", "description", "attributes")),
        "links": sorted(Item.categories.through.objects.values_list("item__external_id", "category__name")),
        "users": sorted(Profile.objects.values_list("external_id", "user__username", "about", "occupation")),
        "events": sorted(
            (e.user.profile.external_id, e.item.external_id, e.kind, e.value, e.timestamp.astimezone(dt.UTC))
            for e in Interaction.objects.select_related("user__profile", "item")
        ),
    }


def test_a_batch_over_the_byte_limit_is_a_413(service_api, settings):
    settings.API_BATCH_MAX_BYTES = 1000
    response = service_api.post(ITEMS, catalog_rows(40), format="json")
    assert response.status_code == 413
    assert Item.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('[{"external_id": "\\ud800", "title": "x"}]', "application/json"),
        ('[{"external_id": "a", "title": "t", "year": 1e309}]', "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ('{"external_id": "a", "title": NaN}', "application/x-ndjson"),
        (b'[{"external_id": "\xff"}]', "application/json"),
    ],
)
def test_hostile_batch_bodies_are_a_400_and_write_nothing(service_api, body, content_type):
    response = service_api.post(ITEMS, body, content_type=content_type)
    assert response.status_code == 400
    assert "detail" in response.json()
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"k": "abc"}, "k"),
        ({"k": "0"}, "k"),
        ({"age": "1e309"}, "age"),
        ({"gender": "X"}, "gender"),
        ({"interests": "no-such-slug"}, "interests"),
        ({"context": ",".join(f"i{n}" for n in range(51))}, "context"),
        ({"exclude_seen": "maybe"}, "exclude_seen"),
    ],
)
def test_a_bad_feed_query_is_a_400_naming_the_field(service_api, query, field):
    response = service_api.get("/api/v1/users/anyone/recommendations/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_each_batch_endpoint_documents_its_own_rows(anon_api):
    paths = anon_api.get("/api/schema/", {"format": "json"}).json()["paths"]
    for kind, field in (("items", "title"), ("users", "about"), ("interactions", "item")):
        operation = paths[f"/api/v1/{kind}:batch"]["post"]
        assert operation["summary"].startswith(f"Send up to 10,000 {kind} by external id")
        example = operation["requestBody"]["content"]["application/json"]["schema"]["example"]
        assert field in example[0]
        assert set(operation["responses"]) >= {"200", "400", "401", "403", "413", "429"}


def test_a_batch_racing_another_for_the_same_new_rows_is_told_to_send_again(service_api, monkeypatch):
    from django.db import IntegrityError

    def racing(**kwargs):
        raise IntegrityError("Duplicate entry 'sku-0' for key 'external_id'")

    monkeypatch.setattr("integrations.services.batch_ingest", racing)
    response = service_api.post(ITEMS, catalog_rows(1), format="json")
    assert response.status_code == 409 and response["Retry-After"] == "1"
    assert response.json() == {
        "detail": "Another request wrote some of these rows at the same time; send the batch again."
    }
