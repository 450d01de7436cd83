"""Point this process's Celery app at a real broker (or a closed port) for one test."""

from contextlib import contextmanager

from config.celery import app

CLOSED_PORT_URL = "redis://127.0.0.1:6390/0"  # nothing listens here: a broker that is down
# The app reads Django settings under the CELERY_ namespace; those keys win over plain conf names.
KEYS = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")


@contextmanager
def broker_at(url: str):
    """Publish to `url` (not in-process) inside the block; restore the eager default after."""
    saved = {key: app.conf[key] for key in KEYS}
    app.conf.update({"CELERY_BROKER_URL": url, "CELERY_TASK_ALWAYS_EAGER": False})
    app._after_fork()  # drop connections pooled for the previous broker
    try:
        yield app
    finally:
        app.conf.update(saved)
        app._after_fork()
