"""Opening cases and moving them through their workflow.

``case_transition`` is the one path for a change of state: it locks the case row, checks that
the transition exists for the case's kind and state, that its time is plausible, its conditions
hold and the actor may run it; runs it; applies its consequences (timestamps, refund ledger);
recomputes the deadlines; writes the audit record; all in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplaces.models import Marketplace

from .. import workflows
from ..actors import Actor
from ..choices import (
    RESOLVED_STATES,
    ActorType,
    CaseKind,
    CaseState,
    Door,
    EventType,
    Priority,
    RefundDecision,
    RefundRejectionReason,
    ResolutionOutcome,
)
from ..errors import CaseRefused, ErrorCode, TransitionOption, TransitionRefused
from ..models import Case, CaseReferenceSequence, Order, at_time
from .audit import record_event
from .deadlines import apply_deadlines

_OUTCOME_OF_STATE = {
    CaseState.REFUNDED: ResolutionOutcome.REFUNDED,
    CaseState.RESHIPPED: ResolutionOutcome.RESHIPPED,
    CaseState.SHIPPED: ResolutionOutcome.SHIPPED,
    CaseState.DELIVERED: ResolutionOutcome.DELIVERED,
    CaseState.INTERCEPTION_FAILED: ResolutionOutcome.INTERCEPTION_FAILED,
}


def lock_case(pk: int) -> Case:
    """Load a case for change, holding its row lock until the transaction ends."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("marketplace", "order__marketplace")
        .get(pk=pk)
    )


def _next_reference(year: int) -> str:
    sequence, _created = CaseReferenceSequence.objects.select_for_update().get_or_create(year=year)
    CaseReferenceSequence.objects.filter(pk=year).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db()
    return f"AS-{year}-{sequence.last_value:06d}"


def check_not_future(moment: dt.datetime, *, field: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if timezone.is_naive(moment):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The time must include a time zone offset."),
            field=field,
        )
    if moment > now:
        raise TransitionRefused(
            ErrorCode.OCCURRED_IN_FUTURE,
            _("The time %(moment)s is in the future; give the time it really happened.")
            % {"moment": moment.isoformat()},
            field=field,
        )


def case_open(
    *,
    marketplace: Marketplace,
    order: Order,
    kind: CaseKind | str,
    actor: Actor,
    door: Door,
    opened_at: dt.datetime | None = None,
    description: str = "",
    external_id: str | None = None,
    external_claim_id: str = "",
    priority: int = Priority.NORMAL,
    assignee: Any = None,
    refund_request: dict[str, Any] | None = None,
) -> tuple[Case, bool]:
    """Open a case, or return the existing one with the same ``external_id`` (created=False)."""
    if kind not in CaseKind.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("%(kind)s is not a case kind. Kinds: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(CaseKind.values)},
            field="kind",
        )
    if order.marketplace_id != marketplace.pk:
        raise CaseRefused(
            ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
            _("Order %(order)s belongs to another marketplace.") % {"order": order.external_id},
            field="order",
        )
    opened_at = opened_at or timezone.now()
    check_not_future(opened_at, field="opened_at")
    if opened_at < order.placed_at:
        raise CaseRefused(
            ErrorCode.OPENED_BEFORE_ORDER,
            _("A case cannot be opened before its order was placed (%(placed)s).")
            % {"placed": order.placed_at.isoformat()},
            field="opened_at",
        )
    with transaction.atomic():
        if external_id:
            existing = Case.objects.filter(marketplace=marketplace, external_id=external_id).first()
            if existing is not None:
                return existing, False
        case = Case(
            reference=_next_reference(opened_at.year),
            marketplace=marketplace,
            order=order,
            kind=kind,
            opened_at=opened_at,
            description=description,
            external_id=external_id or None,
            external_claim_id=external_claim_id,
            priority=priority,
            assignee=assignee,
        )
        apply_deadlines(case)
        case.save()
        record_event(
            case=case,
            event_type=EventType.CASE_OPENED,
            actor=actor,
            door=door,
            occurred_at=opened_at,
            to_state=case.state,
            note=description[:500],
            data={"kind": case.kind},
        )
        if refund_request:
            from .refunds import refund_request_create

            refund_request_create(case=case, actor=actor, door=door, **refund_request)
    return case, True


# -- transitions ------------------------------------------------------------------------------


def _option(spec: workflows.TransitionSpec) -> TransitionOption:
    return TransitionOption(
        name=spec.name,
        target=spec.target.value,
        label=str(spec.label),
        requires_reason=spec.requires_reason,
        help_text=str(spec.help_text),
    )


def _refusal_of(case: Case, name: str) -> str | None:
    """The message of the first condition of ``name`` that does not hold, or None."""
    method = getattr(case, name)
    fsm_transition = method._django_fsm.get_transition(case.state)
    if fsm_transition is None:
        return _("This transition does not start from the current state.")
    for condition in fsm_transition.conditions:
        if not condition(case):
            return str(
                getattr(condition, "refusal", _("A condition of this transition is not met."))
            )
    return None


def case_available_transitions(
    case: Case, actor: Actor, *, at: dt.datetime | None = None
) -> list[TransitionOption]:
    """What ``actor`` can run on ``case`` now: in the kind's graph from the current state,
    conditions met, permission held."""
    options = []
    with at_time(case, at or timezone.now()):
        for spec in workflows.transitions_from(case.kind, case.state):
            if spec.permission and not actor.has_perm(spec.permission):
                continue
            if _refusal_of(case, spec.name) is None:
                options.append(_option(spec))
    return options


def case_transition(
    *,
    case: Case | int,
    transition: str,
    actor: Actor,
    door: Door,
    occurred_at: dt.datetime | None = None,
    note: str = "",
    reason: str = "",
    reason_code: str = "",
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
) -> Case:
    """Run ``transition`` on ``case``; returns the updated case.

    Raises ``TransitionRefused`` (nothing written) when the transition does not exist for the
    kind, does not start from the current state, a condition fails, the actor lacks the right,
    a reason is missing, ``occurred_at`` is in the future or before the last transition, or the
    case changed since ``expected_version``.
    """
    pk = case if isinstance(case, int) else case.pk
    with transaction.atomic():
        locked = lock_case(pk)
        _transition_locked(
            locked,
            transition,
            actor=actor,
            door=door,
            occurred_at=occurred_at,
            note=note,
            reason=reason,
            reason_code=reason_code,
            expected_version=expected_version,
            data=data,
        )
    return locked


def _transition_locked(
    case: Case,
    name: str,
    *,
    actor: Actor,
    door: Door,
    occurred_at: dt.datetime | None,
    note: str,
    reason: str,
    reason_code: str = "",
    expected_version: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """The body of ``case_transition``; ``case`` is locked by the caller's transaction."""
    now = timezone.now()
    at = occurred_at or now

    def refuse(code: ErrorCode, message: str, field: str | None = None) -> TransitionRefused:
        return TransitionRefused(
            code, message, available=case_available_transitions(case, actor, at=now), field=field
        )

    if expected_version is not None and expected_version != case.version:
        raise refuse(
            ErrorCode.CASE_CHANGED,
            _("Case %(ref)s changed since you loaded it (now %(state)s). Reload it and try again.")
            % {"ref": case.reference, "state": case.get_state_display()},
        )
    spec = workflows.TRANSITIONS.get(name)
    graph = workflows.kind_transitions(case.kind)
    if spec is None or name not in graph:
        raise refuse(
            ErrorCode.TRANSITION_UNKNOWN,
            _("'%(name)s' is not a transition of %(kind)s cases.")
            % {"name": name, "kind": case.get_kind_display()},
            field="transition",
        )
    if case.state not in graph[name]:
        raise refuse(
            ErrorCode.TRANSITION_NOT_AVAILABLE,
            _("'%(label)s' cannot be done on case %(ref)s while it is %(state)s.")
            % {"label": spec.label, "ref": case.reference, "state": case.get_state_display()},
        )
    if occurred_at is not None:
        check_not_future(occurred_at, field="occurred_at", now=now)
    floor = case.last_transition_at or case.opened_at
    if at < floor:
        raise refuse(
            ErrorCode.OCCURRED_BEFORE_PREVIOUS,
            _(
                "The time %(at)s is before the case's last change (%(floor)s); transitions "
                "are recorded in the order they happened."
            )
            % {"at": at.isoformat(), "floor": floor.isoformat()},
            field="occurred_at",
        )
    if spec.permission and not actor.has_perm(spec.permission):
        raise refuse(
            ErrorCode.PERMISSION_DENIED,
            _("'%(label)s' needs a supervisor; %(actor)s may not do it.")
            % {"label": spec.label, "actor": actor.name},
        )
    if spec.requires_reason and not reason.strip():
        raise refuse(
            ErrorCode.REASON_REQUIRED,
            _("'%(label)s' needs a reason.") % {"label": spec.label},
            field="reason",
        )
    with at_time(case, at):
        problem = _refusal_of(case, name)
    if problem is not None:
        raise refuse(ErrorCode.CONDITION_FAILED, problem)
    from_state = case.state
    getattr(case, name)()
    _apply_consequences(
        case, name, at=at, actor=actor, door=door, reason=reason, reason_code=reason_code
    )
    case.last_transition_at = at
    if case.first_responded_at is None and actor.type != ActorType.SYSTEM:
        case.first_responded_at = at
    apply_deadlines(case)
    case.version += 1
    case.save()
    record_event(
        case=case,
        event_type=EventType.TRANSITION,
        actor=actor,
        door=door,
        occurred_at=at,
        transition=name,
        from_state=from_state,
        to_state=case.state,
        note=note,
        reason=reason,
        data={**(data or {}), **({"reason_code": reason_code} if reason_code else {})},
    )


def _apply_consequences(
    case: Case,
    name: str,
    *,
    at: dt.datetime,
    actor: Actor,
    door: Door,
    reason: str,
    reason_code: str,
) -> None:
    """What a transition means beyond the state: moments, outcome, refund ledger."""
    state = case.state
    if name == "request_evidence":
        case.evidence_requested_at = at
        # Evidence intake (issue 4): a case awaiting evidence gives the customer a request, and
        # so an upload link, unless an open one exists. Same transaction, same lock.
        from .evidence_requests import evidence_request_ensure_for_customer

        evidence_request_ensure_for_customer(case=case, actor=actor, door=door, at=at)
    elif name in {"confirm", "platform_overturns"}:
        case.confirmed_at = at
        case.resolved_at = None
        case.resolution_met = None
        case.resolution_outcome = ""
    elif name == "escalate" and not case.escalated:
        case.escalated = True
        case.escalated_at = at
    if name == "reject":
        case.resolution_outcome = ResolutionOutcome.CLAIM_REJECTED
        _reject_open_refunds(
            case, at=at, actor=actor, door=door, reason=reason, reason_code=reason_code
        )
    elif name == "platform_overturns":
        _overturn_rejected_refunds(case, at=at, actor=actor, door=door)
    elif name == "mark_refunded":
        _approve_open_refunds(case, at=at, actor=actor, door=door)
    elif name == "platform_upholds":
        case.resolution_outcome = ResolutionOutcome.PLATFORM_UPHELD_SELLER
    elif name == "withdraw":
        case.resolution_outcome = ResolutionOutcome.WITHDRAWN
    if state in RESOLVED_STATES and case.resolved_at is None:
        case.resolved_at = at
        case.resolution_outcome = _OUTCOME_OF_STATE[state]
        due = case.resolution_due_at
        case.resolution_met = None if due is None else at <= due
    if state in {CaseState.CLOSED, CaseState.WITHDRAWN}:
        case.closed_at = at


def _decider_fields(actor: Actor) -> dict[str, Any]:
    return {"decided_by": actor.user, "decided_by_name": actor.name[:150]}


def _reject_open_refunds(
    case: Case, *, at: dt.datetime, actor: Actor, door: Door, reason: str, reason_code: str
) -> None:
    code = (
        reason_code
        if reason_code in RefundRejectionReason.values
        else (RefundRejectionReason.OTHER)
    )
    for refund in case.refund_requests.filter(decision=""):
        refund.decision = RefundDecision.REJECTED
        refund.decided_at = at
        refund.rejection_reason = code
        refund.rejection_note = reason
        for field, value in _decider_fields(actor).items():
            setattr(refund, field, value)
        refund.save()
        record_event(
            case=case,
            event_type=EventType.REFUND_DECIDED,
            actor=actor,
            door=door,
            occurred_at=at,
            reason=reason,
            data={"refund_request": refund.pk, "decision": refund.decision, "reason_code": code},
        )


def _approve_open_refunds(case: Case, *, at: dt.datetime, actor: Actor, door: Door) -> None:
    for refund in case.refund_requests.filter(decision=""):
        refund.decision = RefundDecision.APPROVED
        refund.approved_amount = refund.amount
        refund.decided_at = at
        for field, value in _decider_fields(actor).items():
            setattr(refund, field, value)
        refund.save()
        record_event(
            case=case,
            event_type=EventType.REFUND_DECIDED,
            actor=actor,
            door=door,
            occurred_at=at,
            data={
                "refund_request": refund.pk,
                "decision": refund.decision,
                "approved_amount": str(refund.approved_amount),
            },
        )


def _overturn_rejected_refunds(case: Case, *, at: dt.datetime, actor: Actor, door: Door) -> None:
    rejected = case.refund_requests.filter(
        decision=RefundDecision.REJECTED, overturned_at__isnull=True
    )
    for refund in rejected:
        refund.overturned_at = at
        refund.save(update_fields=["overturned_at"])
        record_event(
            case=case,
            event_type=EventType.REFUND_OVERTURNED,
            actor=actor,
            door=door,
            occurred_at=at,
            data={"refund_request": refund.pk},
        )


def case_assign(*, case: Case | int, assignee: Any, actor: Actor, door: Door) -> Case:
    """Give the case to ``assignee`` (None to unassign)."""
    pk = case if isinstance(case, int) else case.pk
    with transaction.atomic():
        locked = lock_case(pk)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return locked
        previous = locked.assignee.get_username() if locked.assignee else ""
        locked.assignee = assignee
        locked.version += 1
        locked.save(update_fields=["assignee", "version", "updated_at"])
        record_event(
            case=locked,
            event_type=EventType.ASSIGNED,
            actor=actor,
            door=door,
            data={"from": previous, "to": assignee.get_username() if assignee else ""},
        )
    return locked


def case_record_first_response(
    *, case: Case | int, responded_at: dt.datetime, actor: Actor, door: Door
) -> Case:
    """Record the first answer to the customer (stops the response clock)."""
    pk = case if isinstance(case, int) else case.pk
    check_not_future(responded_at, field="responded_at")
    with transaction.atomic():
        locked = lock_case(pk)
        if locked.first_responded_at is None or responded_at < locked.first_responded_at:
            before = locked.first_responded_at
            locked.first_responded_at = responded_at
            apply_deadlines(locked)
            locked.version += 1
            locked.save()
            record_event(
                case=locked,
                event_type=EventType.DEADLINES_RECOMPUTED,
                actor=actor,
                door=door,
                occurred_at=responded_at,
                # Audit notes stay in English whatever the reader's language.
                note=gettext_noop(
                    "First response to the customer recorded; the response clock stopped."
                ),
                data={
                    "first_responded_at": responded_at.isoformat(),
                    "before": before.isoformat() if before else None,
                },
            )
    return locked


EDITABLE_DETAILS = ("priority", "description", "external_claim_id")


def case_update_details(
    *,
    case: Case | int,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
    **details: Any,
) -> Case:
    """Change the descriptive fields of a case (priority, description, claim id)."""
    unknown = set(details) - set(EDITABLE_DETAILS)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")
    pk = case if isinstance(case, int) else case.pk
    with transaction.atomic():
        locked = lock_case(pk)
        if expected_version is not None and expected_version != locked.version:
            raise TransitionRefused(
                ErrorCode.CASE_CHANGED,
                _("Case %(ref)s changed since you loaded it. Reload it and try again.")
                % {"ref": locked.reference},
            )
        changed = {k: v for k, v in details.items() if getattr(locked, k) != v}
        if not changed:
            return locked
        before = {k: str(getattr(locked, k)) for k in changed}
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save(update_fields=[*changed, "version", "updated_at"])
        record_event(
            case=locked,
            event_type=EventType.NOTE,
            actor=actor,
            door=door,
            note=_("Details changed: %(fields)s") % {"fields": ", ".join(changed)},
            data={"before": before, "after": {k: str(v) for k, v in changed.items()}},
        )
    return locked
