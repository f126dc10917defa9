"""The evidence file views: any file for staff with ``cases.view_case``, and a file the holder
of a link sent through that same link (behind the link guard)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import (
    PermissionDenied,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.views.decorators.http import require_safe

from cases.models import Evidence

from ..serving import evidence_file_response
from .guard import LinkVisit, link_guard, not_found

PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="180" viewBox="0 0 240 180">'
    b'<rect width="240" height="180" fill="#eceff3"/>'
    b'<circle cx="120" cy="90" r="22" fill="none" stroke="#9aa4b1" stroke-width="6"'
    b' stroke-dasharray="30 12"/></svg>'
)


def _staff_evidence(request: HttpRequest, pk: int) -> Evidence | HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (user.is_active and user.is_staff and user.has_perm("cases.view_case")):
        raise PermissionDenied
    evidence = Evidence.objects.filter(pk=pk).first()
    if evidence is None:
        raise Http404
    return evidence


def _link_evidence(visit: LinkVisit, pk: int) -> Evidence:
    """Evidence the link's holder may see: sent through that same link (request), of its case.
    A partner's link therefore never shows the customer's files, nor the other way round."""
    evidence = Evidence.objects.filter(
        pk=pk, case_id=visit.evidence_request.case_id, request_id=visit.evidence_request.pk
    ).first()
    if evidence is None:
        raise Http404
    return evidence


def _thumbnail_or_placeholder(request: HttpRequest, evidence: Evidence) -> HttpResponseBase:
    if evidence.thumbnail:
        return evidence_file_response(request, evidence, thumbnail=True)
    # The preview is made in the background; until then a neutral placeholder, never cached.
    # The header lets the form's script know to ask again a little later.
    response = HttpResponse(PLACEHOLDER_SVG, content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    response["X-Preview-Pending"] = "1"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_safe
def evidence_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    evidence = _staff_evidence(request, pk)
    if isinstance(evidence, HttpResponse):
        return evidence
    return evidence_file_response(request, evidence)


@require_safe
def evidence_thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    evidence = _staff_evidence(request, pk)
    if isinstance(evidence, HttpResponse):
        return evidence
    return _thumbnail_or_placeholder(request, evidence)


@require_safe
@link_guard(not_found)
def link_file(request: HttpRequest, visit: LinkVisit, pk: int) -> HttpResponseBase:
    response = evidence_file_response(request, _link_evidence(visit, pk))
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
@link_guard(not_found)
def link_thumbnail(request: HttpRequest, visit: LinkVisit, pk: int) -> HttpResponseBase:
    response = _thumbnail_or_placeholder(request, _link_evidence(visit, pk))
    response["Referrer-Policy"] = "no-referrer"
    return response
