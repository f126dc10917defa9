"""The deadlines of a case as the API shows them: each clock with a status that says what
became of it, running or stopped.

``cases.services.deadlines`` tells which clocks run now and how a running one stands (on track,
at risk, overdue). A stopped clock has no status there; an integration still needs to know
whether it was met, so it is derived here from the case's moments and its history, read from
the rows the case detail already loaded (no query). This belongs with the deadline rules in
``cases.services.deadlines`` (left there untouched while that module is rewritten): the clocks'
start and stop conditions below mirror its ``_running``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from cases.choices import CaseState, EventType
from cases.models import Case, CaseEvent
from cases.services import active_deadlines, deadline_status

# Deadline name -> stored column (``cases.services.deadlines``).
DEADLINES = {
    "response": "response_due_at",
    "evidence": "evidence_due_at",
    "resolution": "resolution_due_at",
    "supplier_contact": "supplier_contact_due_at",
    "supplier_switch": "supplier_switch_due_at",
    # Decision clocks: their due time is cleared once nothing awaits the decision.
    "evidence_review": "review_due_at",
    "refund_decision": "refund_decision_due_at",
}

# Clocks that run while the case is in one state: they stop when the case leaves it.
_STATE_CLOCKS = {
    "evidence": CaseState.AWAITING_EVIDENCE,
    "supplier_contact": CaseState.NEW,
    "supplier_switch": CaseState.SUPPLIER_CONTACTED,
    "evidence_review": CaseState.UNDER_REVIEW,
}


class DeadlineOutcome(enum.StrEnum):
    """What a deadline's ``status`` says."""

    ON_TRACK = "on_track"  # running, more than the marketplace's at-risk days left
    AT_RISK = "at_risk"  # running, due within the at-risk days
    OVERDUE = "overdue"  # running, past due
    MET = "met"  # stopped on or before its due time
    MISSED = "missed"  # stopped after its due time
    NOT_STARTED = "not_started"  # has a due time, never ran (a state the case has not reached)


def stopped_at(case: Case, name: str, events: Iterable[CaseEvent]) -> dt.datetime | None:
    """When a clock that is not running stopped; None if it never ran."""
    if name == "response":
        return case.first_responded_at or case.closed_at
    if name == "resolution":
        return case.resolved_at or case.closed_at
    if name == "refund_decision":
        decided = [e.occurred_at for e in events if e.event_type == EventType.REFUND_DECIDED]
        return max(decided) if decided else case.closed_at
    state = _STATE_CLOCKS[name]
    left = [
        event.occurred_at
        for event in events
        if event.event_type == EventType.TRANSITION and event.from_state == state
    ]
    return max(left) if left else None


def case_deadlines(case: Case, *, at: dt.datetime) -> list[dict[str, Any]]:
    """Every deadline of ``case`` that has a due time, in ``DEADLINES`` order: name, due_at,
    running, status (``DeadlineOutcome``), business_days_left (running clocks) and stopped_at
    (stopped ones). ``case.events`` should be prefetched."""
    running = active_deadlines(case)
    events = list(case.events.all())
    rows = []
    for name, column in DEADLINES.items():
        due = getattr(case, column)
        if due is None:
            continue
        row: dict[str, Any] = {
            "name": name,
            "due_at": due,
            "running": name in running,
            "business_days_left": None,
            "stopped_at": None,
        }
        if name in running:
            state = deadline_status(due, at=at, marketplace=case.marketplace)
            row["status"] = DeadlineOutcome(state.status.value)
            row["business_days_left"] = state.business_days_left
        else:
            stop = stopped_at(case, name, events)
            row["stopped_at"] = stop
            if stop is None:
                row["status"] = DeadlineOutcome.NOT_STARTED
            else:
                # The resolution's verdict is the domain's own, recorded with the remedy.
                met = case.resolution_met if name == "resolution" else None
                met = stop <= due if met is None else met
                row["status"] = DeadlineOutcome.MET if met else DeadlineOutcome.MISSED
        rows.append(row)
    return rows
