"""Every error of the API as one shape: RFC 9457 problem details (``application/problem+json``).

::

    {"type": "/api/problems/transition_not_available", "title": "Conflict", "status": 409,
     "detail": "'Refund' cannot be done on case AS-2026-000042 while it is Closed.",
     "code": "transition_not_available", "instance": "/api/v1/cases/AS-2026-000042/transitions/",
     "errors": [{"field": "note", "pointer": "/note", "detail": "...", "code": "..."}],
     "available_transitions": [{"name": "close", "target": "closed", "label": "Close"}]}

``code`` is stable for programs; ``detail`` is for people. The mapping from domain errors to HTTP
statuses lives here and nowhere else: a transition that does not apply to the case's current state
or a case that changed meanwhile -> 409, a missing right -> 403, any other refusal -> 400.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from cases.errors import DomainError, ErrorCode, TransitionRefused

logger = logging.getLogger("api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "/api/problems/"


# What the codes of the HTTP layer mean (every code is a member of ``cases.errors.ErrorCode``).
HTTP_CODES = {
    ErrorCode.INVALID: gettext_lazy("The request has invalid values; see errors."),
    ErrorCode.PARSE_ERROR: gettext_lazy("The body is not valid JSON or form data."),
    ErrorCode.NOT_AUTHENTICATED: gettext_lazy("No API key was sent."),
    ErrorCode.AUTHENTICATION_FAILED: gettext_lazy("The API key is not valid or was revoked."),
    ErrorCode.PERMISSION_DENIED: gettext_lazy("The client may not do this."),
    ErrorCode.NOT_FOUND: gettext_lazy("Nothing at this address for this client."),
    ErrorCode.METHOD_NOT_ALLOWED: gettext_lazy("This address does not accept this method."),
    ErrorCode.NOT_ACCEPTABLE: gettext_lazy("The API answers in JSON only."),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: gettext_lazy("The body's content type is not accepted here."),
    ErrorCode.REQUEST_TOO_LARGE: gettext_lazy("The body is too large."),
    ErrorCode.THROTTLED: gettext_lazy("Too many requests; wait for the time in Retry-After."),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: gettext_lazy(
        "The Idempotency-Key was used before for another request."
    ),
    ErrorCode.CONFLICT: gettext_lazy(
        "Another request with the same Idempotency-Key is in progress."
    ),
    ErrorCode.SERVICE_UNAVAILABLE: gettext_lazy(
        "The service is briefly unavailable; try again after the time in Retry-After."
    ),
    ErrorCode.FILE_NAME_TOO_LONG: gettext_lazy(
        "A file name is too long for the upload to be read."
    ),
    ErrorCode.TOO_MANY_SUBSCRIPTIONS: gettext_lazy(
        "The client holds the most webhook subscriptions allowed; delete one first."
    ),
    ErrorCode.SERVER_ERROR: gettext_lazy("Something went wrong on our side; it was logged."),
}


def problem_types() -> dict[str, str]:
    """Every ``code`` an API answer may carry, with what it means."""
    out: dict[str, Any] = {code.value: text for code, text in HTTP_CODES.items()}
    for code in ErrorCode:
        out.setdefault(code.value, code.value.replace("_", " ").capitalize())
    return {code: str(text) for code, text in sorted(out.items())}


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:  # pragma: no cover - statuses here are standard
        return "Error"


def problem_data(
    status_code: int,
    *,
    code: str,
    detail: str,
    instance: str = "",
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    if code not in ErrorCode.__members__.values():
        # A code outside the one vocabulary is a bug: say so loudly, still answer.
        logger.error("Problem code %r is not a member of cases.errors.ErrorCode", code)
    data: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": _title(status_code),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        data["instance"] = instance
    if errors:
        data["errors"] = errors
    data.update(extra)
    return data


def problem_response(
    status_code: int,
    *,
    code: str,
    detail: str,
    request: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    data = problem_data(
        status_code,
        code=code,
        detail=detail,
        instance=request.path if request is not None else "",
        request_id=request_id_of(request),
        **extra,
    )
    return Response(data, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def request_id_of(request: Any) -> str | None:
    """The id the request is logged under (``aftersales.middleware.RequestIdMiddleware`` sets
    it), so that a client quoting a problem leads to its log lines."""
    return getattr(request, "request_id", None) or None


# -- field errors -------------------------------------------------------------------------------


def _pointer(path: list[Any]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def field_errors(detail: Any, path: list[Any] | None = None) -> list[dict[str, Any]]:
    """Flatten DRF's nested error detail into a list of ``{field, pointer, detail, code}``.

    Inside a list body (bulk order import) each error also says the item's ``index``.
    """
    path = path or []
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = path if key in {"non_field_errors", "__all__"} else [*path, key]
            out.extend(field_errors(value, sub))
    elif isinstance(detail, list) and detail and all(isinstance(v, dict) for v in detail):
        for index, value in enumerate(detail):
            out.extend(field_errors(value, [*path, index]))
    elif isinstance(detail, list):
        for value in detail:
            out.extend(field_errors(value, path))
    else:
        out.append(field_error(path, str(detail), getattr(detail, "code", None) or "invalid"))
    return out


def field_error(path: list[Any], message: str, code: str) -> dict[str, Any]:
    names = [part for part in path if not isinstance(part, int)]
    error: dict[str, Any] = {
        "field": ".".join(names) if names else None,
        "pointer": _pointer(path),
        "detail": message,
        "code": code,
    }
    indexes = [part for part in path if isinstance(part, int)]
    if indexes:
        error["index"] = indexes[0]
    return error


def django_field_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            path = [] if field == "__all__" else [field]
            for error in errors:
                for message in error.messages:
                    out.append(field_error(path, message, error.code or "invalid"))
    else:
        for error in exc.error_list:
            for message in error.messages:
                out.append(field_error([], message, error.code or "invalid"))
    return out


# -- the handler --------------------------------------------------------------------------------


def _domain_status(exc: DomainError) -> int:
    if exc.code == ErrorCode.PERMISSION_DENIED:
        return status.HTTP_403_FORBIDDEN
    if exc.is_conflict:
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


def domain_problem(exc: DomainError, request: Any = None) -> Response:
    extra: dict[str, Any] = {}
    errors = list(exc.details.get("errors") or [])
    if exc.field and not errors:
        errors = [field_error([exc.field], exc.message, exc.code.value)]
    # What can run now: on every conflict (an empty list says "nothing"), and on other
    # refusals when the engine listed it.
    if isinstance(exc, TransitionRefused) and (exc.available or exc.is_conflict):
        extra["available_transitions"] = [option.as_dict() for option in exc.available]
    return problem_response(
        _domain_status(exc),
        code=exc.code.value,
        detail=exc.message,
        request=request,
        errors=errors or None,
        **extra,
    )


_API_EXCEPTION_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def _api_exception_code(exc: exceptions.APIException) -> str:
    for kind in type(exc).__mro__:
        if kind in _API_EXCEPTION_CODES:
            return _API_EXCEPTION_CODES[kind]
    return str(getattr(exc, "default_code", "error"))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes a problem document."""
    request = context.get("request")
    if isinstance(exc, DomainError):
        return domain_problem(exc, request)
    if isinstance(exc, DjangoValidationError):
        return problem_response(
            400,
            code="invalid",
            detail=_("The request has invalid values; see errors."),
            request=request,
            errors=django_field_errors(exc),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)  # NotAuthenticated, AuthenticationFailed
        if auth_header:
            headers["WWW-Authenticate"] = str(auth_header)
        wait = getattr(exc, "wait", None)  # Throttled
        if wait is not None:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        code = getattr(exc, "problem_code", None) or _api_exception_code(exc)
        if isinstance(exc.detail, dict | list):
            errors = field_errors(exc.detail)
            if isinstance(exc, OutsideBodyInvalid):
                errors = [_outside_body(error, exc.location) for error in errors]
            detail = (
                _("One value is invalid; see errors.")
                if len(errors) == 1
                else _("%(count)s values are invalid; see errors.") % {"count": len(errors)}
            )
            if len(errors) == 1 and errors[0]["field"] is None:
                detail = errors[0]["detail"]
        else:
            errors, detail = [], str(exc.detail)
        extra = dict(getattr(exc, "problem_extra", {}))
        errors = errors or extra.pop("errors", [])
        return problem_response(
            exc.status_code,
            code=code,
            detail=detail,
            request=request,
            headers=headers,
            errors=errors or None,
            **extra,
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # The database cannot be reached: nothing was written (the transaction rolled back);
        # the client should come back shortly. Not a bug: a warning, no traceback.
        where = request.path if request is not None else "API"
        logger.warning("Database unavailable while serving %s: %s", where, exc)
        answer: Response = database_unavailable_problem(request)
        return answer
    # A bug: log it with its traceback, answer a plain problem (never a traceback).
    logger.exception("Unhandled error in %s", request.path if request is not None else "API")
    return problem_response(
        500,
        code=ErrorCode.SERVER_ERROR,
        detail=str(HTTP_CODES[ErrorCode.SERVER_ERROR]),
        request=request,
    )


class OutsideBodyInvalid(exceptions.ValidationError):
    """Invalid values sent outside the body (query parameters, headers): their errors name the
    ``parameter`` or ``header`` and have no ``pointer``, since there is no body to point into."""

    location = ""

    def __init__(self, detail: Any = None, code: str | None = None) -> None:
        super().__init__(detail, code)


class QueryParametersInvalid(OutsideBodyInvalid):
    location = "parameter"


class HeaderInvalid(OutsideBodyInvalid):
    location = "header"


def _outside_body(error: dict[str, Any], location: str) -> dict[str, Any]:
    return {**error, "pointer": None, location: error["field"]}


class Problem(exceptions.APIException):
    """An HTTP-level refusal with a problem ``code`` of its own (e.g. 413, 422)."""

    def __init__(self, status_code: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.problem_extra = extra


# -- Django-level errors under /api/ (unknown URLs, failures before a view runs) ------------------


def django_problem(request: HttpRequest, status_code: int, code: str, detail: str) -> JsonResponse:
    """A problem answer outside DRF (unknown addresses, failures before a view runs)."""
    data = problem_data(
        status_code,
        code=code,
        detail=detail,
        instance=request.path,
        request_id=request_id_of(request),
    )
    return JsonResponse(data, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def database_unavailable_problem(request: Any) -> Any:
    """503 ``service_unavailable`` with ``Retry-After``: the database cannot be reached."""
    headers = {"Retry-After": str(settings.OUTAGE_RETRY_AFTER_SECONDS)}
    detail = str(HTTP_CODES[ErrorCode.SERVICE_UNAVAILABLE])
    if isinstance(request, HttpRequest):
        response: Any = django_problem(request, 503, ErrorCode.SERVICE_UNAVAILABLE, detail)
        for name, value in headers.items():
            response[name] = value
        return response
    return problem_response(
        503, code=ErrorCode.SERVICE_UNAVAILABLE, detail=detail, request=request, headers=headers
    )


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt  # the API authenticates by key, never by cookie
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
    """The answer to every unknown address under ``/api/``; an address that only lacks its
    trailing slash is served by its endpoint (a redirect would lose a POST's body)."""
    if not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return match.func(request, *match.args, **match.kwargs)
    return django_problem(
        request,
        404,
        "not_found",
        _("There is no API endpoint at %(path)s. The endpoints are listed at /api/docs/.")
        % {"path": request.path},
    )


def _title_of(code: str) -> str:
    try:
        return str(HTTP_CODES.get(ErrorCode(code)) or "")
    except ValueError:
        return ""


def handler_for(default: Any, status_code: int, code: str) -> Any:
    """A Django ``handler404``/``handler500``/... that answers a problem under ``/api/`` and
    keeps Django's page elsewhere."""

    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if is_api_request(request):
            if status_code == 404:
                return api_not_found(request)
            return django_problem(request, status_code, code, _title_of(code))
        return default(request, *args, **kwargs)

    return handler
