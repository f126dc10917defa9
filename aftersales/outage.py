"""What every door answers while the database cannot be reached: 503 with ``Retry-After``.

Under ``/api/`` a problem document (code ``service_unavailable``); elsewhere (admin, upload
forms) a plain page in the reader's language. Neither touches the database (no session, no user,
no admin context), so they can be drawn while it is down. Nothing was written: every change
runs in one transaction, which the failure rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation

from api.problems import database_unavailable_problem, is_api_request

logger = logging.getLogger("aftersales.outage")

# OperationalError: the server is gone, refuses connections, or shut down mid-query (also
# SQLite's "database is locked" past its timeout: a retry is the right answer there too).
# InterfaceError: the connection object itself is closed or broken.
DATABASE_DOWN = (OperationalError, InterfaceError)


def is_database_down(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_DOWN)


def retry_after() -> str:
    return str(settings.OUTAGE_RETRY_AFTER_SECONDS)


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 answer for ``request``, logged once as a warning (no traceback: it is not a bug)."""
    logger.warning(
        "Database unavailable while serving %s %s: %s",
        request.method,
        request.path,
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
    )
    if is_api_request(request):
        response: HttpResponse = database_unavailable_problem(request)
    else:
        # The reader's language from the request itself (cookie, Accept-Language): where the
        # failure is caught, the locale middleware may not have run yet, or already finished.
        with translation.override(translation.get_language_from_request(request)):
            html = loader.get_template("503.html").render(
                {"retry_after": settings.OUTAGE_RETRY_AFTER_SECONDS}
            )
        response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = retry_after()
    response["Cache-Control"] = "no-store"
    return response


def unless_database_down(handler: Any) -> Any:
    """Wrap Django's ``handler500``: an exception raised outside a view (in a middleware: the
    session, the user) reaches it as the current exception; a database outage answers 503."""
    import sys

    def handler500(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        exc = sys.exc_info()[1]
        if exc is not None and is_database_down(exc):
            return outage_response(request, exc)
        return handler(request, *args, **kwargs)

    return handler500
