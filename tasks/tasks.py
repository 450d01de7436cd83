"""Celery entry points. Thin: ids in, a service call, a small JSON-safe summary out."""

import logging
import uuid

from celery import shared_task
from django.db import OperationalError

from . import enqueue, locks, retrain

logger = logging.getLogger(__name__)

# Only transient database trouble (lost connection, deadlock, lock wait) is worth retrying.
RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
    "reject_on_worker_lost": True,
}
EMBED_LIMITS = {"soft_time_limit": 9 * 60, "time_limit": 10 * 60}
CHECK_LIMITS = {"soft_time_limit": 2 * 60, "time_limit": 3 * 60}


@shared_task(name="tasks.embed_items", **RETRY, **EMBED_LIMITS)
def embed_items(ids):
    """Embed these items where missing or stale."""
    from recommender.embeddings import services

    return services.embed_items(item_ids=ids).as_dict()


@shared_task(name="tasks.embed_users", **RETRY, **EMBED_LIMITS)
def embed_users(ids):
    """Embed these users' profiles where missing or stale."""
    from recommender.embeddings import services

    return services.embed_users(user_ids=ids).as_dict()


@shared_task(name="tasks.sweep", **RETRY, **CHECK_LIMITS)
def sweep():
    """Queue embedding of everything missing or stale, in chunks; then check whether to retrain."""
    from recommender.embeddings import services

    queued = {"items": 0, "users": 0}
    task_for = {"items": enqueue.EMBED_ITEMS, "users": enqueue.EMBED_USERS}

    def dispatch(kind, ids):
        if enqueue.publish(task_for[kind], ids):
            queued[kind] += len(ids)

    services.sweep(batch_size=enqueue.CHUNK_SIZE, dispatch=dispatch)
    queued["retrain"] = maybe_retrain()
    return queued


@shared_task(name="tasks.maybe_retrain", **RETRY, **CHECK_LIMITS)
def maybe_retrain():
    """Queue a retrain if one is due and none is queued or running (the lease is taken here)."""
    if not retrain.retrain_due():
        return "not due"
    owner = f"retrain-{uuid.uuid4().hex}"
    if not locks.claim(name=retrain.LOCK_NAME, owner=owner, lease=retrain.LEASE):
        return "already queued or running"
    if not retrain.publish_retrain(owner):
        locks.release(name=retrain.LOCK_NAME, owner=owner, finished=False)
        return "broker unavailable"
    return "queued"


class LeaseLost(RuntimeError):
    """Another retrain took the lease (this one's renewals failed for longer than the lease)."""


def _noting(owner: str, lost):
    """A training progress callback that keeps the retrain lease's row up to date (the staff page), and
    stops the run at its next phase if the lease was lost, so two retrains never both publish."""

    def progress(phase: str, fraction: float) -> None:
        if lost.is_set():
            raise LeaseLost(f"the retrain lease went to another owner before {phase!r}")
        locks.note(name=retrain.LOCK_NAME, owner=owner, progress=f"{phase} ({fraction:.0%})")

    return progress


@shared_task(name="tasks.retrain_scorer", **RETRY)
def retrain_scorer(owner=None):
    """Train and publish the scorer while holding the retrain lease (claimed here if not handed one)."""
    from recommender.training import train_and_publish

    owner = owner or f"retrain-{uuid.uuid4().hex}"
    if not locks.claim(name=retrain.LOCK_NAME, owner=owner, lease=retrain.RUNNING_LEASE):
        logger.info("Another retrain holds the lease; skipping")
        return "skipped"
    try:
        with locks.renewed(name=retrain.LOCK_NAME, owner=owner, lease=retrain.RUNNING_LEASE) as lost:
            train_and_publish(progress=_noting(owner, lost))
    finally:
        # Stamped even when training failed: the next try waits for new data or the timer, not a loop.
        locks.release(name=retrain.LOCK_NAME, owner=owner, finished=True)
    return "done"
