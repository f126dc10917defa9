"""What every intake page shares: the visitor's language, the page headers, and the pages that
refuse a whole request (unusable link, too many attempts, expired form, cut-off upload)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from cases.choices import Audience
from cases.models import CUSTOMER_LANGUAGES, EvidenceRequest

from .. import ratelimit
from ..links import LinkError

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


# -- language ---------------------------------------------------------------------------------


def choose_language(request: HttpRequest, evidence_request: EvidenceRequest | None = None) -> str:
    """The visitor's language: chosen on the page (``?lang=``, then remembered in the language
    cookie), else the customer's language from the order, else the browser's."""
    supported = {code for code, _name in settings.LANGUAGES}
    for asked in (request.GET.get("lang"), request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        if asked in supported:
            return asked
    if evidence_request is not None and evidence_request.audience == Audience.CUSTOMER:
        language = evidence_request.case.order.customer_language
        if language in supported:
            return language
    return translation.get_language_from_request(request)


def remember_language(request: HttpRequest, response: HttpResponse, language: str) -> None:
    if request.GET.get("lang") == language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )


def with_page_headers(response: HttpResponse, language: str) -> HttpResponse:
    """Headers of every intake page: private, not indexed, the token never leaks by Referer to
    another site ("same-origin", not "no-referrer": with that, browsers send ``Origin: null``
    on the plain form's POST and the CSRF check must refuse it)."""
    response["Content-Security-Policy"] = PAGE_CSP
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = language
    return response


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# -- refusals of the whole request ------------------------------------------------------------


def problem_page(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    message: str,
    language: str,
    retry_after: int | None = None,
) -> HttpResponse:
    if wants_json(request):
        response: HttpResponse = JsonResponse({"error": title, "message": message}, status=status)
    else:
        response = render(
            request,
            "intake/problem.html",
            {"title": title, "message": message, "languages": CUSTOMER_LANGUAGES},
            status=status,
        )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return with_page_headers(response, language)


def link_error_page(request: HttpRequest, error: LinkError) -> HttpResponse:
    """The 404/410 page of an unusable link: what happened, in the visitor's language, and
    nothing about the case."""
    language = choose_language(request)
    if error.language and not request.GET.get("lang"):
        language = error.language
    with translation.override(language):
        return problem_page(
            request,
            status=error.status,
            title=_("This link cannot be used"),
            message=str(error.message),
            language=language,
        )


def too_many_page(request: HttpRequest, limited: ratelimit.Limited, language: str) -> HttpResponse:
    with translation.override(language):
        return problem_page(
            request,
            status=429,
            title=_("Too many attempts"),
            message=limited_message(limited),
            language=language,
            retry_after=limited.retry_after,
        )


def limited_message(limited: ratelimit.Limited) -> str:
    return translation.ngettext(
        "Too many attempts from here. Please try again in %(minutes)d minute.",
        "Too many attempts from here. Please try again in %(minutes)d minutes.",
        limited.minutes,
    ) % {"minutes": limited.minutes}


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, run by the view itself once the streaming parser has read the body,
    answering with the intake's own page."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return problem_page(
            request,
            status=403,
            title=_("This page has expired"),
            message=_("Reload the page and send your files again."),
            language=translation.get_language(),
        )


def _no_view(request: HttpRequest) -> HttpResponse:
    """Stands for the view in a CSRF check run by hand (a view the check does not exempt)."""
    return HttpResponse()


def csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    return _CsrfCheck(_no_view).process_view(request, _no_view, (), {})
