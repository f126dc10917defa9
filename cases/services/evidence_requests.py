"""Evidence requests: what is asked of whom, by when. Each one is the source of an upload link
(the link itself is made and checked by the ``intake`` app)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplaces.calendars import calendar_for

from ..actors import Actor
from ..choices import (
    Audience,
    CaseKind,
    CaseState,
    Door,
    EventType,
    EvidenceSource,
    ReviewStatus,
)
from ..errors import CaseRefused, ErrorCode, EvidenceRefused, TransitionRefused
from ..models import Case, Evidence, EvidenceRequest
from .audit import record_event
from .cases import case_transition, lock_case
from .evidence import EvidenceAdded, evidence_add

# What is asked by default, per kind: (item key, label, hint, required). Labels and hints are
# English msgids: the upload form shows them translated (``gettext(label)``); a checklist written
# by staff or an integration is shown as written.
DEFAULT_CHECKLISTS: dict[str, list[dict[str, Any]]] = {
    CaseKind.DAMAGED_ITEM: [
        {
            "key": "outer_box",
            "label": gettext_noop("The outer box"),
            "hint": gettext_noop("All sides of the parcel as it arrived, with any dents or tears."),
            "required": True,
        },
        {
            "key": "item",
            "label": gettext_noop("The damaged item"),
            "hint": gettext_noop(
                "Close enough to see the damage, and one photo of the whole item."
            ),
            "required": True,
        },
        {
            "key": "shipping_label",
            "label": gettext_noop("The shipping label"),
            "hint": gettext_noop("The sticker with the address and the tracking number."),
            "required": True,
        },
        {
            "key": "unboxing_video",
            "label": gettext_noop("An unboxing video"),
            "hint": gettext_noop("If you filmed opening the parcel, send the video."),
            "required": False,
        },
    ],
    CaseKind.WRONG_ITEM: [
        {
            "key": "item_received",
            "label": gettext_noop("The item you received"),
            "hint": gettext_noop("The whole item, so that we can see what it is."),
            "required": True,
        },
        {
            "key": "item_label",
            "label": gettext_noop("Its label"),
            "hint": gettext_noop("The product label or tag, with its reference or barcode."),
            "required": True,
        },
    ],
    CaseKind.MISSING_ITEM: [
        {
            "key": "opened_parcel",
            "label": gettext_noop("The opened parcel and its contents"),
            "hint": gettext_noop("Everything that was in the parcel, laid out next to it."),
            "required": True,
        },
        {
            "key": "shipping_label",
            "label": gettext_noop("The shipping label"),
            "hint": gettext_noop("The sticker with the address and the tracking number."),
            "required": True,
        },
    ],
}
GENERIC_CHECKLIST = [
    {
        "key": "photos",
        "label": gettext_noop("Photos or a video of the problem"),
        "hint": "",
        "required": True,
    }
]


def default_checklist(kind: str) -> list[dict[str, Any]]:
    return [dict(item) for item in DEFAULT_CHECKLISTS.get(kind, GENERIC_CHECKLIST)]


MAX_CHECKLIST_ITEMS = 20
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# A link stays usable a few days past its deadline; a deadline further than this is a mistake
# (and dates near year 9999 would overflow).
MAX_DEADLINE_AHEAD = dt.timedelta(days=365)


def normalise_checklist(checklist: list[Any]) -> list[dict[str, Any]]:
    """Check a checklist given by staff or an integration and put it in the stored shape
    (``key``, ``label``, ``hint``, ``required``). Items may be plain labels (strings): their key
    is made from the label. Raises ``CaseRefused`` (field ``checklist``)."""

    def refuse(message: str) -> CaseRefused:
        return CaseRefused(ErrorCode.INVALID_VALUE, message, field="checklist")

    if not isinstance(checklist, list) or not checklist:
        raise refuse(_("The checklist must list at least one thing to send."))
    if len(checklist) > MAX_CHECKLIST_ITEMS:
        raise refuse(
            _("The checklist can have at most %(max)d items.") % {"max": MAX_CHECKLIST_ITEMS}
        )
    items: list[dict[str, Any]] = []
    for position, raw in enumerate(checklist, start=1):
        entry = {"label": raw} if isinstance(raw, str) else raw
        if not isinstance(entry, dict):
            raise refuse(_("Item %(n)d of the checklist is not understood.") % {"n": position})
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 200 or "\x00" in label:
            raise refuse(
                _("Item %(n)d of the checklist needs a label of 1 to 200 characters.")
                % {"n": position}
            )
        key = entry.get("key") or slugify(label).replace("-", "_")[:64] or f"item_{position}"
        if not isinstance(key, str) or not _KEY.match(key):
            raise refuse(
                _(
                    "Item %(n)d of the checklist has an invalid key: use lower-case letters, "
                    "digits, - and _ (at most 64)."
                )
                % {"n": position}
            )
        required = entry.get("required", True)
        hint = entry.get("hint", "")
        if not isinstance(required, bool):
            raise refuse(_("Item %(n)d: “required” must be true or false.") % {"n": position})
        if not isinstance(hint, str) or len(hint) > 500 or "\x00" in hint:
            raise refuse(_("Item %(n)d: the hint must be text (at most 500).") % {"n": position})
        if any(item["key"] == key for item in items):
            raise refuse(_("Two checklist items have the key “%(key)s”.") % {"key": key})
        items.append(
            {"key": key, "label": label.strip(), "hint": hint.strip(), "required": required}
        )
    return items


def link_actor(evidence_request: EvidenceRequest) -> Actor:
    """The actor recorded for what the holder of the request's link does."""
    return Actor.for_link(
        ref=evidence_request.pk,
        name=f"{evidence_request.get_audience_display()} (upload link {evidence_request.pk})",
    )


def evidence_request_create(
    *,
    case: Case,
    actor: Actor,
    door: Door,
    audience: Audience | str = Audience.CUSTOMER,
    checklist: list[Any] | None = None,
    message: str = "",
    due_at: dt.datetime | None = None,
) -> EvidenceRequest:
    """Ask ``audience`` for evidence on ``case``; the deadline defaults to the marketplace's
    evidence wait (business days)."""
    if audience not in Audience.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The request must be for one of: %(values)s.")
            % {"values": ", ".join(Audience.values)},
            field="audience",
        )
    items = normalise_checklist(checklist) if checklist is not None else None
    now = timezone.now()
    if due_at is not None and timezone.is_naive(due_at):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The time must include a time zone offset."),
            field="due_at",
        )
    with transaction.atomic():
        locked = lock_case(case.pk)
        if not locked.is_open:
            raise CaseRefused(
                ErrorCode.CASE_CLOSED,
                _("Case %(ref)s is closed; no evidence can be asked for.")
                % {"ref": locked.reference},
            )
        if due_at is not None and due_at <= now:
            raise CaseRefused(
                ErrorCode.INVALID_VALUE, _("The deadline must be in the future."), field="due_at"
            )
        if due_at is not None and due_at > now + MAX_DEADLINE_AHEAD:
            raise CaseRefused(
                ErrorCode.INVALID_VALUE,
                _("The deadline can be at most a year ahead."),
                field="due_at",
            )
        request = _create_locked(
            locked,
            actor=actor,
            door=door,
            audience=audience,
            checklist=items,
            message=message,
            due_at=due_at,
            at=now,
        )
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
    return request


def _create_locked(
    case: Case,
    *,
    actor: Actor,
    door: Door,
    audience: str,
    checklist: list[dict[str, Any]] | None,
    message: str,
    due_at: dt.datetime | None,
    at: dt.datetime,
) -> EvidenceRequest:
    """Create the request and its audit record; ``case`` is locked by the caller, who also
    bumps its version."""
    if due_at is None:
        due_at = calendar_for(case.marketplace).deadline(
            at, case.marketplace.evidence_wait_business_days
        )
    request = EvidenceRequest.objects.create(
        case=case,
        audience=audience,
        checklist=checklist if checklist is not None else default_checklist(case.kind),
        message=message,
        due_at=due_at,
        token_nonce=secrets.token_urlsafe(16),
        created_by=actor.user,
    )
    record_event(
        case=case,
        event_type=EventType.EVIDENCE_REQUESTED,
        actor=actor,
        door=door,
        occurred_at=at,
        data={
            "evidence_request": request.pk,
            "audience": request.audience,
            "due_at": due_at.isoformat(),
        },
    )
    return request


def active_customer_request(case: Case, *, at: dt.datetime | None = None) -> EvidenceRequest | None:
    """The customer's open request on ``case``: not revoked, not fulfilled, not past due."""
    return (
        EvidenceRequest.objects.filter(
            case=case,
            audience=Audience.CUSTOMER,
            revoked_at__isnull=True,
            fulfilled_at__isnull=True,
            due_at__gt=at or timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def evidence_request_ensure_for_customer(
    *, case: Case, actor: Actor, door: Door, at: dt.datetime
) -> EvidenceRequest | None:
    """Called by ``case_transition`` inside its transaction when a case enters
    ``awaiting_evidence``: give the customer a request (and so a link) unless one is open.
    Returns the request created, or None. The caller holds the case lock and bumps its version.
    The deadline is the case's own evidence deadline (from ``at``)."""
    if active_customer_request(case) is not None:
        return None
    return _create_locked(
        case,
        actor=actor,
        door=door,
        audience=Audience.CUSTOMER,
        checklist=None,
        message="",
        due_at=None,
        at=at,
    )


def evidence_request_revoke(
    *, evidence_request: EvidenceRequest | int, actor: Actor, door: Door
) -> EvidenceRequest:
    """Revoke the request's link (idempotent)."""
    pk = evidence_request if isinstance(evidence_request, int) else evidence_request.pk
    with transaction.atomic():
        case_id = EvidenceRequest.objects.values_list("case_id", flat=True).get(pk=pk)
        case = lock_case(case_id)
        request = EvidenceRequest.objects.get(pk=pk)
        if request.revoked_at is not None:
            return request
        request.revoked_at = timezone.now()
        request.save(update_fields=["revoked_at"])
        case.version += 1
        case.save(update_fields=["version", "updated_at"])
        record_event(
            case=case,
            event_type=EventType.EVIDENCE_REQUEST_REVOKED,
            actor=actor,
            door=door,
            occurred_at=request.revoked_at,
            data={"evidence_request": request.pk},
        )
    return request


# -- answering a request through its link ---------------------------------------------------


@dataclass(frozen=True)
class ChecklistEntry:
    """One checklist item of a request and how many valid files arrived for it."""

    key: str
    label: str
    hint: str
    required: bool
    received: int

    @property
    def done(self) -> bool:
        return self.received > 0


def checklist_progress(evidence_request: EvidenceRequest) -> list[ChecklistEntry]:
    """The request's checklist with the count of files sent for each item through the request
    (rejected files do not count). One query."""
    counts = dict(
        Evidence.objects.filter(request=evidence_request)
        .exclude(review_status=ReviewStatus.REJECTED)
        .values_list("checklist_item")
        .annotate(n=Count("pk"))
        .values_list("checklist_item", "n")
    )
    return [
        ChecklistEntry(
            key=item["key"],
            label=item.get("label", item["key"]),
            hint=item.get("hint", ""),
            required=bool(item.get("required", True)),
            received=counts.get(item["key"], 0),
        )
        for item in evidence_request.checklist
    ]


def _is_complete(entries: list[ChecklistEntry], total: int) -> bool:
    required = [entry for entry in entries if entry.required]
    if not required:  # nothing is required: any file answers the request
        return total > 0
    return all(entry.done for entry in required)


@dataclass(frozen=True)
class EvidenceReceived:
    """What happened to one file sent through a link."""

    added: EvidenceAdded
    fulfilled: bool  # this file completed the request
    moved_to_review: bool  # ... and the case went to review


def evidence_request_receive(
    *,
    evidence_request: EvidenceRequest,
    upload: Any,
    checklist_item: str = "",
) -> EvidenceReceived:
    """A file sent by the holder of the request's link: checked and stored by ``evidence_add``
    (source customer or partner, actor the link, door the form); when it completes the
    required items of a customer's request, the case moves to review."""
    keys = {item["key"] for item in evidence_request.checklist}
    if checklist_item and checklist_item not in keys:
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE,
            _("This request does not ask for “%(item)s”.") % {"item": checklist_item[:64]},
            field="checklist_item",
        )
    # A cheap early refusal (no need to inspect a large file for a withdrawn link);
    # ``evidence_add`` checks again under the case lock.
    current = EvidenceRequest.objects.filter(pk=evidence_request.pk).values("revoked_at").first()
    if current is None or current["revoked_at"] is not None:
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE, _("This link has been withdrawn."), field="request"
        )
    audience = evidence_request.audience
    outcome = (False, False)

    def fulfil() -> None:
        nonlocal outcome
        outcome = _fulfil(evidence_request, early=False)

    added = evidence_add(
        case=evidence_request.case,
        upload=upload,
        source=EvidenceSource.CUSTOMER if audience == Audience.CUSTOMER else EvidenceSource.PARTNER,
        actor=link_actor(evidence_request),
        door=Door.FORM,
        request=evidence_request,
        checklist_item=checklist_item,
        then=fulfil,  # the file and what it completes are one transaction
    )
    fulfilled, moved = outcome
    return EvidenceReceived(added=added, fulfilled=fulfilled, moved_to_review=moved)


def evidence_request_finish(*, evidence_request: EvidenceRequest) -> bool:
    """The link's holder says they have sent all they have, even if required items are
    missing: the request is fulfilled and a customer's case goes to review. Needs at least one
    file. Returns whether the case moved to review."""
    if not Evidence.objects.filter(request=evidence_request).exists():
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE,
            _("Send at least one photo or video first."),
            field="file",
        )
    _fulfilled, moved = _fulfil(evidence_request, early=True)
    return moved


def _fulfil(evidence_request: EvidenceRequest, *, early: bool) -> tuple[bool, bool]:
    with transaction.atomic():
        case = lock_case(evidence_request.case_id)
        request = EvidenceRequest.objects.select_for_update().get(pk=evidence_request.pk)
        if request.fulfilled_at is not None or request.revoked_at is not None:
            return False, False
        entries = checklist_progress(request)
        total = Evidence.objects.filter(request=request).count()
        if not (early and total) and not _is_complete(entries, total):
            return False, False
        request.fulfilled_at = timezone.now()
        request.save(update_fields=["fulfilled_at"])
        evidence_request.fulfilled_at = request.fulfilled_at
        if request.audience != Audience.CUSTOMER or case.state != CaseState.AWAITING_EVIDENCE:
            return True, False
        try:
            # A savepoint: a refusal (say, every file was rejected meanwhile) leaves the request
            # fulfilled and the case where it is, for staff to look at.
            with transaction.atomic():
                case_transition(
                    case=case,
                    transition="start_review",
                    actor=link_actor(request),
                    door=Door.FORM,
                    # Audit notes stay in English whatever the visitor's language.
                    note=gettext_noop("Every required item of the evidence request arrived.")
                    if not early
                    else gettext_noop("The customer said they sent everything they have."),
                    data={"evidence_request": request.pk},
                )
        except TransitionRefused:
            return True, False
        return True, True


# -- messages to the customer ---------------------------------------------------------------

MESSAGE_LINK = "evidence_link"
MESSAGE_REMINDER = "evidence_reminder"


def reminders_due(*, at: dt.datetime, before: dt.timedelta) -> QuerySet[EvidenceRequest]:
    """Customer requests whose deadline falls within ``before`` of ``at``, still unanswered,
    not yet reminded, at least ``before`` old (a request due tomorrow that was sent an hour
    ago gets no reminder), on cases still awaiting evidence, with an e-mail address."""
    return (
        EvidenceRequest.objects.filter(
            audience=Audience.CUSTOMER,
            revoked_at__isnull=True,
            fulfilled_at__isnull=True,
            reminder_sent_at__isnull=True,
            due_at__gt=at,
            due_at__lte=at + before,
            created_at__lte=at - before,
            case__state=CaseState.AWAITING_EVIDENCE,
        )
        .exclude(case__order__customer_email="")
        .select_related("case__order", "case__marketplace")
        .order_by("due_at", "pk")
    )


def evidence_request_send_message(
    *,
    evidence_request: EvidenceRequest | int,
    kind: str,
    send: Callable[[EvidenceRequest], str],
    actor: Actor,
    door: Door,
) -> bool:
    """Send one message about the request to the customer, once: ``kind`` is
    ``MESSAGE_LINK`` (the link, when the request is made) or ``MESSAGE_REMINDER`` (before the
    deadline, marked by ``reminder_sent_at``). ``send`` delivers it and returns the address it
    went to. Under the case lock, so two workers never both send; if ``send`` fails, nothing
    is recorded and a later run tries again. Returns whether it was sent now."""
    if kind not in {MESSAGE_LINK, MESSAGE_REMINDER}:
        raise ValueError(kind)
    pk = evidence_request if isinstance(evidence_request, int) else evidence_request.pk
    with transaction.atomic():
        case_id = EvidenceRequest.objects.values_list("case_id", flat=True).get(pk=pk)
        case = lock_case(case_id)
        request = (
            EvidenceRequest.objects.select_for_update(of=("self",))
            .select_related("case__order", "case__marketplace")
            .get(pk=pk)
        )
        if request.revoked_at is not None or not case.is_open or not case.order.customer_email:
            return False
        if kind == MESSAGE_REMINDER and request.reminder_sent_at is not None:
            return False
        if (
            kind == MESSAGE_LINK
            and case.events.filter(
                event_type=EventType.MESSAGE_SENT,
                data__message=MESSAGE_LINK,
                data__evidence_request=request.pk,
            ).exists()
        ):
            return False
        recipient = send(request)
        now = timezone.now()
        if kind == MESSAGE_REMINDER:
            request.reminder_sent_at = now
            request.save(update_fields=["reminder_sent_at"])
        record_event(
            case=case,
            event_type=EventType.MESSAGE_SENT,
            actor=actor,
            door=door,
            occurred_at=now,
            note=gettext_noop("Evidence reminder e-mailed to the customer.")
            if kind == MESSAGE_REMINDER
            else gettext_noop("Upload link e-mailed to the customer."),
            data={"message": kind, "evidence_request": request.pk, "to": recipient},
        )
    return True
