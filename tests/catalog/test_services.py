import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from catalog import services
from catalog.models import Interaction, Item
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_item_create_sets_fields_categories_and_queues_embedding(queued):
    comedy = CategoryFactory(name="Comedy")
    CategoryFactory(name="Drama")
    item = services.item_create(
        external_id="m1", title="Toy Story", year=1995, attributes={"lang": "en"}, categories=[comedy, "drama"]
    )
    item = Item.objects.get(pk=item.pk)
    assert (item.external_id, item.title, item.year, item.attributes, item.is_active) == (
        "m1",
        "Toy Story",
        1995,
        {"lang": "en"},
        True,
    )
    assert sorted(item.categories.values_list("slug", flat=True)) == ["comedy", "drama"]
    assert queued["items"] == [[item.id]]


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"external_id": "dup", "title": "B"}, "external_id"),
        ({"external_id": "m2", "title": ""}, "title"),
        ({"external_id": "m2", "title": "B", "year": 1700}, "year"),
        ({"external_id": "m2", "title": "B", "description": "x" * 5001}, "description"),
        ({"external_id": "m2", "title": "B", "categories": ["no-such-slug"]}, "categories"),
    ],
)
def test_item_create_refuses_bad_input_and_writes_nothing(queued, kwargs, field):
    ItemFactory(external_id="dup", title="A")
    with pytest.raises(ValidationError) as excinfo:
        services.item_create(**kwargs)
    assert list(excinfo.value.message_dict) == [field]
    assert list(Item.objects.values_list("external_id", flat=True)) == ["dup"]
    assert queued["items"] == []


def test_item_update_text_change_queues_and_unchanged_does_not(queued):
    comedy = CategoryFactory(name="Comedy")
    item = ItemFactory(title="Old", year=1990)
    services.item_update(item=item, title="Old", year=1990)
    assert queued["items"] == []
    services.item_update(item=item, title="New", categories=["comedy"])
    item.refresh_from_db()
    assert (item.title, list(item.categories.all())) == ("New", [comedy])
    assert queued["items"] == [[item.id]]


def test_item_update_refuses_duplicate_external_id_and_unknown_fields(queued):
    ItemFactory(external_id="taken")
    item = ItemFactory(external_id="mine", title="Mine")
    with pytest.raises(ValidationError) as excinfo:
        services.item_update(item=item, external_id="taken", title="Changed")
    assert list(excinfo.value.message_dict) == ["external_id"]
    with pytest.raises(TypeError):
        services.item_update(item=item, popularity=3)
    assert Item.objects.filter(external_id="mine", title="Mine").count() == 1
    assert queued["items"] == []


def test_item_deactivate_keeps_row_and_interactions(queued):
    interaction = InteractionFactory()
    services.item_deactivate(item=interaction.item)
    assert Item.objects.get(pk=interaction.item_id).is_active is False
    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert queued["items"] == [[interaction.item_id]]


def test_rating_replaces_previous_rating(alice, queued):
    item = ItemFactory()
    first = services.interaction_record(user=alice, item=item, kind="rating", value=2.0)
    second = services.interaction_record(user=alice, item=item, kind="rating", value=4.5)
    assert first.pk == second.pk
    assert list(Interaction.objects.filter(user=alice).values_list("kind", "value")) == [("rating", 4.5)]
    assert queued["interactions"] == [1, 1]


def test_rating_collapses_duplicate_imported_ratings(alice, queued):
    item = ItemFactory()
    InteractionFactory(user=alice, item=item, value=1.0)
    newest = InteractionFactory(user=alice, item=item, value=2.0)
    recorded = services.interaction_record(user=alice, item=item, kind="rating", value=3.0)
    assert recorded.pk == newest.pk
    assert list(Interaction.objects.filter(user=alice).values_list("id", "value")) == [(newest.pk, 3.0)]


def test_other_kinds_append_with_default_value_and_retry_is_idempotent(alice, queued):
    item = ItemFactory()
    when = timezone.now() - dt.timedelta(hours=1)
    services.interaction_record(user=alice, item=item, kind="view", timestamp=when)
    services.interaction_record(user=alice, item=item, kind="view", timestamp=when)  # same event again
    services.interaction_record(user=alice, item=item, kind="view")
    services.interaction_record(user=alice, item=item, kind="like")
    rows = list(Interaction.objects.filter(user=alice).order_by("id").values_list("kind", "value", "timestamp"))
    assert [(k, v) for k, v, _ in rows] == [("view", 1.0), ("view", 1.0), ("like", 1.0)]
    assert rows[0][2] == when
    assert queued["interactions"] == [1, 1, 1]


@pytest.mark.parametrize(
    "kind,value,field",
    [
        ("rating", 0.0, "value"),
        ("rating", 5.5, "value"),
        ("rating", None, "value"),
        ("rating", float("nan"), "value"),
        ("like", -1.0, "value"),
        ("shout", 1.0, "kind"),
    ],
)
def test_interaction_record_refuses_bad_values(alice, queued, kind, value, field):
    item = ItemFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_record(user=alice, item=item, kind=kind, value=value)
    assert list(excinfo.value.message_dict) == [field]
    assert Interaction.objects.count() == 0
    assert queued["interactions"] == []


def test_interaction_record_refuses_inactive_item_and_naive_or_future_timestamp(alice, queued):
    retired, item = ItemFactory(is_active=False), ItemFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_record(user=alice, item=retired, kind="like")
    assert list(excinfo.value.message_dict) == ["item"]
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_record(user=alice, item=item, kind="like", timestamp=dt.datetime(2020, 1, 1))
    assert list(excinfo.value.message_dict) == ["timestamp"]
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_record(
            user=alice, item=item, kind="like", timestamp=timezone.now() + dt.timedelta(hours=1)
        )
    assert list(excinfo.value.message_dict) == ["timestamp"]
    assert Interaction.objects.count() == 0
    assert queued["interactions"] == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_ratings_of_one_item_leave_one_rating(queued, monkeypatch):
    if connection.vendor != "mysql":
        pytest.skip("needs MySQL row locks; run with DATABASE_URL=mysql://...")
    for name in ("items_changed", "users_changed", "interactions_added"):  # commits are real here: no tasks
        monkeypatch.setattr(f"tasks.enqueue.{name}", lambda *args, **kwargs: None)
    user, item = UserFactory(username="racer"), ItemFactory()
    barrier, errors = threading.Barrier(4), []

    def rate(value):
        try:
            barrier.wait()
            services.interaction_record(user=user, item=item, kind="rating", value=value)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rate, args=(value,)) for value in (1.0, 2.0, 3.0, 4.0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    values = list(Interaction.objects.filter(user=user, item=item).values_list("kind", "value"))
    assert len(values) == 1 and values[0][0] == "rating" and values[0][1] in {1.0, 2.0, 3.0, 4.0}
    assert queued["interactions"] == [1, 1, 1, 1]
