"""Daily facts and the clock: between two runs of the job, a read adds to a day's fact what the
clock flipped since (an order's 24 hours that end, a parcel silent for too long, a message left
unanswered for a day, a promised day that ends) and equals the direct count at every moment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from cases.choices import FulfilmentChannel
from cases.models import Order
from marketplaces.models import Marketplace
from scorecards.models import ScorecardFact, ScorecardFactMark
from scorecards.services.facts import UNSETTLED_REFRESH, facts_refresh

from .helpers import messages
from .test_facts import _compare

NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def _order(market: Marketplace, name: str, **times) -> Order:
    times.setdefault("fulfilled_by", FulfilmentChannel.SELLER)
    times.setdefault("tracking_number", "1Z")
    return Order.objects.create(
        marketplace=market, external_id=name, total=Decimal("10.00"), **times
    )


def _clock_data() -> None:
    """Orders and messages of both marketplaces with a moment of the clock in the next hours."""
    for market in Marketplace.objects.filter(code__in=["tmall", "amazon_fr"]):
        # Not picked up: its 24 hours end in 30 minutes.
        _order(market, f"{market.code}-pickup", placed_at=NOW - 24 * HOUR + 30 * MINUTE)
        # Picked up, no scan since: silent for 72 hours in 10 minutes.
        _order(
            market,
            f"{market.code}-silent",
            placed_at=NOW - 100 * HOUR,
            picked_up_at=NOW - 72 * HOUR + 10 * MINUTE,
        )
        # Scanned, not delivered: its 120 hours end in 20 minutes.
        _order(
            market,
            f"{market.code}-undelivered",
            placed_at=NOW - 120 * HOUR + 20 * MINUTE,
            picked_up_at=NOW - 119 * HOUR,
            last_tracking_event_at=NOW - 50 * HOUR,
        )
        # Due to ship today, not shipped: late once today is over.
        today = NOW.astimezone(market.tz).date()
        _order(market, f"{market.code}-due", placed_at=NOW - 30 * HOUR, promised_ship_date=today)
        # A question of yesterday not answered: its 24 hours end in 15 minutes.
        messages(market, {"direction": "in", "sent_at": NOW - 24 * HOUR + 15 * MINUTE})


@pytest.mark.django_db
def test_a_read_between_runs_adds_what_the_clock_flipped():
    # given facts computed at NOW over rows whose clocks run out in the next hours
    with time_machine.travel(NOW, tick=False):
        _clock_data()
        facts_refresh(now=NOW)
        assert not ScorecardFactMark.objects.exists()
    # then a read at each later moment, with no run of the job in between, equals the count
    # from the rows: before, at and after each moment, and after the days settled
    for later in (
        MINUTE,
        10 * MINUTE,
        10 * MINUTE + dt.timedelta(microseconds=1),
        15 * MINUTE,
        16 * MINUTE,
        20 * MINUTE,
        30 * MINUTE,
        31 * MINUTE,
        4 * HOUR,
        20 * HOUR,
        30 * HOUR,
        80 * HOUR,
    ):
        with time_machine.travel(NOW + later, tick=False):
            _compare(NOW + later, [1, 3, 30], [])


@pytest.mark.django_db
def test_a_day_with_orders_none_judged_yet_gets_a_fact_the_clock_moves():
    tmall = Marketplace.objects.get(code="tmall")
    with time_machine.travel(NOW, tick=False):
        # given an order of an hour ago, not picked up: judged by no metric yet
        made = _order(tmall, "young", placed_at=NOW - HOUR)
        facts_refresh(now=NOW)
    day = made.placed_at.astimezone(tmall.tz).date()
    fact = ScorecardFact.objects.get(marketplace=tmall, metric="abnormal_logistics_rate", day=day)
    assert (fact.numerator, fact.denominator) == (0, 0)
    assert fact.settles_at is not None and fact.settles_at > NOW
    # then once its 24 hours are over a read counts it, late, with no run of the job
    with time_machine.travel(NOW + 25 * HOUR, tick=False):
        _compare(NOW + 25 * HOUR, [1, 2, 7], [])


@pytest.mark.django_db
def test_the_job_recomputes_a_fact_the_clock_can_move_once_it_is_a_few_minutes_old():
    tmall = Marketplace.objects.get(code="tmall")
    with time_machine.travel(NOW, tick=False):
        made = _order(tmall, "young", placed_at=NOW - HOUR)
        facts_refresh(now=NOW)
    day = made.placed_at.astimezone(tmall.tz).date()
    facts = ScorecardFact.objects.filter(
        marketplace=tmall, metric="abnormal_logistics_rate", day=day
    )
    # a run within the few minutes leaves it (a read adds the few rows flipped since)
    soon = NOW + UNSETTLED_REFRESH - MINUTE
    with time_machine.travel(soon, tick=False):
        facts_refresh(now=soon)
    assert facts.get().computed_at == NOW
    # a run after them recomputes it
    later = NOW + UNSETTLED_REFRESH + MINUTE
    with time_machine.travel(later, tick=False):
        report = facts_refresh(now=later)
    assert facts.get().computed_at == later
    assert report.days >= 1
