"""When to retrain the scorer: counted from the database, so nothing is lost while the broker is down."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Interaction, Item
from config.celery import VISIBILITY_TIMEOUT_S
from recommender.models import ModelVersion

from . import enqueue, locks

LOCK_NAME = "retrain-scorer"
RETRAIN_TASK = "tasks.retrain_scorer"
# A queued retrain holds the lease this long, so no second retrain is queued while it waits for the
# worker; a message lost with its broker frees it after this.
LEASE = dt.timedelta(minutes=35)
# The retrain's time limit: the last fit's time scaled by how much the data grew since (to the power
# GROWTH_EXPONENT: fits grow faster than linearly today), times SAFETY, plus EMBED_MARGIN for embedding
# what is new, never under the 30 minutes that ML-100K-sized data needs under contention (measured).
# At most the broker's visibility timeout less a margin: Redis hands a message that is still
# unacknowledged after that timeout to another worker, so a longer run would be run twice. Raise
# CELERY_VISIBILITY_TIMEOUT to let retrains run longer.
MIN_TIME_LIMIT_S = 30 * 60
MAX_TIME_LIMIT_S = max(MIN_TIME_LIMIT_S, VISIBILITY_TIMEOUT_S - 5 * 60)
SAFETY, GROWTH_EXPONENT, EMBED_MARGIN_S = 3.0, 1.5, 10 * 60
# A running retrain holds a lease this long, renewed every third of it: a worker killed mid-training
# frees the lease within this, and the next retrain check queues a fresh one.
RUNNING_LEASE = dt.timedelta(minutes=2)


def last_training_at() -> dt.datetime | None:
    """The later of the live model's creation and the last finished retrain (None: never trained)."""
    live = ModelVersion.objects.filter(is_live=True).values_list("created_at", flat=True).first()
    finished = locks.last_finished_at(name=LOCK_NAME)
    return max((t for t in (live, finished) if t is not None), default=None)


def new_rows_since(since: dt.datetime | None) -> int:
    """Users, items and interactions added after `since` (all of them when None)."""
    users, items, interactions = get_user_model().objects.all(), Item.objects.all(), Interaction.objects.all()
    if since is not None:
        users = users.filter(date_joined__gt=since)
        items = items.filter(created_at__gt=since)
        # By when the row arrived, not the event's own time: events sent late (an offline app syncing,
        # a backend replaying its history) are new data for the model all the same.
        interactions = interactions.filter(recorded_at__gt=since)
    return users.count() + items.count() + interactions.count()


def retrain_due(*, now: dt.datetime | None = None) -> bool:
    """RETRAIN_AFTER_N new rows since the last training, or any new row and RETRAIN_AFTER_MINUTES passed."""
    if not settings.AUTO_RETRAIN:
        return False
    since = last_training_at()
    new = new_rows_since(since)
    if new >= settings.RETRAIN_AFTER_N:
        return True
    waited = since is None or (now or timezone.now()) - since >= dt.timedelta(minutes=settings.RETRAIN_AFTER_MINUTES)
    return new > 0 and waited


def time_limit_seconds() -> int:
    """How long the next retrain may run: estimated from the live version's fit, data size now and then."""
    live = ModelVersion.objects.filter(is_live=True).values_list("metrics", flat=True).first() or {}
    fit_s, trained_on = live.get("fit_seconds"), live.get("n_interactions")
    if not fit_s or not trained_on:
        return MIN_TIME_LIMIT_S
    growth = max(1.0, Interaction.objects.count() / trained_on)
    estimate = SAFETY * fit_s * growth**GROWTH_EXPONENT + EMBED_MARGIN_S
    return int(min(MAX_TIME_LIMIT_S, max(MIN_TIME_LIMIT_S, estimate)))


def publish_retrain(*args) -> bool:
    """Queue the retrain task with its estimated hard and soft time limits (False: broker down)."""
    hard = time_limit_seconds()
    return enqueue.publish(RETRAIN_TASK, *args, time_limit=hard, soft_time_limit=hard - 60)
