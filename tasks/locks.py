"""Named leases in recommender.models.TaskLock, claimed with a conditional UPDATE.

A lease expires, so work locked by a worker that died is picked up again after `lease`.
Whoever holds a lease may claim it again (a task redelivered after its worker died keeps its owner).
"""

import datetime as dt
import logging
import threading
from contextlib import contextmanager

from django.db import DatabaseError, connections
from django.db.models import Q
from django.utils import timezone

from recommender.models import TaskLock

logger = logging.getLogger(__name__)


def claim(*, name: str, owner: str, lease: dt.timedelta) -> bool:
    """Take the lease `name` for `owner` until now + `lease`; False if someone else holds it."""
    TaskLock.objects.get_or_create(name=name)
    now = timezone.now()
    free = Q(expires_at__isnull=True) | Q(expires_at__lte=now) | Q(owner=owner)
    return TaskLock.objects.filter(free, name=name).update(owner=owner, expires_at=now + lease) == 1


def release(*, name: str, owner: str, finished: bool = True) -> bool:
    """Give the lease back (stamping last_finished_at when `finished`); False if `owner` lost it."""
    fields = {"owner": "", "expires_at": None, "progress": ""}
    if finished:
        fields["last_finished_at"] = timezone.now()
    return TaskLock.objects.filter(name=name, owner=owner).update(**fields) == 1


def note(*, name: str, owner: str, progress: str) -> None:
    """Record what the holder of `name` is doing now; never fails the work it describes."""
    try:
        TaskLock.objects.filter(name=name, owner=owner).update(progress=progress[:200])
    except DatabaseError as exc:
        logger.warning("Could not note the progress of %s: %s", name, exc)


def is_held(*, name: str) -> bool:
    """Whether an unexpired lease on `name` exists."""
    return TaskLock.objects.filter(name=name, expires_at__gt=timezone.now()).exists()


def last_finished_at(*, name: str) -> dt.datetime | None:
    """When work under `name` last finished (None: never)."""
    return TaskLock.objects.filter(name=name).values_list("last_finished_at", flat=True).first()


@contextmanager
def renewed(*, name: str, owner: str, lease: dt.timedelta):
    """Hold `name` for `owner` while the block runs, renewing it every third of `lease`; yields an Event
    set once the lease was lost to another owner (the work should stop before it publishes anything).

    A short lease renewed by a live worker frees itself soon after that worker dies (`kill -9`, a
    lost machine), instead of blocking the work for as long as the longest run could take.
    """
    stop, lost = threading.Event(), threading.Event()

    def renew():
        try:
            while not stop.wait(lease.total_seconds() / 3):
                try:
                    if not claim(name=name, owner=owner, lease=lease):
                        logger.warning("Lost the lease %s to another owner while running", name)
                        lost.set()
                        return
                except DatabaseError as exc:  # the database briefly away: the next renewal tries again
                    logger.warning("Could not renew the lease %s: %s", name, exc)
                    connections.close_all()
        except Exception:  # noqa: BLE001 — logged; the lease then expires as if the worker had died
            logger.exception("The renewal of the lease %s stopped", name)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        stop.set()
        thread.join(timeout=lease.total_seconds())  # a renewal stuck on a hung database is not waited for
