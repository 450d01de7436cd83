"""Real Redis, a real `celery -A config worker` subprocess and MySQL: what the worker does, and survives.

Run with DATABASE_URL=mysql://root@127.0.0.1:3306/<name> and Redis on 127.0.0.1:6379 (db 11 by default).
"""

import time

import numpy as np
import pytest

from catalog.models import Interaction, Item
from recommender.embeddings import selectors
from recommender.models import ItemEmbedding, TaskLock
from tasks import enqueue, retrain
from tests.factories import ItemFactory, UserFactory
from tests.tasks.broker import broker_at, closed_port_url

from .workers import VISIBILITY_TIMEOUT_S, broker, queues_idle, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

MODEL = "all-MiniLM-L6-v2"
ITEMS = "/api/items/"


def current_vector(item_id: int):
    ids, vectors = selectors.item_vectors(item_ids=[item_id])
    return vectors[0] if len(ids) else None


def test_item_created_through_the_api_is_embedded_by_the_worker(live, staff_api):
    response = staff_api.post(ITEMS, {"external_id": "tt1", "title": "Toy Story", "year": 1995}, format="json")
    assert response.status_code == 201
    item_id = response.json()["id"]

    vector = wait_for(lambda: current_vector(item_id), timeout=30, what="the embedding", worker=live)
    row = ItemEmbedding.objects.get(item_id=item_id)
    assert (row.model_name, row.dim, row.text_hash) == (MODEL, 384, selectors.text_hash("Toy Story. 1995."))
    assert vector.dtype == np.float32 and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    # The vector is committed inside the task; the worker logs "succeeded" only after the task returns.
    succeeded = lambda: live.task_ids("tasks.embed_items", "succeeded")  # noqa: E731
    wait_for(succeeded, timeout=30, what="the task's success", worker=live)


def test_changed_text_gets_a_new_vector_and_the_old_one_is_not_used(live, staff_api):
    item_id = staff_api.post(ITEMS, {"external_id": "tt2", "title": "Heat"}, format="json").json()["id"]
    old = wait_for(lambda: current_vector(item_id), timeout=30, what="the first embedding")
    old_hash = ItemEmbedding.objects.get(item_id=item_id).text_hash

    # An update that sends no signal, so the stale state can be looked at before the worker fixes it.
    Item.objects.filter(pk=item_id).update(description="A cop hunts a master thief.")
    assert ItemEmbedding.objects.get(item_id=item_id).text_hash == old_hash
    assert current_vector(item_id) is None and selectors.stale_item_ids() == [item_id]

    enqueue.items_changed([item_id])
    new = wait_for(lambda: current_vector(item_id), timeout=30, what="the new embedding")
    assert ItemEmbedding.objects.filter(item_id=item_id).count() == 1
    assert ItemEmbedding.objects.get(item_id=item_id).text_hash == selectors.text_hash(
        "Heat. A cop hunts a master thief."
    )
    assert float(np.dot(old, new)) < 0.99


def test_a_worker_killed_mid_task_leaves_the_work_to_the_next_worker(live, worker):
    description = " ".join(f"Plot sentence number {n} about heists, chases and betrayals." for n in range(10))
    items = Item.objects.bulk_create(
        Item(external_id=f"long-{n}", title=f"Long film {n}", description=description) for n in range(300)
    )
    log_start = len(worker.log())
    enqueue.items_changed([item.id for item in items])  # what an importer does after bulk_create

    encoding = lambda: "Embedding 256 item texts" in worker.log()[log_start:]  # noqa: E731
    wait_for(encoding, timeout=30, what="a task to start encoding", worker=worker, interval=0.05)
    first = worker.task_ids("tasks.embed_items", "received", since=log_start)[0]
    worker.kill9()  # mid-task: encoding 256 texts of ~130 tokens takes seconds on two CPU cores
    assert worker.task_ids("tasks.embed_items", "succeeded", since=log_start) == []
    assert ItemEmbedding.objects.count() == 0
    assert broker().hlen("unacked") >= 1  # delivered, never acknowledged: Redis still holds it

    # A worker starting once the visibility timeout has passed takes the unacknowledged message back.
    time.sleep(VISIBILITY_TIMEOUT_S + 1)
    worker.start()
    wait_for(lambda: ItemEmbedding.objects.count() == 300, timeout=90, what="all 300", worker=worker)
    ran_again = lambda: first in worker.task_ids("tasks.embed_items", "succeeded")  # noqa: E731
    wait_for(ran_again, timeout=30, what="the killed task to run again, to the end", worker=worker)
    assert selectors.stale_item_ids() == []


def test_broker_down_interactions_are_accepted_and_processed_once_it_is_back(live, staff_api, alice_api):
    films = [ItemFactory(title=f"Film {n}") for n in range(3)]  # the first rows ever: a first training
    wait_for(lambda: ItemEmbedding.objects.count() == 3, timeout=30, what="the films' embeddings")
    wait_for(lambda: TaskLock.objects.filter(last_finished_at__isnull=False).exists(), timeout=30, what="retrain")
    wait_for(queues_idle, timeout=30, what="the worker to be idle")
    trained_at = TaskLock.objects.get(name=retrain.LOCK_NAME).last_finished_at

    with broker_at(closed_port_url()):
        for film in films:
            started = time.monotonic()
            response = alice_api.post("/api/interactions/", {"item": film.id, "kind": "like"}, format="json")
            assert response.status_code == 201 and time.monotonic() - started < 2.0
        new_film = staff_api.post(ITEMS, {"external_id": "late", "title": "Alien"}, format="json").json()["id"]
        UserFactory(username="newcomer")
    assert Interaction.objects.filter(kind="like").count() == 3
    time.sleep(2)
    assert not ItemEmbedding.objects.filter(item_id=new_film).exists()  # nothing reached the worker
    assert TaskLock.objects.get(name=retrain.LOCK_NAME).last_finished_at == trained_at

    # The broker is back: the periodic sweep (sent here as beat would) finds the work in the database.
    assert enqueue.publish("tasks.sweep") is True
    wait_for(lambda: current_vector(new_film) is not None, timeout=30, what="the late item's embedding")
    wait_for(
        lambda: TaskLock.objects.get(name=retrain.LOCK_NAME).last_finished_at > trained_at,
        timeout=30,
        what="the retrain over the new rows",
        worker=live,
    )
