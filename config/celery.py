"""The Celery app. Embedding and training run on the `gpu` queue, everything else on `default`."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_default_queue="default",
    task_queues=(Queue("default"), Queue("gpu")),
    task_routes={
        "tasks.embed_items": {"queue": "gpu"},
        "tasks.embed_users": {"queue": "gpu"},
        "tasks.retrain_scorer": {"queue": "gpu"},
    },
    # A task is acknowledged only after it finished, and requeued if its worker dies mid-way.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=30 * 60,
    task_soft_time_limit=25 * 60,
    # Publishing must not hang a web request when the broker is down (see tasks.enqueue).
    broker_connection_retry_on_startup=True,
    broker_transport_options={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
    task_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    beat_schedule={
        "sweep-missing-embeddings": {"task": "tasks.sweep", "schedule": 60.0},
        "periodic-retrain": {"task": "tasks.maybe_retrain", "schedule": 300.0},
    },
)
app.autodiscover_tasks(["tasks"])
