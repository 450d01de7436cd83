"""A database that is down or busy answers 503 with Retry-After, not a 500 that reads like a bug.

While the database restarts (or a lock wait times out), every request that needs it fails with an
OperationalError. That is not a defect of the request: the client should retry shortly, and a
retrying client (or a load balancer) needs a status that says so. Errors that mean a bug (an
unknown column, bad SQL) keep their 500.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

from config.views import is_api

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5
# Driver error codes that mean "not reachable right now" or "try again" (MySQL/MariaDB client and
# server codes): can't connect (2002, 2003), gone away or lost mid-query (2006, 2013, 4031),
# too many connections (1040), shutting down (1053), lock wait timeout (1205), deadlock (1213).
TRANSIENT_CODES = {1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013, 4031}
# Other drivers' transient errors carry no code, only a message (SQLite, PostgreSQL).
TRANSIENT_WORDS = (
    "database is locked",
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",  # PostgreSQL (the vectors database) shutting down or restarting
)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable or busy, not that the query is wrong."""
    if isinstance(exc, InterfaceError):  # a connection object that is already closed
        return True
    if not isinstance(exc, OperationalError):
        return False
    code = exc.args[0] if exc.args else None
    if isinstance(code, int):
        return code in TRANSIENT_CODES
    return any(word in str(exc).lower() for word in TRANSIENT_WORDS)


class DatabaseUnavailableMiddleware:
    """Turn a transient database error raised by a view into a 503 with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_transient(exception):
            return None
        logger.warning("Database unavailable, answered 503: %s", exception)
        if is_api(request):
            body = {"detail": "The service is briefly unavailable. Try again in a few seconds."}
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        response._has_been_logged = True  # logged above, once a minute; not once per request by Django
        return response
