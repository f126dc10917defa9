"""Which received messages the seller must answer, and by when (docs/domain.md §6 and §8).

Pure: nothing here reads the clock or the database beyond the marketplace's calendar.

A received message **needs an answer** unless it is spam, was marked "no response needed"
(Amazon's semantics: it leaves the clock and the metric), or comes from a counterpart the
marketplace does not expect the seller to answer (Spartoo answers customers itself: only its
own questions need the seller).

It **runs a clock** when it needs an answer and:

* the marketplace publishes a rule (``first_response_amount``);
* it is from a counterpart that is timed (customers and retailers; on a marketplace that
  handles customer service itself, the platform);
* it is the first message of the conversation where only that one is timed (Faire);
* it was not received while the shop was paused (Faire's Pause mode), and the conversation was
  not started by the brand.

The due time is the marketplace's first-response rule, counted as the case's response clock is
(``cases.deadlines.response_due``): calendar time (Amazon 24 h, weekends and holidays
included; Tmall 3 min, the 3.8 edge), business hours (whole working days: Cdiscount, Rakuten
48 h) or business days (Faire: due at the end of the 2nd working day after the day of
receipt). The clock is **at risk** from ``response_goal_seconds`` (Tmall: 30 s, the score-5
edge), else once ``response_at_risk_percent`` of the time allowed is used, counted the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cases.deadlines import response_due
from marketplaces.calendars import BusinessCalendar
from marketplaces.models import (
    FirstResponseUnit,
    Marketplace,
    ResponseCounting,
    ResponseFrom,
    ResponseScope,
)

from .models import Counterpart, Direction

_UNIT_SECONDS: dict[str, int] = {
    FirstResponseUnit.SECONDS: 1,
    FirstResponseUnit.MINUTES: 60,
    FirstResponseUnit.HOURS: 3600,
    FirstResponseUnit.DAYS: 86400,
}
_CUSTOMERS = frozenset({Counterpart.CUSTOMER, Counterpart.RETAILER})


@dataclass(frozen=True)
class MessageFacts:
    """What the rule reads of one message and its conversation."""

    direction: str
    counterpart: str
    received_at: dt.datetime
    is_spam: bool = False
    no_response_needed: bool = False
    received_while_paused: bool = False
    is_conversation_start: bool = False
    brand_started: bool = False
    conversation_is_spam: bool = False


@dataclass(frozen=True)
class Clock:
    needs_response: bool
    due_at: dt.datetime | None = None
    at_risk_at: dt.datetime | None = None


NO_ANSWER = Clock(needs_response=False)


def answered_counterparts(marketplace: Marketplace) -> frozenset[str]:
    if marketplace.response_from == ResponseFrom.PLATFORM_ONLY:
        return frozenset({Counterpart.PLATFORM})
    return frozenset(Counterpart.values)


def timed_counterparts(marketplace: Marketplace) -> frozenset[str]:
    if marketplace.response_from == ResponseFrom.PLATFORM_ONLY:
        return frozenset({Counterpart.PLATFORM})
    return _CUSTOMERS


def needs_response(marketplace: Marketplace, facts: MessageFacts) -> bool:
    return (
        facts.direction == Direction.INBOUND
        and not facts.is_spam
        and not facts.conversation_is_spam
        and not facts.no_response_needed
        and facts.counterpart in answered_counterparts(marketplace)
    )


def runs_clock(marketplace: Marketplace, facts: MessageFacts) -> bool:
    if not needs_response(marketplace, facts) or marketplace.first_response_amount is None:
        return False
    if facts.received_while_paused or facts.brand_started:
        return False
    if facts.counterpart not in timed_counterparts(marketplace):
        return False
    return marketplace.response_scope == ResponseScope.EVERY_MESSAGE or facts.is_conversation_start


def at_risk_from(
    marketplace: Marketplace, calendar: BusinessCalendar, received_at: dt.datetime
) -> dt.datetime | None:
    """When the clock of a message received at ``received_at`` turns at risk."""
    amount = marketplace.first_response_amount
    if amount is None:
        return None
    counting = marketplace.first_response_counting
    if marketplace.response_goal_seconds is not None:
        goal = dt.timedelta(seconds=marketplace.response_goal_seconds)
        if counting == ResponseCounting.CALENDAR_TIME:
            return received_at + goal
        return calendar.add_business_time(received_at, goal)
    share = min(max(marketplace.response_at_risk_percent, 1), 100) / 100
    if counting == ResponseCounting.BUSINESS_DAYS:
        # The days allowed start with the first working day after the day of receipt.
        first = calendar.add_business_days(calendar.local_date(received_at), 1)
        allowed = dt.timedelta(days=amount)
        return calendar.add_business_time(calendar.start_of_day(first), allowed * share)
    allowed = dt.timedelta(seconds=amount * _UNIT_SECONDS[marketplace.first_response_unit])
    if counting == ResponseCounting.BUSINESS_HOURS:
        return calendar.add_business_time(received_at, allowed * share)
    return received_at + allowed * share


def message_clock(
    marketplace: Marketplace, calendar: BusinessCalendar, facts: MessageFacts
) -> Clock:
    """Whether the message needs an answer, and its due and at-risk times (None: no clock)."""
    if not needs_response(marketplace, facts):
        return NO_ANSWER
    if not runs_clock(marketplace, facts):
        return Clock(needs_response=True)
    due = response_due(marketplace, calendar, facts.received_at)
    risk = at_risk_from(marketplace, calendar, facts.received_at)
    if due is not None and risk is not None:
        risk = min(risk, due)
    return Clock(needs_response=True, due_at=due, at_risk_at=risk)
