"""gunicorn settings of the production stack (Procfile `web`, `make stack`):
`gunicorn -c config/gunicorn.py config.wsgi`. Every value can be set from the environment."""

import os

# Each worker scores requests on one core: the workers are the parallelism, and BLAS/torch thread
# pools on top of them would fight over the same cores (2 workers x 2 threads on 2 cores measured
# ~2x slower under load). Set before the workers import numpy and torch; the environment wins.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, os.environ.get("WEB_THREADS_PER_WORKER", "1"))

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# A request still running after this many seconds is killed (and logged) instead of holding a worker.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Workers are replaced after this many requests (plus jitter, so not all at once): bounded memory.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"

# The app, the encoder and the live model are loaded once, in the master, and the workers are forked
# from it: a worker started later (recycled after max_requests, or replacing a crashed one) serves at
# once and shares the model's memory. Loading in each worker instead cost ~7 s per new worker during
# which its requests waited; two recycled together stopped the site that long (bench/faults.py).
preload_app = True
_warm_up = os.environ.get("PRELOAD_MODELS", "1") not in ("", "0", "false", "False")
# No warm-up thread in config.wsgi: a fork while it is loading would copy a half-loaded model and a
# held lock into the worker. The master warms up synchronously, before it forks, instead.
os.environ["PRELOAD_MODELS"] = "0"
# The web embeds one profile at a time, on CPU: CUDA initialised in the master cannot be used by the
# workers forked from it. Set EMBEDDING_DEVICE explicitly to override.
os.environ.setdefault("EMBEDDING_DEVICE", "cpu")


def when_ready(server):
    """In the master, after the app is imported and before any worker is forked."""
    if _warm_up:
        from config.wsgi import warm_up

        warm_up()


def pre_fork(server, worker):
    """In the master, before each worker is forked: bring the live model up to date (a retrain since
    start), so a recycled worker starts with the current model too instead of loading it in a request."""
    if _warm_up:
        from django.db import connections

        from recommender.serving import serving_state

        try:
            serving_state()
        except Exception:  # noqa: BLE001 — the worker then loads the model on first use, as without preload
            server.log.exception("could not refresh the live model before forking a worker")
        finally:
            connections.close_all()
