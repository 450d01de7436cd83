"""Point this process's Celery app at a real broker (or a closed port) for one test."""

import socket
import threading
from contextlib import contextmanager

from config.celery import app
from tasks.enqueue import broker_reset

# The app reads Django settings under the CELERY_ namespace; those keys win over plain conf names.
KEYS = ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")


def closed_port_url() -> str:
    """A redis URL on a port nothing listens on (a broker that is down): bound, noted, then closed."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@contextmanager
def silent_server():
    """A redis URL whose server accepts connections and never answers (a stopped process, a partition):
    a hung broker or a hung cache."""
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # the server socket was closed
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()
        for conn in held:
            conn.close()


@contextmanager
def broker_at(url: str):
    """Publish to `url` (not in-process) inside the block; restore the eager default after."""
    saved = {key: app.conf[key] for key in KEYS}
    app.conf.update({"CELERY_BROKER_URL": url, "CELERY_TASK_ALWAYS_EAGER": False})
    app._after_fork()  # drop connections pooled for the previous broker
    broker_reset()
    try:
        yield app
    finally:
        app.conf.update(saved)
        app._after_fork()
        broker_reset()
