"""The one link guard of the intake: every view reached by an upload link goes through it.

``link_guard`` counts the visit against the visitor's address, resolves the signed token
(``intake.links.resolve_token``: signature, revocation, expiry), counts an invalid token
against the address too, and only then calls the view with a ``LinkVisit``. A link that
cannot be used is answered by ``unusable``: the form says why (``link_error_page``), a file
URL says nothing (``not_found``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from cases.models import EvidenceRequest

from .. import ratelimit
from ..links import LinkError, LinkInvalid, resolve_token
from .pages import choose_language, link_error_page, too_many_page


@dataclass(frozen=True)
class LinkVisit:
    """A visit through a usable link: the token as given, its evidence request, and the
    visitor's address as the rate limits count it."""

    token: str
    evidence_request: EvidenceRequest
    address: str


def not_found(request: HttpRequest, error: LinkError) -> HttpResponse:
    """The answer of a file URL whose link cannot be used: a bare 404, nothing about the link."""
    raise Http404 from error


def link_guard(
    unusable: Callable[[HttpRequest, LinkError], HttpResponse] = link_error_page,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Decorate a view taking ``(request, visit, **kwargs)``; the URL gives ``token``."""

    # A view may stream (a file: ``FileResponse``), hence HttpResponseBase.
    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def guarded(
            request: HttpRequest, token: str, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            address = ratelimit.client_address(request)
            limited = ratelimit.hit("visit_address", address) or ratelimit.blocked(
                "invalid_address", address
            )
            if limited:
                return too_many_page(request, limited, choose_language(request))
            try:
                evidence_request = resolve_token(token)
            except LinkError as error:
                if isinstance(error, LinkInvalid):
                    ratelimit.hit("invalid_address", address)
                return unusable(request, error)
            return view(request, LinkVisit(token, evidence_request, address), *args, **kwargs)

        return guarded

    return decorate
