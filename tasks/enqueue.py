"""The one place that queues background work. Everything is queued after the transaction commits.

Callers pass ids only. Ids queued during one transaction are collected in a single on-commit
callback and published once, sorted and in chunks of CHUNK_SIZE, so importing 1,000 items in one
transaction sends ceil(1000 / 256) = 4 embedding tasks, not 1,000. Publishing never raises because
the broker is down and gives up fast (no retries, short connect timeout): the row is already
committed, and the periodic sweep finds the missing work in the database once the broker is back.
Every socket operation of a publish has a deadline (`CELERY_PUBLISH_TIMEOUT`, config/celery.py), and
after a failure this process skips publishing for BROKER_RETRY_AFTER_S, so a hung broker costs at
most one deadline (and one warning in the log) per process and interval, not one per task of every
request.
"""

import logging
import threading
import time
from collections.abc import Iterable

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

CHUNK_SIZE = 256
EMBED_ITEMS = "tasks.embed_items"
EMBED_USERS = "tasks.embed_users"
MAYBE_RETRAIN = "tasks.maybe_retrain"
BROKER_RETRY_AFTER_S = 5.0
_broker = {"down_until": 0.0}  # monotonic time before which publishing is skipped
_broker_lock = threading.Lock()


def broker_reset() -> None:
    """Forget an earlier broker failure (tests; a process that knows the broker is back)."""
    with _broker_lock:
        _broker["down_until"] = 0.0


def items_changed(item_ids) -> None:
    """Queue embedding (and the retrain counter) for these item ids once the transaction commits."""
    _queue(EMBED_ITEMS, item_ids)


def users_changed(user_ids) -> None:
    """Queue profile embedding for these user ids once the transaction commits."""
    _queue(EMBED_USERS, user_ids)


def interactions_added(count: int = 1) -> None:
    """Note new interactions; may queue a (debounced) retrain once the transaction commits."""
    if count > 0:
        _queue(MAYBE_RETRAIN, ())


def publish(task_name: str, *args, **options) -> bool:
    """Send one task now (in-process when no broker is configured); False, logged, if the broker is down.

    `options` go to `apply_async` (e.g. `time_limit`)."""
    from config.celery import app
    from tasks import tasks  # noqa: F401  (registers the task names)

    if not app.conf.task_always_eager:
        with _broker_lock:
            wait = _broker["down_until"] - time.monotonic()
        if wait > 0:
            # At debug level: the failure that opened this window was a warning already (one per window).
            reason = f"it failed less than {BROKER_RETRY_AFTER_S:.0f} s ago, next try in {wait:.1f} s"
            logger.debug("Broker unavailable, %s%s not queued (the sweep will catch up): %s", task_name, args, reason)
            return False
    try:
        app.tasks[task_name].apply_async(args=args, retry=False, **options)
    except (BrokerError, OSError) as exc:
        with _broker_lock:
            _broker["down_until"] = time.monotonic() + BROKER_RETRY_AFTER_S
        logger.warning("Broker unavailable, %s%s not queued (the sweep will catch up): %s", task_name, args, exc)
        return False
    return True


def publish_in_chunks(task_name: str, ids: Iterable[int]) -> int:
    """Publish `task_name` over sorted `ids` in chunks of CHUNK_SIZE; returns how many were sent."""
    ordered = sorted(set(ids))
    chunks = [ordered[i : i + CHUNK_SIZE] for i in range(0, len(ordered), CHUNK_SIZE)]
    return sum(publish(task_name, chunk) for chunk in chunks)


class _PendingWork:
    """What one transaction queued; registered once with on_commit, publishes it all when called."""

    def __init__(self):
        self.__qualname__ = "tasks.enqueue._PendingWork"  # on_commit(robust=True) logs failures by it
        self.ids = {EMBED_ITEMS: set(), EMBED_USERS: set()}
        self.retrain_check = False
        self.done = False

    def add(self, task_name: str, ids) -> None:
        if task_name == MAYBE_RETRAIN:
            self.retrain_check = True
        else:
            self.ids[task_name].update(int(pk) for pk in ids if pk is not None)
            self.retrain_check = self.retrain_check or bool(self.ids[task_name])

    def __call__(self):
        self.done = True
        for task_name, ids in self.ids.items():
            publish_in_chunks(task_name, ids)
        if self.retrain_check:  # after the embeddings, so an eager run sees them
            publish(MAYBE_RETRAIN)


def _open_pending() -> _PendingWork | None:
    """The not-yet-run collector of the current transaction, if one is still registered.

    Looking it up in connection.run_on_commit (instead of a thread-local) keeps Django's savepoint
    semantics: a rolled-back savepoint discards the collector registered inside it, and the next
    change registers a fresh one.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for _, callback, _ in connection.run_on_commit:
        if isinstance(callback, _PendingWork) and not callback.done:
            return callback
    return None


def _queue(task_name: str, ids) -> None:
    pending = _open_pending()
    if pending is not None:
        pending.add(task_name, ids)
        return
    pending = _PendingWork()
    pending.add(task_name, ids)
    # robust: a failure while publishing (or while running eagerly) is logged, never undoes the commit.
    transaction.on_commit(pending, robust=True)
