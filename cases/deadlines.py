"""Deadlines of a case, computed from its moments and its marketplace's calendar and rules
(pure: nothing here reads the clock or writes; the kernel stores them).

Clocks (each stored as a column so that lists filter and sort on it):

* ``response``: first answer to the customer, from ``opened_at`` (marketplace rule); stops at the
  first response (the first transition or recorded answer).
* ``evidence``: from the evidence request, ``evidence_wait_business_days``; runs while the case
  awaits evidence.
* ``resolution``: claims from the confirmation, other kinds from the opening, the marketplace's
  ``resolution_business_days``; stops when the customer got the remedy.
* ``supplier_contact`` / ``supplier_switch``: late shipments, 2 and 4 days after the promised
  ship date (calendar days, from the marketplace's midnight); each runs in the state it ends.
* ``evidence_review`` (decision clock): while the case is under review, from the moment it
  entered that state, the marketplace's ``evidence_review_business_days``.
* ``refund_decision`` (decision clock): while a refund request awaits the seller's decision,
  from the oldest such request (``refund_awaiting_since``, kept by the refund services), the
  marketplace's ``refund_decision_business_days``.

The two decision clocks have no published source: the shipped 2 business days are assumptions
(``marketplaces.profiles.DECISION_CLOCKS``); empty means no clock.

``next_due_at`` is the earliest running clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from marketplaces.calendars import BusinessCalendar, calendar_for
from marketplaces.models import FirstResponseUnit, Marketplace, ResponseCounting

from .choices import CLAIM_KINDS, TERMINAL_STATES, CaseKind, CaseState
from .workflows import LATE_CONTACT_DAYS, LATE_SWITCH_DAYS

if TYPE_CHECKING:
    from .models import Case

DEADLINE_FIELDS = (
    "response_due_at",
    "evidence_due_at",
    "resolution_due_at",
    "supplier_contact_due_at",
    "supplier_switch_due_at",
    "review_due_at",
    "refund_decision_due_at",
    "next_due_at",
)
# Fields of a case the deadlines are computed from (with its order and marketplace): the kernel
# recomputes the deadlines of an action that changed one of them.
DEADLINE_INPUTS = frozenset(
    {
        "kind",
        "state",
        "marketplace_id",
        "order_id",
        "opened_at",
        "first_responded_at",
        "evidence_requested_at",
        "confirmed_at",
        "resolved_at",
        "last_transition_at",
        "refund_awaiting_since",
    }
)

_UNIT_SECONDS: dict[str, int] = {
    FirstResponseUnit.SECONDS: 1,
    FirstResponseUnit.MINUTES: 60,
    FirstResponseUnit.HOURS: 3600,
    FirstResponseUnit.DAYS: 86400,
}


def response_due(
    marketplace: Marketplace, calendar: BusinessCalendar, received_at: dt.datetime
) -> dt.datetime | None:
    """When the first answer to a message received at ``received_at`` is due."""
    amount = marketplace.first_response_amount
    if amount is None:
        return None
    counting = marketplace.first_response_counting
    if counting == ResponseCounting.BUSINESS_DAYS:
        return calendar.deadline(received_at, amount)
    duration = dt.timedelta(seconds=amount * _UNIT_SECONDS[marketplace.first_response_unit])
    if counting == ResponseCounting.BUSINESS_HOURS:
        return calendar.add_business_time(received_at, duration)
    return received_at + duration


def return_response_due(marketplace: Marketplace, requested_at: dt.datetime) -> dt.datetime | None:
    """When the answer to a return request made at ``requested_at`` is due: calendar hours,
    weekends and holidays included (Amazon: 48 h); None where the marketplace sets no clock."""
    hours = marketplace.return_response_hours
    if hours is None:
        return None
    return requested_at + dt.timedelta(hours=hours)


def compute_deadlines(case: Case, marketplace: Marketplace) -> dict[str, dt.datetime | None]:
    """Every deadline column of ``case``, from its current moments; pure (reads the order)."""
    calendar = calendar_for(marketplace)
    due: dict[str, dt.datetime | None] = dict.fromkeys(DEADLINE_FIELDS)
    due["response_due_at"] = response_due(marketplace, calendar, case.opened_at)
    if case.evidence_requested_at:
        due["evidence_due_at"] = calendar.deadline(
            case.evidence_requested_at, marketplace.evidence_wait_business_days
        )
    resolution_start = case.confirmed_at if case.kind in CLAIM_KINDS else case.opened_at
    if resolution_start:
        due["resolution_due_at"] = calendar.deadline(
            resolution_start, marketplace.resolution_business_days
        )
    if case.kind == CaseKind.LATE_SHIPMENT:
        due["supplier_contact_due_at"] = case.order.late_since(LATE_CONTACT_DAYS)
        due["supplier_switch_due_at"] = case.order.late_since(LATE_SWITCH_DAYS)
    review_days = marketplace.evidence_review_business_days
    if case.state == CaseState.UNDER_REVIEW and review_days is not None:
        # Under review since the transition that brought it there (its last one).
        due["review_due_at"] = calendar.deadline(
            case.last_transition_at or case.opened_at, review_days
        )
    refund_days = marketplace.refund_decision_business_days
    if case.refund_awaiting_since and refund_days is not None:
        due["refund_decision_due_at"] = calendar.deadline(case.refund_awaiting_since, refund_days)
    running = _running(case, due)
    due["next_due_at"] = min(running.values()) if running else None
    return due


def _running(case: Case, due: dict[str, dt.datetime | None]) -> dict[str, dt.datetime]:
    if case.state in TERMINAL_STATES:
        return {}
    clocks = {}
    if case.first_responded_at is None and due["response_due_at"]:
        clocks["response"] = due["response_due_at"]
    if case.state == CaseState.AWAITING_EVIDENCE and due["evidence_due_at"]:
        clocks["evidence"] = due["evidence_due_at"]
    if case.resolved_at is None and due["resolution_due_at"]:
        clocks["resolution"] = due["resolution_due_at"]
    if case.state == CaseState.NEW and due["supplier_contact_due_at"]:
        clocks["supplier_contact"] = due["supplier_contact_due_at"]
    if case.state == CaseState.SUPPLIER_CONTACTED and due["supplier_switch_due_at"]:
        clocks["supplier_switch"] = due["supplier_switch_due_at"]
    if case.state == CaseState.UNDER_REVIEW and due["review_due_at"]:
        clocks["evidence_review"] = due["review_due_at"]
    if case.refund_awaiting_since and due["refund_decision_due_at"]:
        clocks["refund_decision"] = due["refund_decision_due_at"]
    return clocks


def active_deadlines(case: Case) -> dict[str, dt.datetime]:
    """The clocks running on ``case`` now, by name, from its stored columns."""
    return _running(case, {name: getattr(case, name) for name in DEADLINE_FIELDS})


class DeadlineStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class DeadlineState:
    status: DeadlineStatus
    business_days_left: int


def due_horizon(marketplace: Marketplace, *, at: dt.datetime, business_days: int) -> dt.datetime:
    """The (exclusive) end of "due within ``business_days`` working days" seen at ``at``: the
    start of the next working day after them, so a deadline on the weekend that follows counts
    as ``deadline_status`` counts it (0 on the due day). The sweep, the lists' deadline filters
    and the dashboard's at-risk counts all cut here."""
    calendar = calendar_for(marketplace)
    last = calendar.add_business_days(calendar.local_date(at), business_days + 1)
    return calendar.start_of_day(last)


def deadline_status(
    due_at: dt.datetime, *, at: dt.datetime, marketplace: Marketplace
) -> DeadlineState:
    """On track, at risk (within ``at_risk_business_days``) or overdue, with business days left
    (0 on the due day; negative when overdue)."""
    calendar = calendar_for(marketplace)
    left = calendar.business_days_between(calendar.local_date(at), calendar.local_date(due_at))
    if at > due_at:
        return DeadlineState(DeadlineStatus.OVERDUE, left)
    if left <= marketplace.at_risk_business_days:
        return DeadlineState(DeadlineStatus.AT_RISK, left)
    return DeadlineState(DeadlineStatus.ON_TRACK, left)
