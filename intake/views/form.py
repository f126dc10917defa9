"""The upload form reached by a link.

The form works with and without JavaScript: the script sends each file on its own (``fetch`` is
not used because it reports no upload progress; ``XMLHttpRequest`` does) and asks for JSON; a
plain multipart submit gets the same page back with each file's result. Every file goes through
``cases.services.evidence_request_receive`` (and so ``evidence_add``); nothing here decides
whether a file is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cases.choices import Audience, CaseState, MediaType
from cases.customers import customer_time_zone
from cases.errors import EvidenceRefused
from cases.filenames import is_too_long_to_read, too_long_to_read_message
from cases.models import CUSTOMER_LANGUAGES, Evidence, EvidenceRequest
from cases.services.evidence_requests import (
    checklist_progress,
    evidence_request_finish,
    evidence_request_receive,
)

from .. import ratelimit
from ..links import link_expires_at
from ..uploads import RawNamedUpload, close_all, parse_upload, uploaded_files
from .guard import LinkVisit, link_guard
from .pages import (
    choose_language,
    csrf_refusal,
    limited_message,
    problem_page,
    remember_language,
    wants_json,
    with_page_headers,
)

MAX_FILES_PER_POST = 20
OTHER_ITEM = ""  # files not tied to a checklist item


@dataclass
class FileResult:
    """One file's fate, shown on the page and sent as JSON."""

    name: str
    item: str
    status: str  # accepted, duplicate, refused
    message: str
    evidence: Evidence | None = None
    preview_url: str = ""
    file_url: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "item": self.item,
            "status": self.status,
            "message": self.message,
            "media_type": self.evidence.media_type if self.evidence else None,
            "preview_url": self.preview_url or None,
            "file_url": self.file_url or None,
        }


def _label(text: str) -> str:
    # Default checklist labels are msgids (translated); staff-written ones come out unchanged.
    return _(text) if text else ""


@csrf_exempt  # checked in the view: the body must first be read by the streaming parser
@link_guard()
def upload(request: HttpRequest, visit: LinkVisit) -> HttpResponse:
    token, evidence_request, address = visit.token, visit.evidence_request, visit.address
    language = choose_language(request, evidence_request)
    translation.activate(language)
    if request.method in {"GET", "HEAD"}:
        response = _render_form(request, token, evidence_request, language)
    elif request.method == "POST":
        response = _receive(request, token, evidence_request, language, address)
    else:
        response = HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    remember_language(request, response, language)
    return with_page_headers(response, language)


def _receive(  # noqa: C901
    request: HttpRequest,
    token: str,
    evidence_request: EvidenceRequest,
    language: str,
    address: str,
) -> HttpResponse:
    handler = None
    try:
        if request.content_type == "multipart/form-data":
            handler = parse_upload(request, max_files=MAX_FILES_PER_POST)
        else:
            request.POST  # noqa: B018 - parse now, so that a bad body is answered here
    except (
        MultiPartParserError,
        RequestDataTooBig,
        TooManyFieldsSent,
        TooManyFilesSent,
        UnreadablePostError,  # the client went away mid-upload
    ) as error:
        close_all(request)
        if is_too_long_to_read(error):
            return problem_page(
                request,
                status=400,
                title=_("A file name is too long"),
                message=too_long_to_read_message(),
                language=language,
            )
        return problem_page(
            request,
            status=400,
            title=_("The upload did not arrive whole"),
            message=_("The connection may have been cut. Please send your files again."),
            language=language,
        )
    try:
        refusal = csrf_refusal(request)
        if refusal is not None:
            return refusal
        results: list[FileResult] = []
        notices: list[str] = []
        moved = False
        if request.POST.get("finish"):
            try:
                moved = evidence_request_finish(evidence_request=evidence_request)
                # With a required item missing, the status says what is still missing.
                if not missing_labels(checklist_progress(evidence_request)):
                    notices.append(_("Thank you. We have everything you could send."))
            except EvidenceRefused as refused:
                notices.append(refused.message)
        else:
            files = uploaded_files(request)
            if not files and not (handler and handler.skipped):
                notices.append(_("Choose at least one photo or video."))
            for field, upload_file in files:
                result, moved_now = _receive_one(
                    request, token, evidence_request, field, upload_file, address
                )
                results.append(result)
                moved = moved or moved_now
            if handler and handler.skipped:
                notices.append(
                    translation.ngettext(
                        "%(count)d more file was not read: send at most %(max)d files at once.",
                        "%(count)d more files were not read: send at most %(max)d files at once.",
                        handler.skipped,
                    )
                    % {"count": handler.skipped, "max": MAX_FILES_PER_POST}
                )
    finally:
        close_all(request)
    evidence_request.refresh_from_db(fields=["fulfilled_at"])
    if wants_json(request):
        all_refused = bool(results) and all(result.status == "refused" for result in results)
        limited = any(result.status == "limited" for result in results)
        payload = {
            "files": [result.as_dict() for result in results],
            "notices": notices,
            **_progress_payload(evidence_request, moved),
        }
        status = 429 if limited else 422 if all_refused else 200
        if not results and not request.POST.get("finish"):
            status = 400  # nothing usable arrived (no file chosen, or a cut-off body)
        return JsonResponse(payload, status=status)
    return _render_form(
        request, token, evidence_request, language, results=results, notices=notices, moved=moved
    )


def _receive_one(  # noqa: PLR0917
    request: HttpRequest,
    token: str,
    evidence_request: EvidenceRequest,
    field: str,
    upload_file: Any,
    address: str,
) -> tuple[FileResult, bool]:
    # The script sends one file with its item; the plain form has one input per item,
    # "files:<key>", and "files" for anything else.
    item = request.POST.get("item", OTHER_ITEM) if field == "file" else field.partition(":")[2]
    display_name = upload_file.raw_name[:120]
    labels = {entry["key"]: entry.get("label", "") for entry in evidence_request.checklist}
    item_label = _label(labels.get(item, "")) or _("Other photos and videos")
    limited = ratelimit.hit("upload_link", str(evidence_request.pk)) or ratelimit.hit(
        "upload_address", address
    )
    if limited:
        return FileResult(display_name, item, "limited", limited_message(limited)), False
    try:
        received = evidence_request_receive(
            evidence_request=evidence_request,
            upload=RawNamedUpload(upload_file),
            checklist_item=item,
        )
    except EvidenceRefused as refused:
        return FileResult(display_name, item, "refused", refused.message), False
    evidence = received.added.evidence
    mine = evidence.request_id == evidence_request.pk
    result = FileResult(
        name=display_name,
        item=item,
        status="duplicate" if received.added.duplicate else "accepted",
        message=(
            _("Already received: you sent this same file before.")
            if received.added.duplicate
            else _("Received for “%(item)s”.") % {"item": item_label}
        ),
        evidence=evidence,
        preview_url=reverse("intake:link-thumbnail", args=[token, evidence.pk]) if mine else "",
        file_url=reverse("intake:link-file", args=[token, evidence.pk]) if mine else "",
    )
    return result, received.moved_to_review


def missing_labels(entries: list[Any]) -> list[str]:
    """The required checklist items nothing valid arrived for, as the visitor reads them."""
    return [_label(entry.label) for entry in entries if entry.required and not entry.done]


def _progress_payload(evidence_request: EvidenceRequest, moved: bool) -> dict[str, Any]:
    entries = checklist_progress(evidence_request)
    missing = missing_labels(entries) if evidence_request.fulfilled_at is not None else []
    return {
        "checklist": [
            {
                "key": e.key,
                "received": e.received,
                "done": e.done,
                "required": e.required,
                "text": _progress_text(e.received),
            }
            for e in entries
        ],
        "fulfilled": evidence_request.fulfilled_at is not None,
        "moved_to_review": moved,
        "missing": missing,
        "status": _status_text(evidence_request, moved, missing),
        "status_kind": "warning" if missing else "ok",
    }


def _progress_text(received: int) -> str:
    if not received:
        return _("Nothing received yet")
    return translation.ngettext(
        "✓ %(counter)s file received", "✓ %(counter)s files received", received
    ) % {"counter": received}


def _status_text(evidence_request: EvidenceRequest, moved: bool, missing: list[str]) -> str:
    if missing:
        # "I have sent everything I can" with a required item missing: never "all arrived".
        return translation.ngettext(
            "You told us you have sent everything you can. Still missing: %(items)s. Our team "
            "will review what you sent.",
            "You told us you have sent everything you can. Still missing: %(items)s. Our team "
            "will review what you sent.",
            len(missing),
        ) % {"items": ", ".join(f"“{label}”" for label in missing)}
    if moved or (
        evidence_request.audience == Audience.CUSTOMER
        and evidence_request.case.state == CaseState.UNDER_REVIEW
        and evidence_request.fulfilled_at is not None
    ):
        return _(
            "Thank you: everything we asked for has arrived. Our team is now reviewing it; you "
            "will hear from us."
        )
    if evidence_request.fulfilled_at is not None:
        return _("Thank you: everything we asked for has arrived.")
    return ""


def _js_strings() -> dict[str, str]:
    """Words the form's script shows, in the page's language."""
    return {
        "waiting": _("Waiting…"),
        "sending": _("Sending…"),
        "checking": _("Checking the file…"),
        "failed": _("Not sent: the connection was interrupted."),
        "retry": _("Try again"),
        "too_large": _("“%(name)s” is too large; the limit is %(limit)s MB."),
        "too_many": _("Send at most %(max)s files at once; the others were not sent."),
    }


def _render_form(
    request: HttpRequest,
    token: str,
    evidence_request: EvidenceRequest,
    language: str,
    *,
    results: list[FileResult] | None = None,
    notices: list[str] | None = None,
    moved: bool = False,
) -> HttpResponse:
    case = evidence_request.case
    marketplace = case.marketplace
    now = timezone.now()
    entries = checklist_progress(evidence_request)
    sent = list(
        Evidence.objects.filter(request=evidence_request).order_by("uploaded_at", "pk")[:200]
    )
    labels = {entry.key: _label(entry.label) for entry in entries}
    items = [
        {
            "key": entry.key,
            "label": _label(entry.label),
            "hint": _label(entry.hint),
            "required": entry.required,
            "received": entry.received,
            "done": entry.done,
        }
        for entry in entries
    ]
    is_customer = evidence_request.audience == Audience.CUSTOMER
    fulfilled = evidence_request.fulfilled_at is not None
    missing = missing_labels(entries) if fulfilled else []
    # Customers read times on their own clock; partners on the marketplace's.
    tz = customer_time_zone(case.order) if is_customer else marketplace.tz
    due_local = timezone.localtime(evidence_request.due_at, tz)
    context = {
        "token": token,
        "evidence_request": evidence_request,
        "case_reference": case.reference,
        # Partners see the case reference and their request only: no order, no customer.
        "order_number": case.order.external_id if is_customer else "",
        "marketplace_name": marketplace.name if is_customer else "",
        "is_customer": is_customer,
        "audience": evidence_request.get_audience_display(),
        "message": evidence_request.message,
        "items": items,
        "item_labels": labels,
        "due_at": evidence_request.due_at,
        "due_local": due_local,
        "due_tz": tz,
        # The zone named as people know it ("CET", "CST") and as it is written ("Europe/Paris").
        "due_tz_abbreviation": due_local.tzname() or "",
        "overdue": now > evidence_request.due_at,
        "expires_at": timezone.localtime(link_expires_at(evidence_request), tz),
        "fulfilled": fulfilled,
        "missing": missing,
        "in_review": is_customer and case.state == CaseState.UNDER_REVIEW,
        "moved": moved,
        "results": results or [],
        "notices": notices or [],
        "sent": [
            {
                "evidence": evidence,
                "is_video": evidence.media_type == MediaType.VIDEO,
                "item": labels.get(evidence.checklist_item) or _("Other photos and videos"),
                "preview_url": reverse("intake:link-thumbnail", args=[token, evidence.pk]),
                "file_url": reverse("intake:link-file", args=[token, evidence.pk]),
            }
            for evidence in sent
        ],
        "language": language,
        "languages": CUSTOMER_LANGUAGES,
        "action": f"{reverse('intake:upload', args=[token])}?lang={language}",
        "max_photo_mb": settings.EVIDENCE_MAX_PHOTO_BYTES // (1024 * 1024),
        "max_video_mb": settings.EVIDENCE_MAX_VIDEO_BYTES // (1024 * 1024),
        "max_video_minutes": int(settings.EVIDENCE_MAX_VIDEO_SECONDS // 60),
        "max_bytes": max(settings.EVIDENCE_MAX_PHOTO_BYTES, settings.EVIDENCE_MAX_VIDEO_BYTES),
        "max_files": MAX_FILES_PER_POST,
        "other_item": OTHER_ITEM,
        "js_strings": _js_strings(),
    }
    status = 200
    if results and all(result.status == "refused" for result in results):
        status = 422
    return render(request, "intake/upload.html", context, status=status)
