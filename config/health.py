"""Health checks for load balancers and orchestrators (plain Django views: never throttled).

/health/live: the process answers (no I/O). /health/ready: the database, the cache, the broker and
the live model are usable; a 503 names what is not. Each check runs with a deadline
(HEALTH_CHECK_TIMEOUT), all at once, so a hung dependency costs one deadline.
"""

from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    finally:
        connection.close()  # a pool thread's own connection: never left open


def _cache() -> str:
    client = getattr(cache, "client", None)
    if client is None:  # the in-process cache of the embedded default
        return "ok (local memory)"
    client.get_client().ping()  # straight to Redis: the cache itself fails open and would hide it
    return "ok"


def _broker() -> str:
    from config.celery import app

    if app.conf.task_always_eager:
        return "ok (tasks run in-process)"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_CHECK_TIMEOUT)
    return "ok"


def _model() -> str:
    from recommender.serving import loaded_version_id

    version = loaded_version_id()
    if version is None:
        raise RuntimeError("no model loaded in this process yet")
    return f"ok (version {version})"


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "model": _model}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    futures = {name: _pool.submit(check) for name, check in CHECKS.items()}
    wait(futures.values(), timeout=settings.HEALTH_CHECK_TIMEOUT)
    checks = {}
    for name, future in futures.items():
        if not future.done():
            checks[name] = f"down: no answer within {settings.HEALTH_CHECK_TIMEOUT} s"
        elif future.exception() is not None:
            checks[name] = f"down: {future.exception()}"
        else:
            checks[name] = future.result()
    down = sorted(name for name, state in checks.items() if state.startswith("down"))
    body = {"status": "unavailable" if down else "ok", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)
