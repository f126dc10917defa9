"""What a dispute pack says about a case, read once (a handful of queries), in the active
language: the case, its order and customer as the platform knows them, the transitions, the
messages and notes (each marked internal or not), the evidence, the refund requests and their
decisions, and each deadline with whether it was met."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from cases.choices import EventType
from cases.events import RenderContext, local_time, render_actor, render_event
from cases.models import Case, CaseEvent, Evidence, RefundRequest
from cases.services.tracking import tracking_locations
from marketplaces.calendars import calendar_for


@dataclass(frozen=True)
class Line:
    """One dated line of the pack (a transition, a message, a note, an event)."""

    at: dt.datetime
    title: str
    detail: str = ""
    actor: str = ""
    text: str = ""
    internal: bool = False


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    met: bool | None  # None: still running, or not a deadline to meet

    @property
    def verdict(self) -> str:
        if self.met is True:
            return _("met")
        if self.met is False:
            return _("missed")
        return _("running") if self.done_at is None else "—"


@dataclass
class PackContents:
    case: Case
    language: str
    include_internal: bool
    produced_at: dt.datetime
    tz: Any
    transitions: list[Line] = field(default_factory=list)
    history: list[Line] = field(default_factory=list)
    messages: list[Line] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    refunds: list[RefundRequest] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    shipments: list[tuple[str, str]] = field(default_factory=list)

    def when(self, moment: dt.datetime | None) -> str:
        return local_time(moment, self.tz) if moment else "—"


def pack_contents(
    case: Case, *, language: str, include_internal: bool, at: dt.datetime
) -> PackContents:
    """Everything the pack shows about ``case`` (render with the pack's language active)."""
    case = Case.objects.select_related("marketplace", "order__marketplace", "assignee").get(
        pk=case.pk
    )
    tz = case.marketplace.tz
    contents = PackContents(case, language, include_internal, at, tz)
    contents.evidence = list(Evidence.objects.filter(case=case).order_by("uploaded_at", "pk"))
    contents.refunds = list(RefundRequest.objects.filter(case=case).order_by("requested_at", "pk"))
    contents.shipments = list(
        case.order.shipments.order_by("pk").values_list("carrier", "tracking_number")
    )
    events = list(CaseEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
    context = RenderContext(
        tz=tz,
        evidence_names={e.pk: e.original_name for e in contents.evidence},
        refund_currencies={r.pk: r.currency for r in contents.refunds},
        # a scan's place is read from its row (erasable), not from the audit trail
        tracking_locations=tracking_locations(events),
    )
    for event in events:
        rendered = render_event(event, context)
        internal = event.event_type == EventType.NOTE and (event.data or {}).get("internal", True)
        if internal and not include_internal:
            continue
        line = Line(
            at=event.occurred_at,
            title=rendered.title,
            detail=rendered.detail,
            actor=render_actor(event),
            text="\n".join(part for part in (event.reason, event.note) if part),
            internal=bool(internal),
        )
        if event.event_type == EventType.TRANSITION:
            contents.transitions.append(line)
        elif event.event_type == EventType.NOTE:
            contents.messages.append(line)
        elif event.event_type != EventType.PACK_PRODUCED:
            contents.history.append(line)
    contents.messages.extend(_messages(case, include_internal=include_internal))
    contents.messages.sort(key=lambda line: line.at)
    contents.deadlines = _deadlines(case, events, contents, at=at)
    return contents


def _messages(case: Case, *, include_internal: bool) -> list[Line]:
    """Messages exchanged about the case (external) and the conversations' notes (internal)."""
    from messaging.models import ConversationNote, Direction, Message

    lines = []
    messages = Message.objects.filter(
        Q(case=case) | Q(order_id=case.order_id, case__isnull=True)
    ).exclude(is_spam=True)
    for message in messages.order_by("sent_at", "pk"):
        counterpart = message.get_counterpart_display()
        inbound = message.direction == Direction.INBOUND
        title = (
            _("Message from %(who)s") % {"who": counterpart}
            if inbound
            else _("Message to %(who)s") % {"who": counterpart}
        )
        lines.append(
            Line(
                at=message.sent_at,
                title=title,
                detail=message.subject,
                actor=counterpart if inbound else _("seller"),
                text=message.body,
            )
        )
    if include_internal:
        for note in ConversationNote.objects.filter(case=case).order_by("created_at", "pk"):
            lines.append(
                Line(
                    at=note.created_at,
                    title=_("Note"),
                    actor=note.author_name,
                    text=note.text,
                    internal=True,
                )
            )
    return lines


def _deadlines(
    case: Case, events: list[CaseEvent], contents: PackContents, *, at: dt.datetime
) -> list[Deadline]:
    """Each clock the case ran, its due time, when it stopped and whether it was met."""
    calendar = calendar_for(case.marketplace)
    marketplace = case.marketplace
    out = []

    def verdict(due: dt.datetime | None, done: dt.datetime | None) -> bool | None:
        if due is None:
            return None
        if done is not None:
            return done <= due
        return False if at > due else None

    if case.response_due_at:
        out.append(
            Deadline(
                _("First response"),
                case.response_due_at,
                case.first_responded_at,
                verdict(case.response_due_at, case.first_responded_at),
            )
        )
    if case.evidence_due_at:
        first_file = next(
            (
                e.uploaded_at
                for e in contents.evidence
                if case.evidence_requested_at and e.uploaded_at >= case.evidence_requested_at
            ),
            None,
        )
        out.append(
            Deadline(
                _("Evidence"),
                case.evidence_due_at,
                first_file,
                verdict(case.evidence_due_at, first_file),
            )
        )
    if case.resolution_due_at:
        out.append(
            Deadline(
                _("Resolution"),
                case.resolution_due_at,
                case.resolved_at,
                case.resolution_met if case.resolved_at else verdict(case.resolution_due_at, None),
            )
        )
    moves = [e for e in events if e.event_type == EventType.TRANSITION]
    review_days = marketplace.evidence_review_business_days
    if review_days is not None:
        for index, move in enumerate(moves):
            if move.to_state != "under_review":
                continue
            due = calendar.deadline(move.occurred_at, review_days)
            done = moves[index + 1].occurred_at if index + 1 < len(moves) else None
            out.append(Deadline(_("Evidence review"), due, done, verdict(due, done)))
    refund_days = marketplace.refund_decision_business_days
    if refund_days is not None:
        for refund in contents.refunds:
            due = calendar.deadline(refund.requested_at, refund_days)
            out.append(
                Deadline(
                    _("Refund decision (%(amount)s %(currency)s)")
                    % {"amount": refund.amount, "currency": refund.currency},
                    due,
                    refund.decided_at,
                    verdict(due, refund.decided_at),
                )
            )
    return out
