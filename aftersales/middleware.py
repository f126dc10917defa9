"""Project-wide middleware: request ids, the Content-Security-Policy, database outages."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .logs import request_id_from, request_id_var
from .outage import is_database_down, outage_response

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Give the request an id (the caller's ``X-Request-ID`` if sane, else a new one): set on
    ``request.request_id`` (problem answers quote it), in the logs' context for every line
    written while serving it, and returned in the ``X-Request-ID`` header."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    """``CONTENT_SECURITY_POLICY`` on every answer that has none of its own (the API readers
    set a stricter one for ReDoc's bundle)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


class DatabaseOutageMiddleware:
    """A view that fails because the database cannot be reached answers 503 with Retry-After
    (``aftersales.outage``); failures in other middleware reach ``handler500``, which does the
    same. Placed last, so it sees a view's exception first."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_down(exception):
            return outage_response(request, exception)
        return None
