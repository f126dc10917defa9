"""Typed audit events: what each line of a case's history records, and how it reads.

An event is stored as its type and its parameters (``CaseEvent.event_type`` and ``data``, plus the
transition columns lists filter on); it is rendered in the reader's language when it is read
(``render_event``), never at write time, so that the timeline, the API and the dispute pack agree
in every language. Only the kernel (``cases.kernel``) writes events: services hand it one of the
dataclasses below with ``act.event(...)``.

Free text typed by a person (a note, a reason) is stored as typed and shown as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .choices import (
    ActorType,
    Audience,
    CaseKind,
    CaseState,
    EventType,
    MediaType,
    RefundDecision,
    RefundRejectionReason,
    ReviewStatus,
)
from .filenames import clean_name

if TYPE_CHECKING:
    from .models import CaseEvent

# The clocks a case runs (``cases.deadlines``), as people call them.
CLOCK_LABELS: dict[str, Promise] = {
    "response": _("First response"),
    "evidence": _("Evidence"),
    "resolution": _("Resolution"),
    "supplier_contact": _("Contact supplier"),
    "supplier_switch": _("Switch supplier"),
    "evidence_review": _("Evidence review"),
    "refund_decision": _("Refund decision"),
}

# Why deadlines were recomputed outside a change of the case itself.
DEADLINE_CAUSE_LABELS: dict[str, Promise] = {
    "calendar_change": _("the marketplace's calendar changed"),
    "policy_change": _("the marketplace's deadline policy changed"),
    "order_change": _("the order changed"),
    "repair": _("a stale deadline was repaired"),
}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _looked_up(names: dict[int, str], row_id: object) -> str:
    """The name of the row an event parameter points at; "" for a missing or odd id (an event
    written before the parameter existed)."""
    return names.get(row_id, "") if isinstance(row_id, int) else ""


def _amount(value: Any, currency: str = "") -> str:
    try:
        return f"{Decimal(str(value)):,.2f} {currency}".strip()
    except (InvalidOperation, ValueError):
        return str(value or "")


def local_time(value: Any, tz: Any = None) -> str:
    """An ISO moment kept in an event's parameters, as local time (``tz``)."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(moment, dt.datetime):
        return str(value or "")
    if tz is not None and timezone.is_aware(moment):
        moment = moment.astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs beyond the event: the marketplace's time zone and the names of the
    rows events point at (loaded once per page by the reader)."""

    tz: Any = None
    evidence_names: dict[int, str] = field(default_factory=dict)
    refund_currencies: dict[int, str] = field(default_factory=dict)
    # Where each carrier scan was (by tracking-event id): read from the scan's row, which an
    # erasure pseudonymises; the append-only event keeps none of it.
    tracking_locations: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedEvent:
    category: str  # opened, transition, evidence, refund, message, deadline, note, other
    title: str
    detail: str = ""


class CaseEventPayload:
    """Base of the typed events. Subclasses are frozen dataclasses; their fields are the
    event's parameters (JSON values: ISO strings for times)."""

    type: ClassVar[EventType]
    category: ClassVar[str] = "other"

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}  # type: ignore[call-overload]

    def columns(self) -> dict[str, str]:
        """Values of the event's own columns (transition, from_state, to_state)."""
        return {}

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent(cls.category, str(EventType(cls.type).label))


REGISTRY: dict[str, type[CaseEventPayload]] = {}


def _register(cls: type[CaseEventPayload]) -> type[CaseEventPayload]:
    REGISTRY[cls.type] = cls
    return cls


@_register
@dataclass(frozen=True)
class CaseOpened(CaseEventPayload):
    type = EventType.CASE_OPENED
    kind: str
    state: str = CaseState.NEW

    def columns(self) -> dict[str, str]:
        return {"to_state": self.state}

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent("opened", gettext("Case opened"), _label(CaseKind, params.get("kind")))


@_register
@dataclass(frozen=True)
class Transitioned(CaseEventPayload):
    type = EventType.TRANSITION
    transition: str
    from_state: str
    to_state: str
    reason_code: str = ""
    evidence_request: int | None = None  # the upload link whose files moved the case
    source: str = ""  # what caused it when not a person (e.g. "tracking")

    def params(self) -> dict[str, Any]:
        params = super().params()
        for name in ("transition", "from_state", "to_state"):
            params.pop(name, None)  # kept in their columns
        return params

    def columns(self) -> dict[str, str]:
        return {
            "transition": self.transition,
            "from_state": self.from_state,
            "to_state": self.to_state,
        }

    SOURCES: ClassVar[dict[str, Promise]] = {
        "evidence_complete": _("Every required item of the evidence request arrived."),
        "evidence_sent_all": _("The customer said they sent everything they have."),
        "refund_approved": _("Refund approved."),
        "tracking": _("From the carrier's tracking."),
    }

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        from .workflows import TRANSITIONS

        spec = TRANSITIONS.get(params.get("transition", ""))
        title = str(spec.label) if spec else str(params.get("transition", ""))
        detail = (
            f"{_label(CaseState, params.get('from_state'))} → "
            f"{_label(CaseState, params.get('to_state'))}"
        )
        source = cls.SOURCES.get(params.get("source", ""))
        if source is not None:
            detail = f"{detail} · {source}"
        return RenderedEvent("transition", title, detail)


@_register
@dataclass(frozen=True)
class EvidenceAdded(CaseEventPayload):
    type = EventType.EVIDENCE_ADDED
    evidence: int
    media_type: str
    sha256: str
    request: int | None = None
    # The file's name is personal data (it can be erased): read from the evidence row when
    # rendered, never copied here. Events recorded before kept it; they still render it.
    name: str = ""

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        media = _label(MediaType, params.get("media_type"))
        title = gettext("%(media)s added") % {"media": media}
        name = _looked_up(context.evidence_names, params.get("evidence")) or params.get("name", "")
        return RenderedEvent("evidence", title, clean_name(str(name)))


@_register
@dataclass(frozen=True)
class EvidenceReviewed(CaseEventPayload):
    type = EventType.EVIDENCE_REVIEWED
    evidence: int
    status: str

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        accepted = params.get("status") == ReviewStatus.ACCEPTED
        title = gettext("Evidence accepted") if accepted else gettext("Evidence rejected")
        return RenderedEvent(
            "evidence", title, _looked_up(context.evidence_names, params.get("evidence"))
        )


@_register
@dataclass(frozen=True)
class EvidenceRequested(CaseEventPayload):
    type = EventType.EVIDENCE_REQUESTED
    evidence_request: int
    audience: str
    due_at: str

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        detail = gettext("from %(audience)s, due %(due)s") % {
            "audience": _label(Audience, params.get("audience")),
            "due": local_time(params.get("due_at"), context.tz),
        }
        return RenderedEvent("evidence", gettext("Evidence requested"), detail)


@_register
@dataclass(frozen=True)
class EvidenceRequestRevoked(CaseEventPayload):
    type = EventType.EVIDENCE_REQUEST_REVOKED
    evidence_request: int

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent("evidence", gettext("Evidence link revoked"))


@_register
@dataclass(frozen=True)
class RefundRequested(CaseEventPayload):
    type = EventType.REFUND_REQUESTED
    refund_request: int
    amount: str
    currency: str

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        detail = _amount(params.get("amount"), params.get("currency", ""))
        return RenderedEvent("refund", gettext("Refund requested"), detail)


@_register
@dataclass(frozen=True)
class RefundDecided(CaseEventPayload):
    type = EventType.REFUND_DECIDED
    refund_request: int
    decision: str
    approved_amount: str = ""
    reason_code: str = ""

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        decision = params.get("decision")
        if decision == RefundDecision.REJECTED:
            detail = _label(RefundRejectionReason, params.get("reason_code"))
            return RenderedEvent("refund", gettext("Refund rejected"), detail)
        currency = _looked_up(context.refund_currencies, params.get("refund_request"))
        approved = params.get("approved_amount")
        detail = _amount(approved, currency) if approved else ""
        if decision == RefundDecision.PARTIALLY_APPROVED:
            return RenderedEvent("refund", gettext("Refund partially approved"), detail)
        return RenderedEvent("refund", gettext("Refund approved"), detail)


@_register
@dataclass(frozen=True)
class RefundOverturned(CaseEventPayload):
    type = EventType.REFUND_OVERTURNED
    refund_request: int

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent("refund", gettext("Refund rejection overturned by the platform"))


@_register
@dataclass(frozen=True)
class Assigned(CaseEventPayload):
    type = EventType.ASSIGNED
    before: str = ""  # user names
    after: str = ""

    def params(self) -> dict[str, Any]:
        return {"from": self.before, "to": self.after}

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        to, before = params.get("to"), params.get("from")
        if to:
            return RenderedEvent("other", gettext("Assigned to %(user)s") % {"user": to})
        detail = gettext("was %(user)s") % {"user": before} if before else ""
        return RenderedEvent("other", gettext("Unassigned"), detail)


@_register
@dataclass(frozen=True)
class DetailsChanged(CaseEventPayload):
    type = EventType.DETAILS_CHANGED
    before: dict[str, str]
    after: dict[str, str]

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        from .models import Case

        names = []
        for name in params.get("after", {}):
            try:
                names.append(str(Case._meta.get_field(name).verbose_name))
            except Exception:  # a field since removed: show its name
                names.append(name)
        return RenderedEvent("other", gettext("Details changed"), ", ".join(names))


@_register
@dataclass(frozen=True)
class MessageSent(CaseEventPayload):
    """A message the system sent about the case (upload link, reminder, clearance steps)."""

    type = EventType.MESSAGE_SENT
    message: str  # evidence_link, evidence_reminder, clearance_reminder
    # The address is personal data: not copied into the event (the request or reminder row it
    # points at says where it went). Events recorded before kept it; they still render it.
    to: str = ""
    evidence_request: int | None = None
    clearance_reminder: int | None = None
    language: str = ""

    TITLES: ClassVar[dict[str, Promise]] = {
        "evidence_link": _("Upload link e-mailed"),
        "evidence_reminder": _("Evidence reminder e-mailed"),
        "clearance_reminder": _("Clearance reminder e-mailed"),
    }

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        title = cls.TITLES.get(params.get("message", ""))
        if title is None:
            subject = str(params.get("subject", ""))
            return RenderedEvent(
                "message", gettext("Message sent"), subject or params.get("to", "")
            )
        return RenderedEvent("message", str(title), str(params.get("to", "")))


@_register
@dataclass(frozen=True)
class MessageNotSent(CaseEventPayload):
    """A message the system should have sent but could not (no address...): staff must act."""

    type = EventType.MESSAGE_NOT_SENT
    message: str
    problem: str  # no_address
    clearance_reminder: int | None = None

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        title = MessageSent.TITLES.get(params.get("message", ""), _("Message"))
        detail = (
            gettext("The order has no customer e-mail address: send the steps another way.")
            if params.get("problem") == "no_address"
            else str(params.get("problem", ""))
        )
        return RenderedEvent(
            "message", gettext("Not sent: %(what)s") % {"what": str(title).lower()}, detail
        )


@_register
@dataclass(frozen=True)
class FirstResponseRecorded(CaseEventPayload):
    type = EventType.FIRST_RESPONSE_RECORDED
    responded_at: str
    before: str | None = None

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent(
            "message",
            gettext("First response to the customer recorded"),
            local_time(params.get("responded_at"), context.tz),
        )


@_register
@dataclass(frozen=True)
class DeadlinesRecomputed(CaseEventPayload):
    type = EventType.DEADLINES_RECOMPUTED
    cause: str
    before: dict[str, str | None]
    after: dict[str, str | None]

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        cause = DEADLINE_CAUSE_LABELS.get(params.get("cause", ""), params.get("cause", ""))
        moved = []
        after = params.get("after", {})
        for name, before in params.get("before", {}).items():
            clock = name.removesuffix("_due_at")
            if clock == "next":
                continue
            label = str(CLOCK_LABELS.get(clock, clock))
            moved.append(
                f"{label}: {local_time(before, context.tz) or '–'} → "
                f"{local_time(after.get(name), context.tz) or '–'}"
            )
        title = gettext("Deadlines recomputed: %(cause)s") % {"cause": cause}
        return RenderedEvent("deadline", title, "; ".join(moved))


class _DeadlineAlert(CaseEventPayload):
    category = "deadline"

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        clock = params.get("clock", "")
        detail = str(CLOCK_LABELS.get(clock, clock))
        if params.get("due_at"):
            detail = f"{detail} · {local_time(params.get('due_at'), context.tz)}".strip(" ·")
        return RenderedEvent("deadline", str(EventType(cls.type).label), detail)


@_register
@dataclass(frozen=True)
class DeadlineAtRisk(_DeadlineAlert):
    type = EventType.DEADLINE_AT_RISK
    clock: str
    due_at: str
    business_days_left: int


@_register
@dataclass(frozen=True)
class DeadlineMissed(_DeadlineAlert):
    type = EventType.DEADLINE_MISSED
    clock: str
    due_at: str
    business_days_left: int


@_register
@dataclass(frozen=True)
class SupplierEscalation(CaseEventPayload):
    """A late shipment reached the day to push (2 days) or switch (4 days) the supplier."""

    type = EventType.SUPPLIER_ESCALATION
    step: str  # contact_supplier, switch_supplier
    due_at: str

    TEXTS: ClassVar[dict[str, Promise]] = {
        "contact_supplier": _("2 days late: contact the supplier to push the shipment."),
        "switch_supplier": _("4 days late: treat it as out of stock and switch supplier."),
    }

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        text = cls.TEXTS.get(params.get("step", ""), params.get("step", ""))
        return RenderedEvent("deadline", gettext("Late shipment"), str(text))


@_register
@dataclass(frozen=True)
class ReturnAnswered(CaseEventPayload):
    """The seller answered a return request of the case's order (the reason is the event's
    ``reason``)."""

    type = EventType.RETURN_ANSWERED
    return_request: int
    decision: str
    external_id: str = ""
    on_time: bool | None = None

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        from .choices import ReturnDecision

        decision = _label(ReturnDecision, params.get("decision"))
        detail = str(params.get("external_id", ""))
        if params.get("on_time") is False:
            detail = f"{detail} · {gettext('answered late')}".strip(" ·")
        return RenderedEvent(
            "refund",
            gettext("Return request answered: %(decision)s") % {"decision": decision},
            detail,
        )


@_register
@dataclass(frozen=True)
class NoteAdded(CaseEventPayload):
    """A note written by a person (the text is in the event's ``note``)."""

    type = EventType.NOTE
    internal: bool = True

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        return RenderedEvent("note", gettext("Note"))


@_register
@dataclass(frozen=True)
class PersonalDataErased(CaseEventPayload):
    """The customer's personal data was erased (``cases.personal_data``): the record says who
    asked and how much; the event says when, and nothing of the data."""

    type = EventType.PERSONAL_DATA_ERASED
    erasure: int

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        detail = gettext("erasure #%(id)s") % {"id": params.get("erasure", "")}
        return RenderedEvent("other", gettext("Customer's personal data erased"), detail)


@_register
@dataclass(frozen=True)
class TrackingEventRecorded(CaseEventPayload):
    """A carrier scan of a parcel of the case's order (``cases.services.tracking``). The
    tracking number is personal data (erasable with the order): the event points at the
    tracking-event row and keeps only its status: the location (which can name the customer's
    street) is read from that row when shown (``RenderContext.tracking_locations``). Events
    written before held ``location`` themselves (an erasure counts them as legacy events)."""

    type = EventType.TRACKING_EVENT
    category: ClassVar[str] = "tracking"
    tracking_event: int
    status: str
    location: str = ""

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        from .choices import TrackingStatus

        title = gettext("Carrier: %(status)s") % {
            "status": _label(TrackingStatus, params.get("status"))
        }
        location = context.tracking_locations.get(
            params.get("tracking_event", 0), params.get("location", "")
        )
        return RenderedEvent("tracking", title, str(location))


@_register
@dataclass(frozen=True)
class PackProduced(CaseEventPayload):
    """A dispute pack of the case was produced (``cases.packs``): its SHA-256 is what
    ``pack_verify`` checks a pack against later."""

    type = EventType.PACK_PRODUCED
    sha256: str
    manifest_sha256: str
    language: str
    internal_notes: bool = False
    files: int = 0

    @classmethod
    def render(cls, params: dict[str, Any], context: RenderContext) -> RenderedEvent:
        detail = gettext("SHA-256 %(sha)s, %(files)s files, language %(language)s") % {
            "sha": params.get("sha256", ""),
            "files": params.get("files", 0),
            "language": params.get("language", ""),
        }
        if params.get("internal_notes"):
            detail = f"{detail} · {gettext('internal notes included')}"
        return RenderedEvent("other", gettext("Dispute pack produced"), detail)


def render_event(event: CaseEvent, context: RenderContext | None = None) -> RenderedEvent:
    """How ``event`` reads in the active language."""
    context = context or RenderContext()
    payload = REGISTRY.get(event.event_type)
    params = dict(event.data or {})
    params.update({k: v for k, v in _columns_of(event).items() if v})
    if payload is None:
        return RenderedEvent("other", event.get_event_type_display())
    return payload.render(params, context)


def _columns_of(event: CaseEvent) -> dict[str, str]:
    return {
        "transition": event.transition,
        "from_state": event.from_state,
        "to_state": event.to_state,
    }


# System actors are named by an English phrase (a msgid): shown in the reader's language.
SYSTEM_ACTOR_NAMES: dict[str, Promise] = {
    "system": _("system"),
    "deadline sweep": _("deadline sweep"),
    "late-shipment escalation": _("late-shipment escalation"),
    "customs clearance reminder": _("customs clearance reminder"),
    "evidence reminders": _("evidence reminders"),
    "carrier": _("carrier"),
}


def render_actor(event: CaseEvent) -> str:
    """Who acted, in the reader's language (link holders by their role, the system by name)."""
    if event.actor_type == ActorType.LINK:
        if not event.actor_role:  # recorded before roles were: its name as written then
            return event.actor_name
        role = _label(Audience, event.actor_role)
        return gettext("%(role)s (upload link %(ref)s)") % {"role": role, "ref": event.actor_ref}
    if event.actor_type == ActorType.SYSTEM:
        return str(SYSTEM_ACTOR_NAMES.get(event.actor_name, event.actor_name))
    return event.actor_name
