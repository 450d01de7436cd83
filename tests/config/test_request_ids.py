"""Every log line names its request; the id is answered in X-Request-ID and carried into queued tasks."""

import io
import json
import logging
import re
from types import SimpleNamespace

from django.http import HttpResponse
from django.test import RequestFactory
from pythonjsonlogger.json import JsonFormatter

from config import request_ids


def _logging_view(request):
    logging.getLogger("recs.test").warning("feed served")
    return HttpResponse("ok")


def _captured(formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(request_ids.RequestIdFilter())
    handler.setFormatter(formatter)
    return stream, handler


def test_a_request_logs_and_answers_the_callers_id_in_json():
    stream, handler = _captured(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    logger = logging.getLogger("recs.test")
    logger.addHandler(handler)
    try:
        middleware = request_ids.RequestIdMiddleware(_logging_view)
        response = middleware(RequestFactory().get("/", headers={"X-Request-ID": "shop-42.a_b"}))
    finally:
        logger.removeHandler(handler)
    assert response["X-Request-ID"] == "shop-42.a_b"
    line = json.loads(stream.getvalue().strip())
    assert line == {"levelname": "WARNING", "name": "recs.test", "request_id": "shop-42.a_b", "message": "feed served"}
    assert request_ids.current.get() == "-"  # nothing leaks past the request


def test_a_missing_or_malformed_id_is_replaced_by_a_new_one():
    middleware = request_ids.RequestIdMiddleware(lambda request: HttpResponse("ok"))
    for header in ({}, {"X-Request-ID": "no spaces allowed"}, {"X-Request-ID": "x" * 65}):
        assert re.fullmatch(r"[0-9a-f]{32}", middleware(RequestFactory().get("/", headers=header))["X-Request-ID"])


def test_the_id_travels_into_a_queued_task_and_back_out():
    token = request_ids.current.set("req-7")
    try:
        headers = {}
        request_ids._carry_into_the_task(headers=headers)
    finally:
        request_ids.current.reset(token)
    assert headers == {"request_id": "req-7"}
    # In the worker: the task's request carries the header; logging inside the task uses it.
    task = SimpleNamespace(request=SimpleNamespace(get=lambda key: headers.get(key)))
    request_ids._take_it_up_in_the_worker(task_id="t1", task=task)
    assert request_ids.current.get() == "req-7"
    request_ids._put_it_down(task_id="t1")
    assert request_ids.current.get() == "-"
    # A periodic task queued by nobody gets an id of its own.
    request_ids._take_it_up_in_the_worker(
        task_id="t2", task=SimpleNamespace(request=SimpleNamespace(get=lambda k: None))
    )
    assert request_ids.current.get() == "task-t2"
    request_ids._put_it_down(task_id="t2")


def test_responses_through_the_stack_carry_the_header(client, db):
    assert client.get("/health/live", headers={"X-Request-ID": "probe-1"})["X-Request-ID"] == "probe-1"
