"""Daily facts: a scorecard added up from them equals the direct count, on random data, after
random writes through any path (services, bulk inserts, ``QuerySet.update``, deletes), with
or without the facts job running, and as the clock moves on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cases.choices import CaseKind, ClaimOutcome, FulfilmentChannel, OrderCanceller
from cases.models import Case, Order, RefundRequest
from marketplaces.models import Marketplace
from scorecards.definitions import METRICS
from scorecards.models import MetricPolicy, ScorecardFact, ScorecardFactMark
from scorecards.services import scorecard
from scorecards.services.evaluation import metric_window
from scorecards.services.facts import facts_counts, facts_refresh
from tests.factories import open_case

from .helpers import messages

NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


class Rollback(Exception):
    pass


hours = st.integers(min_value=0, max_value=30 * 24)
later = st.one_of(st.none(), st.integers(min_value=0, max_value=96))
order_st = st.fixed_dictionaries(
    {
        "market": st.sampled_from(["tmall", "amazon_fr"]),
        "placed": hours,
        "promised": st.one_of(st.none(), st.integers(min_value=-2, max_value=4)),
        "shipped": later,
        "picked": later,
        "delivered": later,
        "scan": later,
        "cancelled": later,
        "by_seller": st.booleans(),
        "claim": later,
        "negative": later,
        "tracking": st.booleans(),
        "marketplace_ships": st.booleans(),
    }
)
change_st = st.fixed_dictionaries(
    {
        "field": st.sampled_from(
            ["shipped_at", "picked_up_at", "delivered_at", "cancelled_at", "placed_at", "delete"]
        ),
        "index": st.integers(min_value=0, max_value=100),
        "hours": st.integers(min_value=0, max_value=72),
    }
)


def _order_rows(specs: list[dict], now: dt.datetime, start: int) -> list[Order]:
    markets = {m.code: m for m in Marketplace.objects.filter(code__in=["tmall", "amazon_fr"])}
    rows = []
    for n, spec in enumerate(specs, start):
        placed = now - spec["placed"] * HOUR - dt.timedelta(minutes=n % 60)

        def after(hours, placed=placed):
            if hours is None:
                return None
            moment = placed + hours * HOUR
            return moment if moment <= now else None

        cancelled = after(spec["cancelled"])
        rows.append(
            Order(
                marketplace=markets[spec["market"]],
                external_id=f"P-{n}",
                placed_at=placed,
                promised_ship_date=(
                    None
                    if spec["promised"] is None
                    else (placed + dt.timedelta(days=spec["promised"])).date()
                ),
                shipped_at=after(spec["shipped"]),
                picked_up_at=after(spec["picked"]),
                delivered_at=after(spec["delivered"]),
                last_tracking_event_at=after(spec["scan"]),
                cancelled_at=cancelled,
                cancelled_by=(
                    (OrderCanceller.SELLER if spec["by_seller"] else OrderCanceller.CUSTOMER)
                    if cancelled
                    else ""
                ),
                a_to_z_claim_at=after(spec["claim"]),
                a_to_z_claim_outcome=ClaimOutcome.WITHDRAWN if spec["by_seller"] else "",
                negative_feedback_at=after(spec["negative"]),
                tracking_number="1Z" if spec["tracking"] else "",
                fulfilled_by=(
                    FulfilmentChannel.MARKETPLACE
                    if spec["marketplace_ships"]
                    else FulfilmentChannel.SELLER
                ),
                total=Decimal("10.00"),
            )
        )
    return Order.objects.bulk_create(rows)


def _cases_and_refunds(orders: list[Order], specs: list[dict], actor, now: dt.datetime) -> None:
    for order, spec in zip(orders, specs, strict=False):
        opened = max(order.placed_at, now - spec["opened"] * HOUR)
        case = open_case(CaseKind.DAMAGED_ITEM, actor=actor, order=order, opened_at=opened)
        if spec["escalated"] is not None:
            escalated = opened + spec["escalated"] * HOUR
            # A write outside the services on purpose: the triggers must see it too.
            Case.objects.filter(pk=case.pk).update(escalated_at=min(escalated, now))
        if spec["decided"] is not None:
            decided = min(opened + spec["decided"] * HOUR, now)
            RefundRequest.objects.create(
                case=case,
                marketplace=order.marketplace,
                amount=Decimal("5"),
                currency="EUR",
                requested_at=opened,
                decision="rejected" if spec["rejected"] else "approved",
                rejection_reason="other" if spec["rejected"] else "",
                decided_at=decided,
            )


case_st = st.fixed_dictionaries(
    {
        "opened": st.integers(min_value=0, max_value=20 * 24),
        "escalated": later,
        "decided": later,
        "rejected": st.booleans(),
    }
)
message_st = st.fixed_dictionaries(
    {
        "market": st.sampled_from(["tmall", "amazon_fr"]),
        "received": st.integers(min_value=1, max_value=20 * 24 * 60),  # minutes ago
        "answer": st.one_of(st.none(), st.integers(min_value=1, max_value=48 * 60)),
    }
)


def _messages(specs: list[dict], now: dt.datetime) -> None:
    markets = {m.code: m for m in Marketplace.objects.filter(code__in=["tmall", "amazon_fr"])}
    for spec in specs:
        received = now - dt.timedelta(minutes=spec["received"])
        items = [{"direction": "in", "sent_at": received}]
        if spec["answer"] is not None and received + dt.timedelta(minutes=spec["answer"]) <= now:
            items.append(
                {"direction": "out", "sent_at": received + dt.timedelta(minutes=spec["answer"])}
            )
        thread = f"TH-{spec['received']}-{spec['answer']}"
        messages(
            markets[spec["market"]],
            *[{**item, "conversation_id": thread} for item in items],
        )


def _apply(changes: list[dict], now: dt.datetime) -> None:
    ids = list(Order.objects.filter(external_id__startswith="P-").values_list("pk", flat=True))
    if not ids:
        return
    for change in changes:
        pk = ids[change["index"] % len(ids)]
        rows = Order.objects.filter(pk=pk)
        if change["field"] == "delete":
            if not Case.objects.filter(order_id=pk).exists():
                rows.delete()
                ids.remove(pk)
                if not ids:
                    return
            continue
        moment = now - change["hours"] * HOUR
        if change["field"] == "placed_at":
            rows.update(placed_at=moment)
        else:
            rows.update(**{change["field"]: moment})


def _compare(now: dt.datetime, window_days: list[int], past_days: list[int]) -> None:
    for market in Marketplace.objects.filter(code__in=["tmall", "amazon_fr"]):
        policies = list(MetricPolicy.objects.filter(marketplace=market))
        today = now.astimezone(market.tz).date()
        items = []
        for policy in policies:
            definition = METRICS[policy.metric]
            for days in window_days:
                items.append((definition, metric_window(market, policy, today, days, now)))
            if definition.history_exact:
                for back in past_days:
                    as_of = today - dt.timedelta(days=back)
                    items.append((definition, metric_window(market, policy, as_of, 30, now)))
        for (definition, window), counts in zip(items, facts_counts(items, now=now), strict=True):
            assert counts == definition.counts(window), (definition.code, window.as_of, window.days)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    # Shrinking replays hundreds of database examples: report the failure as found instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    orders=st.lists(order_st, max_size=25),
    cases=st.lists(case_st, max_size=5),
    inbox=st.lists(message_st, max_size=5),
    more=st.lists(order_st, max_size=10),
    changes=st.lists(change_st, max_size=8),
    wait=st.integers(min_value=0, max_value=80),
    refresh_again=st.booleans(),
    window_days=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=3),
    past_days=st.lists(st.integers(min_value=1, max_value=20), max_size=2),
)
def test_facts_equal_the_direct_count(
    system_actor, orders, cases, inbox, more, changes, wait, refresh_again, window_days, past_days
):
    try:
        with transaction.atomic():
            with time_machine.travel(NOW, tick=False):
                made = _order_rows(orders, NOW, 0)
                _cases_and_refunds(made, cases, system_actor, NOW)
                _messages(inbox, NOW)
                facts_refresh(now=NOW)
                assert not ScorecardFactMark.objects.exists()
            with time_machine.travel(NOW + dt.timedelta(seconds=1), tick=False):
                _compare(NOW + dt.timedelta(seconds=1), window_days, past_days)
            later_now = NOW + wait * HOUR + dt.timedelta(seconds=2)
            with time_machine.travel(later_now, tick=False):
                _order_rows(more, later_now, 1000)
                _apply(changes, later_now)
                if refresh_again:
                    facts_refresh(now=later_now)
                _compare(later_now, window_days, past_days)
            raise Rollback
    except Rollback:
        pass


def test_bulk_writes_are_marked_and_recomputed(db, system_actor):
    # given facts built over one order
    with time_machine.travel(NOW, tick=False):
        (made,) = _order_rows([{**_plain(), "placed": 30}], NOW, 0)
        facts_refresh(now=NOW)
        assert not ScorecardFactMark.objects.exists()
        # when an update bypasses every service
        Order.objects.filter(pk=made.pk).update(picked_up_at=NOW - HOUR)
        # then the database marked the order's days, a read counts them from the rows
        assert ScorecardFactMark.objects.filter(marketplace=made.marketplace).exists()
        tmall = made.marketplace
        (pickup,) = [
            m
            for m in scorecard(marketplace=tmall, as_of=NOW.date(), now=NOW)
            if m.name == "carrier_pickup_24h_rate"
        ]
        assert (pickup.numerator, pickup.denominator) == (0, 1)  # picked up after 29 h
        # and the job brings the facts up to date and removes the marks it read
        report = facts_refresh(now=NOW)
        assert report.marks >= 1 and not ScorecardFactMark.objects.exists()
        fact = ScorecardFact.objects.get(
            marketplace=tmall,
            metric="carrier_pickup_24h_rate",
            day=made.placed_at.astimezone(tmall.tz).date(),
        )
        assert (fact.numerator, fact.denominator) == (0, 1)


def _plain() -> dict:
    return {
        "market": "tmall",
        "placed": 0,
        "promised": None,
        "shipped": None,
        "picked": None,
        "delivered": None,
        "scan": None,
        "cancelled": None,
        "by_seller": False,
        "claim": None,
        "negative": None,
        "tracking": True,
        "marketplace_ships": False,
    }
