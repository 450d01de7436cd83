"""tasks.enqueue: one on-commit collector per transaction, chunked publishing, never raising."""

import logging
import time

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import Profile
from catalog.models import Interaction, Item
from tasks import enqueue
from tests.factories import CategoryFactory, InteractionFactory, ItemFactory, UserFactory
from tests.tasks.broker import broker_at, closed_port_url, silent_server

pytestmark = pytest.mark.django_db
EMBED_ITEMS, EMBED_USERS, RETRAIN = "tasks.embed_items", "tasks.embed_users", "tasks.maybe_retrain"


def test_a_thousand_items_in_one_transaction_send_four_embedding_tasks(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        items = [ItemFactory(title=f"Film {n}") for n in range(1000)]
        assert published == []  # nothing leaves before the commit
    ids = sorted(item.id for item in items)
    assert sum(isinstance(callback, enqueue._PendingWork) for callback in callbacks) == 1
    assert published == [
        (EMBED_ITEMS, (ids[0:256],)),
        (EMBED_ITEMS, (ids[256:512],)),
        (EMBED_ITEMS, (ids[512:768],)),
        (EMBED_ITEMS, (ids[768:1000],)),
        (RETRAIN, ()),
    ]


def test_bulk_import_calls_coalesce_with_signals(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        created = Item.objects.bulk_create(Item(external_id=f"x{n}", title=f"X {n}") for n in range(300))
        enqueue.items_changed([item.id for item in created])
        enqueue.items_changed([created[0].id, None])
        enqueue.interactions_added(300)
    ids = sorted(item.id for item in created)
    assert published == [(EMBED_ITEMS, (ids[:256],)), (EMBED_ITEMS, (ids[256:],)), (RETRAIN, ())]


def test_rolled_back_savepoint_discards_its_work_and_later_changes_still_go(
    published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            ItemFactory(title="Rolled back")
            raise RuntimeError
        kept = ItemFactory(title="Kept")
    assert published == [(EMBED_ITEMS, ([kept.id],)), (RETRAIN, ())]
    assert list(Item.objects.values_list("title", flat=True)) == ["Kept"]


def test_signals_hand_off_ids(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # run (and forget) the setup's own hand-offs
        comedy = CategoryFactory(name="Comedy")
        item, user = ItemFactory(), UserFactory(username="carol")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item.categories.add(comedy)
    with django_capture_on_commit_callbacks(execute=True):
        comedy.items.remove(item)  # the reverse side: the category's pk_set names items
    with django_capture_on_commit_callbacks(execute=True):
        Profile.objects.get(user=user).interests.add(comedy)
    with django_capture_on_commit_callbacks(execute=True):
        comedy.interested_profiles.remove(user.profile)  # reverse: profile ids become user ids
    with django_capture_on_commit_callbacks(execute=True):
        InteractionFactory(user=user, item=item)
    with django_capture_on_commit_callbacks(execute=True):
        Interaction.objects.filter(user=user).update(value=2.0)  # no signal: not a new interaction
    assert published == [
        (EMBED_ITEMS, ([item.id],)),
        (RETRAIN, ()),
        (EMBED_ITEMS, ([item.id],)),
        (RETRAIN, ()),
        (EMBED_USERS, ([user.id],)),
        (RETRAIN, ()),
        (EMBED_USERS, ([user.id],)),
        (RETRAIN, ()),
        (RETRAIN, ()),
    ]


def test_nothing_is_published_when_the_transaction_rolls_back(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        ItemFactory()
        raise RuntimeError
    assert published == [] and Item.objects.count() == 0


def test_broker_down_publishing_fails_fast_and_does_not_raise(caplog):
    with broker_at(closed_port_url()), caplog.at_level(logging.DEBUG, logger="tasks.enqueue"):
        started = time.monotonic()
        assert enqueue.publish(EMBED_ITEMS, [1, 2]) is False
        assert enqueue.publish_in_chunks(EMBED_USERS, range(600)) == 0
        elapsed = time.monotonic() - started
    assert elapsed < 5.0
    # One warning for the failure; the chunks after it are skipped for a while, at debug level.
    assert [(r.levelname, r.getMessage().split(" not queued")[0]) for r in caplog.records] == [
        ("WARNING", "Broker unavailable, tasks.embed_items([1, 2],)"),
        ("DEBUG", f"Broker unavailable, tasks.embed_users({list(range(256))},)"),
        ("DEBUG", f"Broker unavailable, tasks.embed_users({list(range(256, 512))},)"),
        ("DEBUG", f"Broker unavailable, tasks.embed_users({list(range(512, 600))},)"),
    ]


def test_a_hung_broker_costs_one_deadline_then_publishing_is_skipped_for_a_while(caplog):
    with silent_server() as url, broker_at(url), caplog.at_level(logging.DEBUG, logger="tasks.enqueue"):
        started = time.monotonic()
        assert enqueue.publish(EMBED_ITEMS, [1]) is False
        first = time.monotonic() - started
        assert enqueue.publish(EMBED_USERS, [2]) is False and enqueue.publish(RETRAIN) is False
        rest = time.monotonic() - started - first
    assert first < 2.0 and rest < 0.1  # the deadline is 0.5 s; the skipped ones never touch the socket
    reasons = [(r.levelname, r.getMessage().split(": ", 1)[1].split(",")[0]) for r in caplog.records]
    assert reasons == [("WARNING", "Timeout reading from socket")] + [("DEBUG", "it failed less than 5 s ago")] * 2


@pytest.mark.django_db(transaction=True)
def test_interaction_is_accepted_while_the_broker_hangs(caplog):
    # No test transaction around the request: its commit publishes inside the request, as in production.
    client = APIClient()
    with broker_at(closed_port_url()):  # the set-up's own publishes fail at once
        item = ItemFactory(title="Toy Story")
        client.force_authenticate(UserFactory(username="alice"))
        client.get("/api/me/")  # the first request imports the URLconf and the views
    caplog.clear()
    with silent_server() as url, broker_at(url), caplog.at_level(logging.WARNING, logger="tasks.enqueue"):
        started = time.monotonic()
        response = client.post("/api/interactions/", {"item": item.id, "kind": "like"}, format="json")
        elapsed = time.monotonic() - started
    assert response.status_code == 201 and elapsed < 2.0  # one 0.5 s deadline, not the broker's whim
    assert [r.getMessage().split(" not queued")[0] for r in caplog.records] == [
        "Broker unavailable, tasks.maybe_retrain()"
    ]
    assert list(Interaction.objects.values_list("item_id", "kind")) == [(item.id, "like")]


def test_interaction_is_accepted_while_the_broker_is_down(alice_api, django_capture_on_commit_callbacks):
    item = ItemFactory(title="Toy Story")
    with broker_at(closed_port_url()), django_capture_on_commit_callbacks(execute=True):
        started = time.monotonic()
        response = alice_api.post("/api/interactions/", {"item": item.id, "kind": "like"}, format="json")
        elapsed = time.monotonic() - started
    assert response.status_code == 201 and elapsed < 5.0
    assert list(Interaction.objects.values_list("item_id", "kind")) == [(item.id, "like")]
