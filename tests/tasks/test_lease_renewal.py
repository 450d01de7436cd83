"""A running retrain: its short lease is renewed while it runs and frees itself soon after its worker
dies; its phase is noted on the lease; its time limit is estimated from the last fit."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from config.celery import VISIBILITY_TIMEOUT_S
from recommender.models import ModelVersion, TaskLock
from tasks import locks, retrain, tasks
from tests.factories import InteractionFactory, ItemFactory, UserFactory

LEASE = dt.timedelta(seconds=0.6)


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_lease_is_renewed_while_the_block_runs_and_expires_after_it():
    assert locks.claim(name="job", owner="worker-a", lease=LEASE)
    first_expiry = TaskLock.objects.get(name="job").expires_at
    with locks.renewed(name="job", owner="worker-a", lease=LEASE):
        wait_until(lambda: timezone.now() > first_expiry + 2 * LEASE)  # well past the first expiry
        assert locks.claim(name="job", owner="worker-b", lease=LEASE) is False
        assert TaskLock.objects.get(name="job").owner == "worker-a"
    # No release: as if the worker died right here. Nothing renews it any more, so it frees itself.
    wait_until(lambda: not locks.is_held(name="job"), seconds=5 * LEASE.total_seconds())
    assert locks.claim(name="job", owner="worker-b", lease=LEASE) is True


@pytest.mark.django_db
def test_a_running_retrain_holds_the_short_lease_not_the_queued_one(monkeypatch):
    held = []

    def train(progress):
        lock = TaskLock.objects.get(name=retrain.LOCK_NAME)
        held.append((lock.owner, lock.expires_at - timezone.now()))

    monkeypatch.setattr("recommender.training.train_and_publish", train)
    assert locks.claim(name=retrain.LOCK_NAME, owner="queued", lease=retrain.LEASE)
    assert tasks.retrain_scorer("queued") == "done"
    ((owner, left),) = held
    assert owner == "queued" and dt.timedelta(0) < left <= retrain.RUNNING_LEASE


@pytest.mark.django_db
def test_a_running_retrain_notes_its_phase_on_the_lease_and_clears_it_after(monkeypatch, admin_client):
    seen = []

    def train(progress):
        progress("fitting: cold-start validation fold 2 of 3", 0.5)
        seen.append(TaskLock.objects.get(name=retrain.LOCK_NAME).progress)
        seen.append(admin_client.get("/staff/").content.decode())

    monkeypatch.setattr("recommender.training.train_and_publish", train)
    assert tasks.retrain_scorer("owner") == "done"
    assert seen[0] == "fitting: cold-start validation fold 2 of 3 (50%)"
    assert "now: fitting: cold-start validation fold 2 of 3 (50%)" in seen[1]
    assert TaskLock.objects.get(name=retrain.LOCK_NAME).progress == ""


def _live(metrics: dict) -> None:
    version = ModelVersion.objects.create(
        artifact_path="x", artifact_sha256="0" * 64, embedding_model="m", embedding_dim=1, metrics=metrics
    )
    trained_at = timezone.now() - dt.timedelta(hours=1)
    ModelVersion.objects.filter(pk=version.pk).update(is_live=True, created_at=trained_at)


@pytest.mark.django_db
def test_a_retrains_time_limit_is_estimated_from_the_last_fit_and_the_data_growth(settings, published):
    settings.AUTO_RETRAIN, settings.RETRAIN_AFTER_N = True, 1
    assert retrain.time_limit_seconds() == retrain.MIN_TIME_LIMIT_S  # nothing trained yet
    _live({"fit_seconds": 100.0, "n_interactions": 1})  # 4 interactions now: the data grew 4x
    items, users = ItemFactory.create_batch(2), UserFactory.create_batch(2)
    for user in users:
        for item in items:
            InteractionFactory(user=user, item=item)
    expected = int(3.0 * 100.0 * 4**1.5 + 600)  # 3,000 s
    assert retrain.time_limit_seconds() == expected
    assert tasks.maybe_retrain() == "queued"
    assert published.options == [{"time_limit": expected, "soft_time_limit": expected - 60}]


@pytest.mark.django_db
def test_a_small_fit_keeps_the_minimum_time_limit():
    _live({"fit_seconds": 60.0, "n_interactions": 100_000})
    assert retrain.time_limit_seconds() == retrain.MIN_TIME_LIMIT_S


@pytest.mark.django_db
def test_the_time_limit_stays_under_the_brokers_visibility_timeout():
    _live({"fit_seconds": 3000.0, "n_interactions": 1})  # an estimate of hours
    InteractionFactory()
    assert retrain.time_limit_seconds() == retrain.MAX_TIME_LIMIT_S == VISIBILITY_TIMEOUT_S - 300


@pytest.mark.django_db(transaction=True)
def test_a_retrain_whose_lease_was_taken_stops_before_publishing(monkeypatch):
    published = []
    monkeypatch.setattr(retrain, "RUNNING_LEASE", LEASE)

    def train(progress):
        progress("reading the interactions", 0.0)
        # The renewals failed for longer than the lease and another retrain took it over.
        taken = timezone.now() + dt.timedelta(hours=1)
        TaskLock.objects.filter(name=retrain.LOCK_NAME).update(owner="another", expires_at=taken)

        def noticed():
            try:
                progress("fitting", 0.5)
            except tasks.LeaseLost:
                return True
            return False

        wait_until(noticed)  # the next renewal finds the lease taken
        progress("saving and publishing", 0.95)
        published.append("published")

    monkeypatch.setattr("recommender.training.train_and_publish", train)
    with pytest.raises(tasks.LeaseLost):
        tasks.retrain_scorer.run("mine")
    assert published == []
    assert TaskLock.objects.get(name=retrain.LOCK_NAME).owner == "another"  # its lease was left alone
