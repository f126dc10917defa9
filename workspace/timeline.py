"""One timeline of everything that happened on a case, newest first: the audit records (read
only) and, when the messaging app is installed, the messages exchanged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cases import workflows
from cases.choices import (
    Audience,
    CaseKind,
    CaseState,
    Door,
    EventType,
    MediaType,
    RefundDecision,
    RefundRejectionReason,
    ReviewStatus,
)
from cases.models import Case, CaseEvent

from .urgency import CLOCK_LABELS

TIMELINE_LIMIT = 200
KNOWN_MESSAGES = {"evidence_reminder", "evidence_link"}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline."""

    at: dt.datetime
    recorded_at: dt.datetime | None
    category: str  # css class: transition, evidence, refund, message, deadline, other
    title: str
    detail: str = ""
    actor: str = ""
    door: str = ""
    note: str = ""
    reason: str = ""
    pk: int = 0

    @property
    def recorded_later(self) -> bool:
        """Recorded well after it happened (imported history, back-dated transitions)."""
        return self.recorded_at is not None and self.recorded_at - self.at > dt.timedelta(minutes=5)


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _amount(value: Any, currency: str = "") -> str:
    try:
        return f"{Decimal(str(value)):,.2f} {currency}".strip()
    except (InvalidOperation, ValueError):
        return str(value)


def _when(value: Any, tz: Any = None) -> str:
    """An ISO moment kept in an event's data, as local time of the case's marketplace."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return str(value or "")
    if tz is not None and timezone.is_aware(moment):
        moment = moment.astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


def describe_event(
    event: CaseEvent,
    *,
    evidence_names: dict[int, str],
    refunds: dict[int, Any],
    tz: Any = None,
) -> tuple[str, str, str]:
    """(category, title, detail) of an audit record, in the reader's language."""
    data = event.data or {}
    kind = event.event_type
    if kind == EventType.CASE_OPENED:
        return "opened", _("Case opened"), _label(CaseKind, data.get("kind"))
    if kind == EventType.TRANSITION:
        spec = workflows.TRANSITIONS.get(event.transition)
        title = str(spec.label) if spec else event.transition
        detail = f"{_label(CaseState, event.from_state)} → {_label(CaseState, event.to_state)}"
        return "transition", title, detail
    if kind == EventType.EVIDENCE_ADDED:
        media = _label(MediaType, data.get("media_type"))
        return "evidence", _("%(media)s added") % {"media": media}, str(data.get("name", ""))
    if kind == EventType.EVIDENCE_REVIEWED:
        name = evidence_names.get(data.get("evidence"), "")
        status = data.get("status")
        title = (
            _("Evidence accepted") if status == ReviewStatus.ACCEPTED else _("Evidence rejected")
        )
        return "evidence", title, name
    if kind == EventType.EVIDENCE_REQUESTED:
        audience = _label(Audience, data.get("audience"))
        detail = _("from %(audience)s, due %(due)s") % {
            "audience": audience,
            "due": _when(data.get("due_at"), tz),
        }
        return "evidence", _("Evidence requested"), detail
    if kind == EventType.EVIDENCE_REQUEST_REVOKED:
        return "evidence", _("Evidence link revoked"), ""
    if kind == EventType.REFUND_REQUESTED:
        return (
            "refund",
            _("Refund requested"),
            _amount(data.get("amount"), data.get("currency", "")),
        )
    if kind == EventType.REFUND_DECIDED:
        refund = refunds.get(data.get("refund_request"))
        currency = refund.currency if refund is not None else ""
        decision = data.get("decision")
        if decision == RefundDecision.REJECTED:
            detail = _label(RefundRejectionReason, data.get("reason_code"))
            return "refund", _("Refund rejected"), detail
        approved = data.get("approved_amount")
        detail = _amount(approved, currency) if approved else ""
        if decision == RefundDecision.PARTIALLY_APPROVED:
            return "refund", _("Refund partially approved"), detail
        return "refund", _("Refund approved"), detail
    if kind == EventType.REFUND_OVERTURNED:
        return "refund", _("Refund rejection overturned by the platform"), ""
    if kind == EventType.ASSIGNED:
        to, before = data.get("to"), data.get("from")
        if to:
            return "other", _("Assigned to %(user)s") % {"user": to}, ""
        return "other", _("Unassigned"), _("was %(user)s") % {"user": before} if before else ""
    if kind in {EventType.DEADLINE_AT_RISK, EventType.DEADLINE_MISSED}:
        clock = data.get("clock") or data.get("deadline") or ""
        detail = str(CLOCK_LABELS.get(clock, clock))
        if data.get("due_at"):
            detail = f"{detail} · {_when(data.get('due_at'), tz)}".strip(" ·")
        return "deadline", event.get_event_type_display(), detail
    if kind == EventType.MESSAGE_SENT:
        to = str(data.get("to", ""))
        if data.get("message") == "evidence_reminder":
            return "message", _("Evidence reminder e-mailed"), to
        if data.get("message") == "evidence_link":
            return "message", _("Upload link e-mailed"), to
        return "message", _("Message sent"), str(data.get("subject", "")) or to
    return "other", event.get_event_type_display(), ""


def _event_entries(
    case: Case, *, evidence_names: dict[int, str], refunds: dict[int, Any], limit: int
) -> list[TimelineEntry]:
    events = CaseEvent.objects.filter(case=case).order_by("-occurred_at", "-pk")[:limit]
    entries = []
    for event in events:
        category, title, detail = describe_event(
            event, evidence_names=evidence_names, refunds=refunds, tz=case.marketplace.tz
        )
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                recorded_at=event.recorded_at,
                category=category,
                title=title,
                detail=detail,
                actor=event.actor_name,
                door=_label(Door, event.door),
                # The engine's own notes on e-mails are English; the title says it already.
                note="" if (event.data or {}).get("message") in KNOWN_MESSAGES else event.note,
                reason=event.reason,
                pk=event.pk,
            )
        )
    return entries


def _message_entries(case: Case, *, limit: int) -> list[TimelineEntry]:
    """Messages of the ``messaging`` app, when it is installed (it is optional here)."""
    if not apps.is_installed("messaging"):
        return []
    from .messages import message_entries

    return message_entries(case, limit=limit)


def case_timeline(
    case: Case,
    *,
    evidence_names: dict[int, str] | None = None,
    refunds: dict[int, Any] | None = None,
    limit: int = TIMELINE_LIMIT,
) -> list[TimelineEntry]:
    """The ``limit`` most recent entries, newest first."""
    entries = _event_entries(
        case, evidence_names=evidence_names or {}, refunds=refunds or {}, limit=limit
    )
    entries += _message_entries(case, limit=limit)
    entries.sort(key=lambda entry: (entry.at, entry.pk), reverse=True)
    return entries[:limit]
