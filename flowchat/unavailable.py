"""The database cannot be reached: 503 with Retry-After, never a bare 500.

PostgreSQL down or restarting, or every pooled connection busy for DATABASE_POOL_TIMEOUT
(psycopg_pool.PoolTimeout, which Django raises as an OperationalError): the request may work
again in a moment, so it says so. Scripts get JSON `{"detail"}`, people a page (503.html)
that needs neither the session nor the database. Three places answer it: the middleware below
for failures in a view, flowchat.api's `api_view` for the API, and the 500 handler for
failures in other middleware (the session, the signed-in person).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.log import log_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
API_DETAIL = "The service is unavailable for a moment. Try again in a few seconds."

try:
    # PoolTimeout is a psycopg.OperationalError; Django re-raises both as its own OperationalError.
    import psycopg
except ImportError:  # SQLite only
    UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
else:
    UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc`, or what caused it, says the database could not be reached or used just now."""
    for _ in range(10):  # a cause chain is short; never loop for ever on a cyclic one
        if exc is None:
            return False
        if isinstance(exc, UNAVAILABLE):
            return True
        exc = exc.__cause__
    return False


def is_api(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def unavailable_response(request: HttpRequest) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if is_api(request):
        return JsonResponse({"detail": API_DETAIL}, status=503, headers=headers)
    # No request context: the context processors would read the session, which lives in the database.
    return HttpResponse(render_to_string("503.html"), status=503, headers=headers)


def answer_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503, logged once on one line: the cause, not a traceback per request."""
    response = unavailable_response(request)
    log_response("Database unavailable (%s): %s", exc, request.path, response=response, request=request)
    return response


class DatabaseUnavailable:
    """Middleware: a view that fails because the database is unreachable answers 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return answer_unavailable(request, exception)
        return None
