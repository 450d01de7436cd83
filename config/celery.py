"""The Celery app. Embedding and training run on the `gpu` queue, everything else on `default`.

Start workers with (CELERY_BROKER_URL set, e.g. redis://127.0.0.1:6379/0):
    celery -A config worker -Q gpu -c 1 --prefetch-multiplier=1 -l info      # embeddings, training
    celery -A config worker -Q default -c 2 -l info                          # sweep, retrain checks
    celery -A config beat -l info                                            # the periodic sweep
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Redis re-delivers a message whose worker died (acks_late) once it has been unacknowledged this
# long; it must exceed the longest task (training: task_time_limit), or a running task runs twice.
VISIBILITY_TIMEOUT_S = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))

# Seconds any one socket operation of a publish may take before the broker counts as unavailable.
PUBLISH_TIMEOUT_S = float(os.environ.get("CELERY_PUBLISH_TIMEOUT", "0.5"))

# Seconds between beat's sweeps for missing embeddings and due retrains: the longest a change made
# while the broker was down waits after the broker is back (its own task could not be queued).
SWEEP_INTERVAL_S = float(os.environ.get("CELERY_SWEEP_SECONDS", "60"))

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
    # Nobody reads task results: not storing them also keeps publishing free of backend round trips.
    task_ignore_result=True,
    # Publishing must not hang a web request when the broker is down (see tasks.enqueue).
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=PUBLISH_TIMEOUT_S,
    broker_transport_options={
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        # A hung broker (stopped process, network partition) accepts the connection and never answers:
        # every socket operation has a deadline, so a web request never waits on it for long.
        "socket_connect_timeout": PUBLISH_TIMEOUT_S,
        "socket_timeout": PUBLISH_TIMEOUT_S,
        "visibility_timeout": VISIBILITY_TIMEOUT_S,
    },
    # The worker logs through Django's LOGGING (request ids, LOG_FORMAT), not Celery's own format.
    worker_hijack_root_logger=False,
    task_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    beat_schedule={
        "sweep-missing-embeddings": {"task": "tasks.sweep", "schedule": SWEEP_INTERVAL_S},
        "periodic-retrain": {"task": "tasks.maybe_retrain", "schedule": 300.0},
    },
)
app.autodiscover_tasks(["tasks"])

from config import request_ids  # noqa: E402, F401  (carries the request id into tasks: signal handlers)
