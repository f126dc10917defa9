"""The workflow of each case kind, as data (docs/domain.md §2).

``WORKFLOWS[kind][transition]`` is the set of states the transition may start from for that kind.
Each transition has one target state (``TRANSITIONS``). The ``Case`` model declares one django-fsm
transition method per name; a single condition checks this table, so this page is the whole graph.
The README's diagrams are generated from it (``python manage.py workflow_diagrams``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import CLAIM_KINDS, TERMINAL_STATES, CaseKind
from .choices import CaseState as S

SUPERVISE_REJECT_CLAIM = "cases.reject_claim"
SUPERVISE_WITHDRAW = "cases.withdraw_case"
SUPERVISE_PLATFORM_RULING = "cases.record_platform_ruling"
SUPERVISE_REJECT_REFUND = "cases.reject_refund"


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    target: S
    label: Promise
    help_text: Promise | str = ""
    requires_reason: bool = False
    permission: str | None = None


TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in [
        TransitionSpec("request_refund", S.REFUND_PENDING, _("Refund")),
        TransitionSpec("mark_refunded", S.REFUNDED, _("Mark refunded")),
        TransitionSpec("reroute", S.REROUTED, _("Re-route to another supplier")),
        TransitionSpec("mark_shipped", S.SHIPPED, _("Mark shipped")),
        TransitionSpec(
            "contact_supplier",
            S.SUPPLIER_CONTACTED,
            _("Contact the supplier"),
            _("Allowed from 2 days after the promised ship date."),
        ),
        TransitionSpec(
            "switch_supplier",
            S.SUPPLIER_SWITCHED,
            _("Switch supplier"),
            _("Allowed from 4 days after the promised ship date: treated as out of stock."),
        ),
        TransitionSpec(
            "supplier_unresponsive", S.REFUND_PENDING, _("Supplier unresponsive: refund")
        ),
        TransitionSpec("send_clearance_reminder", S.REMINDER_SENT, _("Send clearance reminder")),
        TransitionSpec("mark_cleared", S.CLEARED, _("Mark cleared by customs")),
        TransitionSpec("mark_delivered", S.DELIVERED, _("Mark delivered")),
        TransitionSpec("mark_returned", S.RETURNED, _("Mark returned or seized")),
        TransitionSpec("request_evidence", S.AWAITING_EVIDENCE, _("Request evidence")),
        TransitionSpec(
            "start_review",
            S.UNDER_REVIEW,
            _("Start review"),
            _("Needs at least one valid photo or video."),
        ),
        TransitionSpec(
            "confirm",
            S.CONFIRMED,
            _("Confirm claim"),
            _("Starts the resolution clock (business days of the marketplace)."),
        ),
        TransitionSpec(
            "reject",
            S.REJECTED,
            _("Reject claim"),
            _("Counts as a refund rejection."),
            requires_reason=True,
            permission=SUPERVISE_REJECT_CLAIM,
        ),
        TransitionSpec("start_reship", S.RESHIP_PENDING, _("Start reship")),
        TransitionSpec("mark_reshipped", S.RESHIPPED, _("Mark reshipped")),
        TransitionSpec(
            "request_interception",
            S.INTERCEPTION_REQUESTED,
            _("Request interception"),
            _("Domestic orders only."),
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
        ),
        TransitionSpec(
            "platform_upholds",
            S.CLOSED,
            _("Platform upheld the seller"),
            permission=SUPERVISE_PLATFORM_RULING,
        ),
        TransitionSpec(
            "platform_overturns",
            S.CONFIRMED,
            _("Platform overturned the rejection"),
            _("Records a wrongful rejection and starts the resolution clock."),
            permission=SUPERVISE_PLATFORM_RULING,
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
        ),
        TransitionSpec("close", S.CLOSED, _("Close")),
    ]
}


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

assert set(WORKFLOWS) == set(CaseKind.values)
assert all(kind in WORKFLOWS for kind in CLAIM_KINDS)


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
    return state in WORKFLOWS[kind].get(transition, ())


def transitions_from(kind: str, state: str) -> list[TransitionSpec]:
    """The transitions of this kind's graph that start from ``state`` (conditions not checked)."""
    return [TRANSITIONS[name] for name, sources in WORKFLOWS[kind].items() if state in sources]


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
