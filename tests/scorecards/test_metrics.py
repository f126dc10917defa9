"""Metrics on hand-built data; the expected values are worked out in each test."""

import datetime as dt

import pytest
from django.core.management import call_command

from cases.services import refund_decide
from marketplaces.models import Marketplace
from scorecards.services import platform_assistance_rate, refund_rejection_rate
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def decided(actor, decision, at, marketplace="tmall"):
    order = make_order(marketplace, placed_at=at - dt.timedelta(days=10))
    case = open_case(
        "damaged_item",
        actor=actor,
        order=order,
        opened_at=at - dt.timedelta(days=2),
        refund_request={
            "amount": "10",
            "currency": "CNY",
            "requested_at": at - dt.timedelta(days=1),
        },
    )
    refund_decide(
        refund_request=case.refund_requests.get(),
        decision=decision,
        reason_code="customer_fault" if decision == "rejected" else "",
        approved_amount="5" if decision == "partially_approved" else None,
        actor=actor,
        door="api",
        decided_at=at,
    )
    return case


def test_refund_rejection_rate_over_the_window(supervisor_actor):
    tmall = Marketplace.objects.get(code="tmall")
    as_of = dt.date(2026, 10, 31)
    # inside the 30-day window (2 Oct 00:00 to 31 Oct 23:59:59, Shanghai):
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 2, 0, 0, 1, tzinfo=SHANGHAI))
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 31, 23, 59, tzinfo=SHANGHAI))
    decided(supervisor_actor, "approved", dt.datetime(2026, 10, 15, 12, 0, tzinfo=SHANGHAI))
    decided(
        supervisor_actor, "partially_approved", dt.datetime(2026, 10, 16, 12, 0, tzinfo=SHANGHAI)
    )
    # outside: a minute before the window, on the next day, and on another marketplace
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 1, 23, 59, tzinfo=SHANGHAI))
    decided(supervisor_actor, "rejected", dt.datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI))
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 10, tzinfo=SHANGHAI), "jd")
    metric = refund_rejection_rate(marketplace=tmall, as_of=as_of)
    # 2 rejected of 4 decided
    assert (metric.numerator, metric.denominator) == (2, 4)
    assert str(metric.value) == "0.500000"
    assert metric.window_start == dt.datetime(2026, 10, 2, tzinfo=SHANGHAI)
    assert metric.window_end == dt.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    seven = refund_rejection_rate(marketplace=tmall, as_of=as_of, window_days=7)
    assert (seven.numerator, seven.denominator) == (1, 1)


def test_no_decisions_gives_no_value():
    metric = refund_rejection_rate(
        marketplace=Marketplace.objects.get(code="tmall"), as_of=dt.date(2026, 1, 1)
    )
    assert (metric.numerator, metric.denominator, metric.value) == (0, 0, None)
    assert metric.percent == "n/a"


def test_platform_assistance_rate(supervisor_actor):
    tmall = Marketplace.objects.get(code="tmall")
    base = dt.datetime(2026, 10, 5, 10, 0, tzinfo=SHANGHAI)
    cases = []
    for i in range(4):
        order = make_order(placed_at=base - dt.timedelta(days=3))
        cases.append(
            open_case(
                "cancellation",
                actor=supervisor_actor,
                order=order,
                opened_at=base + dt.timedelta(days=i),
            )
        )
    run(cases[0], ["escalate"], supervisor_actor)  # escalated on 5 Oct: counts
    run(
        cases[1], ["escalate"], supervisor_actor, start=dt.datetime(2026, 11, 2, tzinfo=SHANGHAI)
    )  # after the window: does not
    old_order = make_order(placed_at=base - dt.timedelta(days=60))
    old = open_case(
        "cancellation",
        actor=supervisor_actor,
        order=old_order,
        opened_at=base - dt.timedelta(days=40),
    )
    run(old, ["escalate"], supervisor_actor)  # opened before the window: not counted at all
    metric = platform_assistance_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))
    # 4 cases opened in the window, 1 of them escalated by the end of it
    assert (metric.numerator, metric.denominator) == (1, 4)
    assert str(metric.value) == "0.250000"


def test_each_metric_is_one_query(supervisor_actor, django_assert_num_queries):
    tmall = Marketplace.objects.get(code="tmall")
    tmall.calendar_exceptions.all()  # the calendar is cached after the first use
    refund_rejection_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))
    # without daily facts: their basis (none), then one aggregate
    with django_assert_num_queries(2):
        refund_rejection_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))
    with django_assert_num_queries(2):
        platform_assistance_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))


def test_rates_from_facts_read_three_queries(supervisor_actor, django_assert_num_queries):
    from scorecards.services.facts import facts_refresh

    tmall = Marketplace.objects.get(code="tmall")
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 20, tzinfo=SHANGHAI))
    direct = refund_rejection_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))
    facts_refresh(marketplaces=[tmall])
    # from the facts: their basis, the days' facts, the marked days; no row of refunds read
    with django_assert_num_queries(3):
        from_facts = refund_rejection_rate(marketplace=tmall, as_of=dt.date(2026, 10, 31))
    assert (from_facts.numerator, from_facts.denominator) == (direct.numerator, direct.denominator)
    assert (from_facts.numerator, from_facts.denominator) == (1, 1)


def test_scorecard_command(supervisor_actor, capsys):
    decided(supervisor_actor, "rejected", dt.datetime(2026, 10, 20, tzinfo=SHANGHAI))
    decided(supervisor_actor, "approved", dt.datetime(2026, 10, 21, tzinfo=SHANGHAI))
    decided(supervisor_actor, "approved", dt.datetime(2026, 10, 22, tzinfo=SHANGHAI))
    call_command("scorecard", "tmall", "--as-of", "2026-10-31")
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert lines["refund_rejection_rate"][:5] == ["1", "/", "3", "=", "33.33"]
    assert lines["platform_assistance_rate"][:5] == ["0", "/", "3", "=", "0.00"]
    # the full scorecard: Tmall's eight metrics, each with its level and target
    assert set(lines) == {
        "refund_rejection_rate",
        "platform_assistance_rate",
        "carrier_pickup_24h_rate",
        "average_delivery_time",
        "average_first_response_time",
        "abnormal_logistics_rate",
        "average_shipping_time",
        "average_service_response_time",
    }
    assert "level 3.8 (bad)" in out and "target ≤ 0.50 %" in out
