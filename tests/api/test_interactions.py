import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import Interaction
from tests.factories import InteractionFactory, ItemFactory

pytestmark = pytest.mark.django_db

URL = "/api/interactions/"


@pytest.fixture
def item(db):
    return ItemFactory(title="Toy Story")


def test_alice_rates_an_item(alice_api, alice, item, queued):
    response = alice_api.post(URL, {"item": item.id, "kind": "rating", "value": 4.5}, format="json")
    assert response.status_code == 201
    row = Interaction.objects.get()
    assert (row.user, row.item, row.kind, row.value) == (alice, item, "rating", 4.5)
    assert response.json() == {
        "id": row.id,
        "item": item.id,
        "kind": "rating",
        "value": 4.5,
        "timestamp": response.json()["timestamp"],
    }
    assert abs(row.timestamp - timezone.now()) < dt.timedelta(minutes=1)
    assert queued["interactions"] == [1]


def test_rating_again_replaces_the_previous_rating(alice_api, alice, item):
    first = alice_api.post(URL, {"item": item.id, "kind": "rating", "value": 2}, format="json").json()
    second = alice_api.post(URL, {"item": item.id, "kind": "rating", "value": 5}, format="json").json()
    assert first["id"] == second["id"]
    assert list(Interaction.objects.values_list("user", "kind", "value")) == [(alice.id, "rating", 5.0)]


def test_like_defaults_to_one_and_keeps_a_given_timestamp(alice_api, item):
    when = "2024-03-01T12:00:00Z"
    response = alice_api.post(URL, {"item": item.id, "kind": "like", "timestamp": when}, format="json")
    assert response.status_code == 201
    row = Interaction.objects.get()
    assert (row.kind, row.value, row.timestamp) == ("like", 1.0, dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC))


def test_user_in_the_payload_is_ignored(alice_api, alice, bob, item):
    response = alice_api.post(URL, {"item": item.id, "kind": "view", "user": bob.id}, format="json")
    assert response.status_code == 201
    assert list(Interaction.objects.values_list("user", flat=True)) == [alice.id]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"item": 999999, "kind": "like"}, "item"),
        ({"kind": "like"}, "item"),
        ({"item": "ITEM", "kind": "rating", "value": 9}, "value"),
        ({"item": "ITEM", "kind": "rating", "value": 0.4}, "value"),
        ({"item": "ITEM", "kind": "rating"}, "value"),
        ({"item": "ITEM", "kind": "like", "value": -1}, "value"),
        ({"item": "ITEM", "kind": "purchase", "value": 1e300}, "value"),
        ({"item": "ITEM", "kind": "like", "value": "lots"}, "value"),
        ({"item": "ITEM", "kind": "shout"}, "kind"),
        ({"item": "ITEM", "kind": "like", "timestamp": "yesterday"}, "timestamp"),
        ({"item": "RETIRED", "kind": "like"}, "item"),
    ],
)
def test_bad_interactions_are_refused_and_nothing_is_written(alice_api, item, queued, payload, field):
    retired = ItemFactory(is_active=False)
    payload = {**payload}
    if "item" in payload:
        payload["item"] = {"ITEM": item.id, "RETIRED": retired.id}.get(payload["item"], payload["item"])
    response = alice_api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Interaction.objects.count() == 0
    assert queued["interactions"] == []


def test_unknown_and_retired_items_are_explained(alice_api):
    retired = ItemFactory(is_active=False)
    unknown = alice_api.post(URL, {"item": 999999, "kind": "like"}, format="json").json()
    gone = alice_api.post(URL, {"item": retired.id, "kind": "like"}, format="json").json()
    assert (unknown, gone) == (
        {"item": ["No item with id 999999."]},
        {"item": ["This item is no longer available."]},
    )


def test_list_shows_only_my_interactions_newest_first(alice_api, alice, bob):
    now = timezone.now()
    old = InteractionFactory(user=alice, kind="view", timestamp=now - dt.timedelta(days=2))
    new = InteractionFactory(user=alice, kind="rating", value=3, timestamp=now - dt.timedelta(days=1))
    bobs = [InteractionFactory(user=bob, kind="view") for _ in range(3)]
    body = alice_api.get(URL).json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [new.id, old.id]
    assert not {b.id for b in bobs} & {row["id"] for row in body["results"]}


def test_list_filters_by_kind_and_refuses_unknown_kind(alice_api, alice):
    InteractionFactory(user=alice, kind="view")
    like = InteractionFactory(user=alice, kind="like", value=1)
    assert [row["id"] for row in alice_api.get(URL, {"kind": "like"}).json()["results"]] == [like.id]
    response = alice_api.get(URL, {"kind": "shout"})
    assert (response.status_code, list(response.json())) == (400, ["kind"])


def test_list_is_paginated(alice_api, alice):
    item = ItemFactory()
    start = timezone.now() - dt.timedelta(days=1)
    Interaction.objects.bulk_create(
        [Interaction(user=alice, item=item, kind="view", timestamp=start + dt.timedelta(seconds=i)) for i in range(25)]
    )
    body = alice_api.get(URL).json()
    assert (body["count"], len(body["results"])) == (25, 20)
    assert body["next"].endswith("?page=2")


def test_anonymous_cannot_read_or_write_interactions(anon_api, item):
    assert anon_api.get(URL).status_code == 401
    assert anon_api.post(URL, {"item": item.id, "kind": "like"}, format="json").status_code == 401
    assert Interaction.objects.count() == 0


def test_no_way_to_reach_someone_elses_interaction(alice_api, bob):
    theirs = InteractionFactory(user=bob)
    assert alice_api.get(f"{URL}{theirs.id}/").status_code == 404
    assert alice_api.delete(f"{URL}{theirs.id}/").status_code == 404
    assert alice_api.put(f"{URL}{theirs.id}/", {"value": 1}, format="json").status_code == 404
    assert Interaction.objects.filter(pk=theirs.pk, value=4.0).exists()
