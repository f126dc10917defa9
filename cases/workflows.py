"""The workflow of each case kind, as data (docs/domain.md §2).

This table is the single source of the workflow: states come from ``choices.CaseState``; every
transition has one target, a label, its guards (``Condition``: a function of the case and the
time that holds or not, with the refusal in plain words), its effects (functions that change the
case inside the kernel's action), the permission it needs and whether it needs a reason; and
``WORKFLOWS`` says, per kind, which states each transition starts from.

``Case`` gets one django-fsm transition method per entry, generated from this table
(``fsm_transition_methods``); the kernel runs them through django-fsm's public API. Adding a
transition means adding a line here (and a migration when a new state value appears).
The README's diagrams are generated from this table (``python manage.py workflow_diagrams``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import transition as fsm_transition

from .choices import CLAIM_KINDS, RESOLVED_STATES, TERMINAL_STATES, CaseKind, ResolutionOutcome
from .choices import CaseState as S


def _table_holds(condition: bool, what: str) -> None:
    """A check of the table itself at import: a broken table must not load (kept under -O)."""
    if not condition:
        raise RuntimeError(f"cases.workflows: the transition table lacks {what}")


if TYPE_CHECKING:
    from .kernel import CaseAction
    from .models import Case

SUPERVISE_REJECT_CLAIM = "cases.reject_claim"
SUPERVISE_WITHDRAW = "cases.withdraw_case"
SUPERVISE_PLATFORM_RULING = "cases.record_platform_ruling"
SUPERVISE_REJECT_REFUND = "cases.reject_refund"

# Late shipments: push the supplier at 2 days late, switch supplier at 4 (calendar days from the
# marketplace's midnight after the promised ship date).
LATE_CONTACT_DAYS = 2
LATE_SWITCH_DAYS = 4


# -- guards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A guard of a transition. ``holds(case, at)`` answers for the moment ``at`` (the time the
    transition happens, which an integration may give in the past); ``refusal`` tells the user
    why the transition cannot run when it does not hold."""

    name: str
    holds: Callable[[Case, dt.datetime], bool]
    refusal: Promise


EVIDENCE_RECEIVED = Condition(
    "evidence_received",
    lambda case, at: case.has_valid_evidence(),
    _("At least one valid photo or video is needed before the claim can be reviewed."),
)


def _order_is_domestic(case: Case, at: dt.datetime) -> bool:
    # A function, not a lambda: mypy checks a function body once the import cycle with the
    # Case model has resolved, and could not type ``case.order`` in a module-level lambda.
    return case.order.is_domestic


ORDER_IS_DOMESTIC = Condition(
    "order_is_domestic",
    _order_is_domestic,
    _(
        "International orders cannot be intercepted: only domestic orders can be stopped in "
        "transit, and an international order cannot be refunded for a wrong address or a "
        "cancellation after shipment."
    ),
)
TWO_DAYS_LATE = Condition(
    "two_days_late",
    lambda case, at: case.is_late_by(LATE_CONTACT_DAYS, at=at),
    _("The supplier can be pushed only from 2 days after the promised ship date."),
)
FOUR_DAYS_LATE = Condition(
    "four_days_late",
    lambda case, at: case.is_late_by(LATE_SWITCH_DAYS, at=at),
    _("The supplier can be switched only from 4 days after the promised ship date."),
)


# -- effects: what a transition means beyond the state --------------------------------------------
# Each runs inside the kernel's action (the case is locked; ``act.case`` is it) before the state
# changes; effects on other rows (the refund ledger, evidence requests) record their own events.


@dataclass(frozen=True)
class TransitionStep:
    """One run of a transition, as its effects see it."""

    name: str
    at: dt.datetime  # when it happened on the marketplace
    note: str = ""
    reason: str = ""
    reason_code: str = ""


Effect = Callable[["CaseAction", TransitionStep], None]


def _evidence_requested(act: CaseAction, step: TransitionStep) -> None:
    from .services.evidence_requests import evidence_request_ensure_for_customer

    act.case.evidence_requested_at = step.at
    # A case awaiting evidence gives the customer a request, and so an upload link.
    evidence_request_ensure_for_customer(act, at=step.at)


def _confirmed(act: CaseAction, step: TransitionStep) -> None:
    case = act.case
    case.confirmed_at = step.at
    case.resolved_at = None
    case.resolution_met = None
    case.resolution_outcome = ""


def _escalated(act: CaseAction, step: TransitionStep) -> None:
    if not act.case.escalated:
        act.case.escalated = True
        act.case.escalated_at = step.at


def _claim_rejected(act: CaseAction, step: TransitionStep) -> None:
    from .ledger import refunds_reject_open

    act.case.resolution_outcome = ResolutionOutcome.CLAIM_REJECTED
    # Rejecting the claim rejects its open refund requests, with the same rules as a refund
    # rejection (reason code from the list; "other" when none is given, with the reason).
    refunds_reject_open(act, at=step.at, reason_code=step.reason_code or "other", note=step.reason)


def _rejection_overturned(act: CaseAction, step: TransitionStep) -> None:
    from .ledger import refunds_overturn_rejected

    refunds_overturn_rejected(act, at=step.at)


def _refund_paid(act: CaseAction, step: TransitionStep) -> None:
    from .ledger import refunds_approve_open

    refunds_approve_open(act, at=step.at)


def _outcome(outcome: ResolutionOutcome) -> Effect:
    def effect(act: CaseAction, step: TransitionStep) -> None:
        act.case.resolution_outcome = outcome

    return effect


# Entering a state of the remedy ends the resolution clock; these outcomes say which remedy.
OUTCOME_OF_RESOLVED_STATE = {
    S.REFUNDED: ResolutionOutcome.REFUNDED,
    S.RESHIPPED: ResolutionOutcome.RESHIPPED,
    S.SHIPPED: ResolutionOutcome.SHIPPED,
    S.DELIVERED: ResolutionOutcome.DELIVERED,
    S.INTERCEPTION_FAILED: ResolutionOutcome.INTERCEPTION_FAILED,
}
_table_holds(set(OUTCOME_OF_RESOLVED_STATE) == RESOLVED_STATES, "an outcome per resolved state")


def entered_state(case: Case, at: dt.datetime) -> None:
    """What reaching its new state means for any kind (run after every transition)."""
    state = case.state
    if state in RESOLVED_STATES and case.resolved_at is None:
        case.resolved_at = at
        case.resolution_outcome = OUTCOME_OF_RESOLVED_STATE[state]
        due = case.resolution_due_at
        case.resolution_met = None if due is None else at <= due
    if state in TERMINAL_STATES:
        case.closed_at = at


# -- the transitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    target: S
    label: Promise
    help_text: Promise | str = ""
    requires_reason: bool = False
    permission: str | None = None
    conditions: tuple[Condition, ...] = ()
    effects: tuple[Effect, ...] = ()

    def refusal(self, case: Case, at: dt.datetime) -> str | None:
        """The refusal of the first guard that does not hold at ``at``, or None."""
        for condition in self.conditions:
            if not condition.holds(case, at):
                return str(condition.refusal)
        return None


TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in [
        TransitionSpec("request_refund", S.REFUND_PENDING, _("Refund")),
        TransitionSpec("mark_refunded", S.REFUNDED, _("Mark refunded"), effects=(_refund_paid,)),
        TransitionSpec("reroute", S.REROUTED, _("Re-route to another supplier")),
        TransitionSpec("mark_shipped", S.SHIPPED, _("Mark shipped")),
        TransitionSpec(
            "contact_supplier",
            S.SUPPLIER_CONTACTED,
            _("Contact the supplier"),
            _("Allowed from 2 days after the promised ship date."),
            conditions=(TWO_DAYS_LATE,),
        ),
        TransitionSpec(
            "switch_supplier",
            S.SUPPLIER_SWITCHED,
            _("Switch supplier"),
            _("Allowed from 4 days after the promised ship date: treated as out of stock."),
            conditions=(FOUR_DAYS_LATE,),
        ),
        TransitionSpec(
            "supplier_unresponsive", S.REFUND_PENDING, _("Supplier unresponsive: refund")
        ),
        TransitionSpec("send_clearance_reminder", S.REMINDER_SENT, _("Send clearance reminder")),
        TransitionSpec("mark_cleared", S.CLEARED, _("Mark cleared by customs")),
        TransitionSpec("mark_delivered", S.DELIVERED, _("Mark delivered")),
        TransitionSpec("mark_returned", S.RETURNED, _("Mark returned or seized")),
        TransitionSpec(
            "request_evidence",
            S.AWAITING_EVIDENCE,
            _("Request evidence"),
            effects=(_evidence_requested,),
        ),
        TransitionSpec(
            "start_review",
            S.UNDER_REVIEW,
            _("Start review"),
            _("Needs at least one valid photo or video."),
            conditions=(EVIDENCE_RECEIVED,),
        ),
        TransitionSpec(
            "confirm",
            S.CONFIRMED,
            _("Confirm claim"),
            _("Starts the resolution clock (business days of the marketplace)."),
            effects=(_confirmed,),
        ),
        TransitionSpec(
            "reject",
            S.REJECTED,
            _("Reject claim"),
            _("Counts as a refund rejection."),
            requires_reason=True,
            permission=SUPERVISE_REJECT_CLAIM,
            effects=(_claim_rejected,),
        ),
        TransitionSpec("start_reship", S.RESHIP_PENDING, _("Start reship")),
        TransitionSpec("mark_reshipped", S.RESHIPPED, _("Mark reshipped")),
        TransitionSpec(
            "request_interception",
            S.INTERCEPTION_REQUESTED,
            _("Request interception"),
            _("Domestic orders only."),
            conditions=(ORDER_IS_DOMESTIC,),
        ),
        TransitionSpec("mark_intercepted", S.INTERCEPTED, _("Mark intercepted")),
        TransitionSpec(
            "mark_interception_failed", S.INTERCEPTION_FAILED, _("Mark interception failed")
        ),
        TransitionSpec(
            "escalate",
            S.ESCALATED,
            _("Escalate to the platform"),
            _("The customer asked the platform to step in (platform assistance)."),
            effects=(_escalated,),
        ),
        TransitionSpec(
            "platform_upholds",
            S.CLOSED,
            _("Platform upheld the seller"),
            permission=SUPERVISE_PLATFORM_RULING,
            effects=(_outcome(ResolutionOutcome.PLATFORM_UPHELD_SELLER),),
        ),
        TransitionSpec(
            "platform_overturns",
            S.CONFIRMED,
            _("Platform overturned the rejection"),
            _("Records a wrongful rejection and starts the resolution clock."),
            permission=SUPERVISE_PLATFORM_RULING,
            effects=(_confirmed, _rejection_overturned),
        ),
        TransitionSpec(
            "platform_orders_refund",
            S.REFUND_PENDING,
            _("Platform ordered a refund"),
            permission=SUPERVISE_PLATFORM_RULING,
        ),
        TransitionSpec(
            "withdraw",
            S.WITHDRAWN,
            _("Withdraw case"),
            _("Customer withdrew, or a duplicate."),
            requires_reason=True,
            permission=SUPERVISE_WITHDRAW,
            effects=(_outcome(ResolutionOutcome.WITHDRAWN),),
        ),
        TransitionSpec("close", S.CLOSED, _("Close")),
    ]
}


# -- per kind: where each transition starts from ------------------------------------------------


def _graph(kind_specific: dict[str, set[S]], *, claim: bool = False) -> dict[str, frozenset[S]]:
    """Add the transitions every kind has: escalate and withdraw from any open state, and the
    platform's rulings on an escalated case."""
    graph = {name: set(sources) for name, sources in kind_specific.items()}
    states = {S.NEW} | {s for sources in graph.values() for s in sources}
    states |= {TRANSITIONS[name].target for name in graph}
    states.add(S.ESCALATED)
    open_states = states - TERMINAL_STATES
    graph["escalate"] = open_states - {S.ESCALATED}
    graph["withdraw"] = set(open_states)
    graph["platform_upholds"] = {S.ESCALATED}
    if claim:
        graph["platform_overturns"] = {S.ESCALATED}
    else:
        graph["platform_orders_refund"] = {S.ESCALATED}
    return {name: frozenset(sources) for name, sources in graph.items()}


_CLAIM = _graph(
    {
        "request_evidence": {S.NEW, S.UNDER_REVIEW},
        "start_review": {S.AWAITING_EVIDENCE},
        "confirm": {S.UNDER_REVIEW},
        "reject": {S.UNDER_REVIEW},
        "start_reship": {S.CONFIRMED},
        "mark_reshipped": {S.RESHIP_PENDING},
        "request_refund": {S.CONFIRMED},
        "mark_refunded": {S.REFUND_PENDING},
        # A rejected claim the customer does not take to the platform is closed.
        "close": {S.RESHIPPED, S.REFUNDED, S.REJECTED},
    },
    claim=True,
)

WORKFLOWS: dict[str, dict[str, frozenset[S]]] = {
    CaseKind.OUT_OF_STOCK: _graph(
        {
            "request_refund": {S.NEW},
            "mark_refunded": {S.REFUND_PENDING},
            "reroute": {S.NEW},
            "mark_shipped": {S.REROUTED},
            "close": {S.REFUNDED, S.SHIPPED},
        }
    ),
    CaseKind.OVERSIZED: _graph(
        {
            "request_refund": {S.NEW},
            "mark_refunded": {S.REFUND_PENDING},
            "close": {S.REFUNDED},
        }
    ),
    CaseKind.LATE_SHIPMENT: _graph(
        {
            "contact_supplier": {S.NEW},
            "switch_supplier": {S.SUPPLIER_CONTACTED},
            # The order may ship at any point before the refund: that is what pushing is for.
            "mark_shipped": {S.NEW, S.SUPPLIER_CONTACTED, S.SUPPLIER_SWITCHED},
            "supplier_unresponsive": {S.NEW, S.SUPPLIER_CONTACTED, S.SUPPLIER_SWITCHED},
            "mark_refunded": {S.REFUND_PENDING},
            "close": {S.SHIPPED, S.REFUNDED},
        }
    ),
    CaseKind.CANCELLATION: _graph(
        {
            "request_refund": {S.NEW},
            "mark_refunded": {S.REFUND_PENDING},
            "close": {S.REFUNDED},
        }
    ),
    CaseKind.CUSTOMS_DELAY: _graph(
        {
            "send_clearance_reminder": {S.NEW},
            "mark_cleared": {S.REMINDER_SENT},
            "mark_delivered": {S.CLEARED},
            "mark_returned": {S.REMINDER_SENT, S.CLEARED},
            "request_refund": {S.RETURNED},
            "mark_refunded": {S.REFUND_PENDING},
            "close": {S.DELIVERED, S.REFUNDED},
        }
    ),
    CaseKind.WRONG_ITEM: _CLAIM,
    CaseKind.MISSING_ITEM: _CLAIM,
    CaseKind.DAMAGED_ITEM: _CLAIM,
    CaseKind.INTERCEPTION: _graph(
        {
            "request_interception": {S.NEW},
            "mark_intercepted": {S.INTERCEPTION_REQUESTED},
            "mark_interception_failed": {S.INTERCEPTION_REQUESTED},
            "request_refund": {S.INTERCEPTED},
            "mark_refunded": {S.REFUND_PENDING},
            "close": {S.REFUNDED, S.INTERCEPTION_FAILED},
        }
    ),
}

_table_holds(set(WORKFLOWS) == set(CaseKind.values), "a workflow per case kind")
_table_holds(all(kind in WORKFLOWS for kind in CLAIM_KINDS), "a workflow per claim kind")
_table_holds(
    {name for graph in WORKFLOWS.values() for name in graph} <= set(TRANSITIONS),
    "every transition of a workflow declared",
)


# -- reading the table ----------------------------------------------------------------------------


def sources_of(transition: str) -> list[S]:
    """Every state the transition starts from in at least one kind (for the FSM decorator)."""
    return sorted({s for graph in WORKFLOWS.values() for s in graph.get(transition, ())})


def kind_transitions(kind: str) -> dict[str, frozenset[S]]:
    return WORKFLOWS[kind]


def kind_states(kind: str) -> frozenset[S]:
    """Every state a case of this kind can be in."""
    graph = WORKFLOWS[kind]
    states = {S.NEW}
    for name, sources in graph.items():
        states |= sources
        states.add(TRANSITIONS[name].target)
    return frozenset(states)


def allows(kind: str, transition: str, state: str) -> bool:
    return state in WORKFLOWS.get(kind, {}).get(transition, ())


def transitions_from(kind: str, state: str) -> list[TransitionSpec]:
    """The transitions of this kind's graph that start from ``state`` (guards not checked)."""
    return [TRANSITIONS[name] for name, sources in WORKFLOWS[kind].items() if state in sources]


# -- the django-fsm transition methods of ``Case`` ------------------------------------------------


def _in_kind_graph(name: str) -> Callable[[Any], bool]:
    """The FSM condition of ``name``: the transition is part of the case's kind's graph from its
    current state (django-fsm checks the state against the union of every kind's sources)."""

    def condition(case: Any) -> bool:
        return allows(case.kind, name, case.state)

    condition.__name__ = f"in_kind_graph_{name}"
    return condition


def _fsm_method(spec: TransitionSpec) -> Callable[..., None]:
    def method(self: Any, act: CaseAction, step: TransitionStep) -> None:
        for effect in spec.effects:
            effect(act, step)

    method.__name__ = method.__qualname__ = spec.name
    method.__doc__ = str(spec.label)
    return fsm_transition(
        field="state",
        source=sources_of(spec.name),
        target=spec.target,
        conditions=[_in_kind_graph(spec.name)],
        permission=spec.permission,
        custom={"label": spec.label, "requires_reason": spec.requires_reason},
    )(method)


def fsm_transition_methods() -> dict[str, Callable[..., None]]:
    """One django-fsm transition method per entry of ``TRANSITIONS``: ``case.<name>(act, step)``
    runs the effects, then django-fsm moves the state to the target. Only the kernel calls
    them, inside its action."""
    return {name: _fsm_method(spec) for name, spec in TRANSITIONS.items()}


# -- diagrams -----------------------------------------------------------------------------------

EVERYWHERE = ("escalate", "withdraw")


def mermaid(kind: str, *, compact: bool = True) -> str:
    """A Mermaid state diagram of one kind's workflow. ``compact`` draws the transitions every
    open state has (escalate, withdraw) once, as a note, instead of from every state."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.NEW.value}"]
    for name in TRANSITIONS:  # stable order: the order of TRANSITIONS
        if compact and name in EVERYWHERE:
            # drawn from new (and from rejected, the claims' main road to the platform)
            for source in sorted(WORKFLOWS[kind][name] & {S.NEW, S.REJECTED}):
                lines.append(f"    {source.value} --> {TRANSITIONS[name].target.value}: {name}")
            continue
        for source in sorted(WORKFLOWS[kind].get(name, ())):
            target = TRANSITIONS[name].target
            lines.append(f"    {source.value} --> {target.value}: {name}")
    for terminal in sorted(TERMINAL_STATES & kind_states(kind)):
        lines.append(f"    {terminal.value} --> [*]")
    if compact:
        lines.append("    note right of escalated: escalate and withdraw start from any open state")
    return "\n".join(lines)
