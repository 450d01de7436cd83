"""Request ids: one per web request (the client's X-Request-ID when well-formed, else a new one), in
every log line, in the response's X-Request-ID header, and carried into the Celery tasks it queues."""

import contextvars
import logging
import re
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
current = contextvars.ContextVar("request_id", default="-")
_task_tokens: dict[str, contextvars.Token] = {}


class RequestIdMiddleware:
    """Sets the request id for everything this request does; answers it in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request (or task) id on every record as `request_id` ("-" outside both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True


@before_task_publish.connect(dispatch_uid="config.request_ids.publish")
def _carry_into_the_task(headers=None, **kwargs):
    if headers is not None and current.get() != "-":
        headers.setdefault("request_id", current.get())


@task_prerun.connect(dispatch_uid="config.request_ids.prerun")
def _take_it_up_in_the_worker(task_id=None, task=None, **kwargs):
    # A task queued by a request logs under that request's id; an eager task keeps the caller's; a
    # periodic one gets its own.
    carried = task.request.get("request_id") if task is not None else None
    _task_tokens[task_id] = current.set(carried or (current.get() if current.get() != "-" else f"task-{task_id}"))


@task_postrun.connect(dispatch_uid="config.request_ids.postrun")
def _put_it_down(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        current.reset(token)
