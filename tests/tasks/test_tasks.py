"""Task bodies, the retrain lease and debounce, and the queue/retry configuration."""

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from catalog.services import interaction_record
from config.celery import app
from recommender.models import ItemEmbedding, ModelVersion, TaskLock
from tasks import locks, retrain, tasks
from tests.factories import InteractionFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)
LOCK = retrain.LOCK_NAME


@pytest.fixture
def trained(monkeypatch):
    """Calls of train_and_publish (the scorer itself is someone else's)."""
    calls = []
    monkeypatch.setattr("recommender.training.train_and_publish", lambda **kw: calls.append("trained"))
    return calls


def test_lease_is_exclusive_until_released_or_expired():
    assert locks.claim(name="job", owner="a", lease=HOUR) is True
    assert locks.claim(name="job", owner="b", lease=HOUR) is False
    assert locks.claim(name="job", owner="a", lease=HOUR) is True  # a redelivered task keeps its lease
    assert locks.is_held(name="job") is True
    assert locks.release(name="job", owner="b") is False
    assert TaskLock.objects.get(name="job").owner == "a"
    assert locks.release(name="job", owner="a") is True
    lock = TaskLock.objects.get(name="job")
    assert (lock.owner, lock.expires_at, locks.is_held(name="job")) == ("", None, False)
    assert locks.last_finished_at(name="job") == lock.last_finished_at is not None


def test_lease_of_a_dead_worker_expires():
    assert locks.claim(name="job", owner="dead", lease=dt.timedelta(seconds=-1)) is True
    assert locks.claim(name="job", owner="alive", lease=HOUR) is True
    assert TaskLock.objects.get(name="job").owner == "alive"


def test_new_rows_are_counted_since_the_last_training(settings):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N, settings.RETRAIN_AFTER_MINUTES = True, 3, 60
    alice = UserFactory(username="alice")
    old = timezone.now() - 2 * HOUR
    InteractionFactory(user=alice, item=ItemFactory(), timestamp=old, recorded_at=old)
    assert retrain.last_training_at() is None
    assert retrain.new_rows_since(None) == 3  # alice, the item, the interaction
    assert retrain.retrain_due() is True
    ModelVersion.objects.create(artifact_path="x", artifact_sha256="0" * 64, embedding_model="m", embedding_dim=1)
    live = ModelVersion.objects.get()
    ModelVersion.objects.filter(pk=live.pk).update(is_live=True, created_at=timezone.now() - HOUR)
    assert retrain.last_training_at() == ModelVersion.objects.get().created_at
    assert retrain.new_rows_since(retrain.last_training_at()) == 2  # the interaction was recorded before
    assert retrain.retrain_due() is True  # 2 < 3, but an hour has passed since
    settings.RETRAIN_AFTER_MINUTES = 120
    assert retrain.retrain_due() is False
    ItemFactory()
    assert retrain.retrain_due() is True  # 3 new rows


def test_an_event_sent_late_counts_as_new_data_by_when_it_arrived(settings):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N, settings.RETRAIN_AFTER_MINUTES = True, 2, 600
    item, alice = ItemFactory(), UserFactory()
    TaskLock.objects.create(name=LOCK, last_finished_at=timezone.now())
    assert retrain.new_rows_since(retrain.last_training_at()) == 0
    last_year = timezone.now() - dt.timedelta(days=365)
    interaction_record(user=alice, item=item, kind="view", timestamp=last_year)
    interaction_record(user=alice, item=item, kind="click", timestamp=last_year)
    assert retrain.new_rows_since(retrain.last_training_at()) == 2
    assert retrain.retrain_due() is True


def test_maybe_retrain_queues_one_retrain_and_holds_the_lease(settings, published):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N = True, 1
    ItemFactory()
    assert tasks.maybe_retrain() == "queued"
    owner = TaskLock.objects.get(name=LOCK).owner
    assert published == [("tasks.retrain_scorer", (owner,))]
    assert tasks.maybe_retrain() == "already queued or running"
    assert published == [("tasks.retrain_scorer", (owner,))]


def test_maybe_retrain_gives_the_lease_back_when_the_broker_is_down(settings, monkeypatch):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N = True, 1
    ItemFactory()
    monkeypatch.setattr("tasks.enqueue.publish", lambda *args, **options: False)
    assert tasks.maybe_retrain() == "broker unavailable"
    lock = TaskLock.objects.get(name=LOCK)
    assert (lock.owner, lock.expires_at, lock.last_finished_at) == ("", None, None)


def test_no_automatic_retrain_in_the_embedded_mode(settings, published):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N = False, 1
    ItemFactory()
    assert retrain.retrain_due() is False
    assert tasks.maybe_retrain() == "not due"
    assert published == [] and not TaskLock.objects.exists()


def test_maybe_retrain_not_due(settings, published):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N = True, 10
    TaskLock.objects.create(name=LOCK, last_finished_at=timezone.now())
    ItemFactory()
    assert tasks.maybe_retrain() == "not due"
    assert published == [] and TaskLock.objects.get(name=LOCK).owner == ""


def test_retrain_runs_once_under_its_lease_and_stamps_the_finish(trained):
    assert locks.claim(name=LOCK, owner="queued-by-check", lease=HOUR)
    assert tasks.retrain_scorer("someone-else") == "skipped"
    assert trained == []
    assert tasks.retrain_scorer("queued-by-check") == "done"
    assert trained == ["trained"]
    lock = TaskLock.objects.get(name=LOCK)
    assert (lock.owner, lock.expires_at) == ("", None)
    assert timezone.now() - lock.last_finished_at < dt.timedelta(minutes=1)
    assert tasks.retrain_scorer() == "done" and trained == ["trained", "trained"]


def test_failed_training_still_releases_the_lease(monkeypatch):
    monkeypatch.setattr("recommender.training.train_and_publish", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        tasks.retrain_scorer.run("owner")
    lock = TaskLock.objects.get(name=LOCK)
    assert (lock.owner, lock.expires_at) == ("", None) and lock.last_finished_at is not None


def test_sweep_queues_missing_embeddings_in_chunks_then_checks_retrain(settings, published):
    settings.RETRAIN_AFTER_N = 10_000
    TaskLock.objects.create(name=LOCK, last_finished_at=timezone.now())
    items = [ItemFactory(title=f"Film {n}") for n in range(3)]
    assert tasks.sweep() == {"items": 3, "users": 0, "retrain": "not due"}
    assert published == [("tasks.embed_items", ([item.id for item in items],))]


def test_embed_task_runs_in_process_without_a_broker():
    item = ItemFactory(title="Toy Story", year=1995)
    result = tasks.embed_items.delay([item.id, 424242])
    assert result.get() == {"embedded": 1, "unchanged": 0, "missing": 1, "removed": 0}
    assert ItemEmbedding.objects.filter(item=item).count() == 1


def test_queues_and_retry_policy():
    route = app.amqp.router.route
    queues = {name: route({}, name)["queue"].name for name in sorted(app.tasks) if name.startswith("tasks.")}
    assert queues == {
        "tasks.embed_items": "gpu",
        "tasks.embed_users": "gpu",
        "tasks.maybe_retrain": "default",
        "tasks.retrain_scorer": "gpu",
        "tasks.sweep": "default",
    }
    for task in (tasks.embed_items, tasks.embed_users, tasks.sweep, tasks.maybe_retrain, tasks.retrain_scorer):
        assert (task.autoretry_for, task.acks_late, task.reject_on_worker_lost) == ((OperationalError,), True, True)
    assert (tasks.embed_items.time_limit, tasks.retrain_scorer.time_limit) == (600, None)  # None: the app's 30 min
    assert (app.conf.worker_prefetch_multiplier, app.conf.task_time_limit) == (1, 1800)


def test_changing_a_rating_counts_as_new_data(settings):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N, settings.RETRAIN_AFTER_MINUTES = True, 1, 600
    alice, item = UserFactory(), ItemFactory()
    interaction_record(user=alice, item=item, kind="rating", value=3)
    TaskLock.objects.create(name=LOCK, last_finished_at=timezone.now())
    assert retrain.new_rows_since(retrain.last_training_at()) == 0
    interaction_record(user=alice, item=item, kind="rating", value=5, timestamp=timezone.now() - HOUR)
    assert retrain.new_rows_since(retrain.last_training_at()) == 1 and retrain.retrain_due() is True
