"""Amazon account-health metrics on hand-built data; expected values worked out in each test.

Windows end on 2025-10-31 at midnight, Paris time (the marketplace's calendar).
"""

import datetime as dt
from decimal import Decimal

import pytest

from cases.services.returns import return_request_upsert
from marketplaces.models import Marketplace
from scorecards.services import metric_evaluate, metric_records

from .helpers import UTC, at, conversation, messages, order

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 10, 31)


@pytest.fixture
def amazon():
    return Marketplace.objects.get(code="amazon_fr")


def evaluate(marketplace, metric, **kwargs):
    return metric_evaluate(marketplace=marketplace, metric=metric, as_of=AS_OF, **kwargs)


def test_order_defect_rate_over_60_days(amazon):
    order(amazon, placed_at=at(2025, 9, 2, 0, 0))  # first second of the window, clean
    order(amazon, placed_at=at(2025, 9, 10), negative_feedback_at=at(2025, 9, 20))
    order(
        amazon,
        placed_at=at(2025, 9, 10),
        a_to_z_claim_at=at(2025, 9, 25),
        a_to_z_claim_outcome="pending",
    )
    order(
        amazon,
        placed_at=at(2025, 9, 10),
        a_to_z_claim_at=at(2025, 9, 25),
        a_to_z_claim_outcome="withdrawn",
    )  # not a defect
    order(
        amazon,
        placed_at=at(2025, 9, 10),
        a_to_z_claim_at=at(2025, 9, 25),
        a_to_z_claim_outcome="decided_for_seller",
    )  # not a defect
    # two defects on one order count once
    order(
        amazon,
        placed_at=at(2025, 10, 1),
        chargeback_at=at(2025, 10, 9),
        negative_feedback_at=at(2025, 10, 10),
    )
    order(
        amazon,
        placed_at=at(2025, 10, 2),
        a_to_z_claim_at=at(2025, 10, 20),
        a_to_z_claim_outcome="granted",
    )
    # feedback after the window ends is not known as of 31 October: a clean order here
    order(amazon, placed_at=at(2025, 10, 30), negative_feedback_at=at(2025, 11, 5))
    # left out: placed a second before the window
    order(amazon, placed_at=at(2025, 9, 1, 23, 59, 59), negative_feedback_at=at(2025, 9, 2))

    metric = evaluate(amazon, "order_defect_rate")

    # 8 orders in the window; defects: feedback, pending claim, chargeback+feedback, granted
    assert (metric.numerator, metric.denominator) == (4, 8)
    assert metric.value == Decimal("0.500000")
    # 60 days ending 31 October start on 2 September
    assert metric.window_days == 60 and metric.window_start == at(2025, 9, 2)
    assert (metric.target, metric.level, metric.status) == ("< 1.00 %", "missed", "bad")
    assert (
        len(list(metric_records(marketplace=amazon, metric="order_defect_rate", as_of=AS_OF))) == 4
    )


def test_order_defect_rate_exactly_at_one_percent_misses_the_target(amazon):
    order(amazon, placed_at=at(2025, 10, 1), negative_feedback_at=at(2025, 10, 5))
    for _ in range(99):
        order(amazon, placed_at=at(2025, 10, 1))
    metric = evaluate(amazon, "order_defect_rate")
    assert (metric.numerator, metric.denominator, metric.value) == (1, 100, Decimal("0.010000"))
    assert metric.level == "missed"  # the target is "under 1 %"
    order(amazon, placed_at=at(2025, 10, 1))
    assert evaluate(amazon, "order_defect_rate").level == "met"  # 1 / 101


def test_late_shipment_rate_over_10_and_30_days(amazon):
    # due 25 Oct: 23:59:59 local is in time, midnight is late (times are Paris, summer time)
    order(amazon, promised_ship_date=dt.date(2025, 10, 25), shipped_at=at(2025, 10, 25, 23, 59, 59))
    order(amazon, promised_ship_date=dt.date(2025, 10, 25), shipped_at=at(2025, 10, 26, 0, 0))
    # not shipped, due 28 Oct: late
    order(amazon, promised_ship_date=dt.date(2025, 10, 28))
    # cancelled before shipping: left out
    order(
        amazon,
        promised_ship_date=dt.date(2025, 10, 28),
        cancelled_at=at(2025, 10, 27),
        cancelled_by="customer",
        cancellation_reason="customer_request",
    )
    # due 20 Oct, shipped 23 Oct: in the 30 days, not in the 10 days
    order(amazon, promised_ship_date=dt.date(2025, 10, 20), shipped_at=at(2025, 10, 23))
    # shipped by Amazon: left out
    order(amazon, promised_ship_date=dt.date(2025, 10, 29), fulfilled_by="marketplace")
    # due 31 Oct, shipped 2 Nov: not shipped when the window ends, so late
    order(amazon, promised_ship_date=dt.date(2025, 10, 31), shipped_at=at(2025, 11, 2))

    ten = evaluate(amazon, "late_shipment_rate_10d")
    thirty = evaluate(amazon, "late_shipment_rate_30d")

    # 10 days (22-31 Oct): on time 25th 23:59:59; late: midnight, unshipped 28th, 31st -> 3 / 4
    assert (ten.numerator, ten.denominator, ten.value) == (3, 4, Decimal("0.750000"))
    # 30 days adds the order due on the 20th and shipped on the 23rd -> 4 / 5
    assert (thirty.numerator, thirty.denominator, thirty.value) == (4, 5, Decimal("0.800000"))
    assert ten.window_days == 10 and thirty.window_days == 30


def test_an_order_due_today_is_not_judged_before_the_day_ends(amazon):
    due_today = dt.date(2025, 10, 31)
    order(amazon, promised_ship_date=due_today)
    order(amazon, promised_ship_date=due_today, shipped_at=at(2025, 10, 31, 9))
    metric = evaluate(amazon, "late_shipment_rate_10d", now=at(2025, 10, 31, 12))
    # as seen at noon: the shipped one is on time, the other still has until midnight
    assert (metric.numerator, metric.denominator) == (0, 1)


def test_pre_fulfilment_cancel_rate_over_7_days(amazon):
    seller = {"cancelled_by": "seller", "cancellation_reason": "out_of_stock"}
    order(amazon, placed_at=at(2025, 10, 26), cancelled_at=at(2025, 10, 26, 12), **seller)
    order(
        amazon,
        placed_at=at(2025, 10, 26),
        cancelled_at=at(2025, 10, 26, 12),
        cancelled_by="customer",
        cancellation_reason="customer_request",
    )
    # cancelled after it shipped: not a pre-fulfilment cancellation
    order(
        amazon,
        placed_at=at(2025, 10, 27),
        shipped_at=at(2025, 10, 28),
        cancelled_at=at(2025, 10, 29),
        **seller,
    )
    order(amazon, placed_at=at(2025, 10, 27))
    # before the 7 days (25-31 Oct)
    order(amazon, placed_at=at(2025, 10, 20), cancelled_at=at(2025, 10, 21), **seller)

    metric = evaluate(amazon, "pre_fulfilment_cancel_rate")

    assert (metric.numerator, metric.denominator, metric.value) == (1, 4, Decimal("0.250000"))
    assert metric.window_start == at(2025, 10, 25)


def test_valid_tracking_rate(amazon):
    shipped = {"placed_at": at(2025, 10, 1), "shipped_at": at(2025, 10, 10)}
    order(amazon, tracking_number="1Z1", tracking_valid=True, **shipped)
    order(amazon, tracking_number="1Z2", picked_up_at=at(2025, 10, 11), **shipped)  # scanned
    order(amazon, tracking_number="1Z3", **shipped)  # never scanned
    order(amazon, tracking_number="", picked_up_at=at(2025, 10, 11), **shipped)  # no number
    order(
        amazon,
        tracking_number="1Z5",
        tracking_valid=False,
        picked_up_at=at(2025, 10, 11),
        **shipped,
    )  # the marketplace says invalid
    order(amazon, tracking_number="", placed_at=at(2025, 9, 1), shipped_at=at(2025, 9, 30))

    metric = evaluate(amazon, "valid_tracking_rate")

    assert (metric.numerator, metric.denominator, metric.value) == (2, 5, Decimal("0.400000"))
    assert (metric.target, metric.level) == ("> 95.00 %", "missed")
    problems = metric_records(marketplace=amazon, metric="valid_tracking_rate", as_of=AS_OF)
    assert sorted(problems.values_list("tracking_number", flat=True)) == ["", "1Z3", "1Z5"]


def test_return_dissatisfaction_rate(amazon):
    def returned(requested_at, **fields):
        o = order(amazon, placed_at=requested_at - dt.timedelta(days=5))
        request, _ = return_request_upsert(
            marketplace=amazon,
            external_id=f"R-{o.external_id}",
            order=o,
            requested_at=requested_at,
            **fields,
        )
        return request

    asked = at(2025, 10, 10, 10)
    returned(asked, responded_at=asked + dt.timedelta(hours=48), decision="authorized")
    returned(asked, responded_at=asked + dt.timedelta(hours=48, seconds=1), decision="authorized")
    returned(asked)  # never answered
    returned(
        asked,
        responded_at=asked + dt.timedelta(hours=1),
        decision="rejected",
        rejection_overturned_at=at(2025, 10, 20),
    )
    returned(
        asked,
        responded_at=asked + dt.timedelta(hours=1),
        decision="authorized",
        negative_feedback_at=at(2025, 10, 15),
    )
    returned(asked, is_valid=False)  # voided by the marketplace: left out
    returned(at(2025, 10, 31, 20))  # still inside its 48 h when the window ends: not judged
    returned(at(2025, 10, 31, 20), responded_at=at(2025, 10, 31, 21), decision="authorized")

    metric = evaluate(amazon, "return_dissatisfaction_rate")

    # judged: in time (48 h exactly), late, unanswered, overturned, feedback, last-day answered
    # dissatisfied: late, unanswered, overturned, feedback -> 4 / 6
    assert (metric.numerator, metric.denominator, metric.value) == (4, 6, Decimal("0.666667"))
    assert metric.level == "missed"


def test_contact_response_within_24_hours_weekends_included(amazon):
    # Saturday 25 Oct 10:00 UTC answered Sunday 10:00 UTC: exactly 24 h, in time
    conversation(
        amazon,
        ("in", dt.datetime(2025, 10, 25, 10, tzinfo=UTC)),
        ("out", dt.datetime(2025, 10, 26, 10, tzinfo=UTC)),
    )
    # one second more: late
    conversation(
        amazon,
        ("in", dt.datetime(2025, 10, 27, 10, tzinfo=UTC)),
        ("out", dt.datetime(2025, 10, 28, 10, 0, 1, tzinfo=UTC)),
    )
    # never answered: late
    messages(amazon, {"direction": "in", "sent_at": dt.datetime(2025, 10, 27, 10, tzinfo=UTC)})
    # left out: spam, "no response needed", and a message younger than 24 h at the end
    messages(amazon, {"direction": "in", "sent_at": at(2025, 10, 27, 10), "is_spam": True})
    messages(
        amazon, {"direction": "in", "sent_at": at(2025, 10, 27, 10), "no_response_needed": True}
    )
    messages(amazon, {"direction": "in", "sent_at": at(2025, 10, 31, 12)})
    # answered within the hour on the last day: judged, in time
    conversation(amazon, ("in", at(2025, 10, 31, 12)), ("out", at(2025, 10, 31, 13)))
    # 20 October: in the 30 and 90 days only, in time
    conversation(amazon, ("in", at(2025, 10, 20, 12)), ("out", at(2025, 10, 20, 13)))
    # a message to the platform is not a customer contact
    messages(
        amazon, {"direction": "in", "sent_at": at(2025, 10, 27, 10), "counterpart": "platform"}
    )

    seven = evaluate(amazon, "contact_response_24h_7d")
    thirty = evaluate(amazon, "contact_response_24h_30d")
    ninety = evaluate(amazon, "contact_response_24h_90d")

    assert (seven.numerator, seven.denominator, seven.value) == (2, 4, Decimal("0.500000"))
    assert (thirty.numerator, thirty.denominator, thirty.value) == (3, 5, Decimal("0.600000"))
    assert (ninety.numerator, ninety.denominator) == (3, 5)
    assert seven.target == "≥ 90.00 %" and seven.level == "missed"


def test_contact_response_exactly_at_90_percent_meets_the_target(amazon):
    for n in range(9):
        conversation(amazon, ("in", at(2025, 10, 27, 9 + n)), ("out", at(2025, 10, 27, 10 + n)))
    messages(amazon, {"direction": "in", "sent_at": at(2025, 10, 27, 9)})
    metric = evaluate(amazon, "contact_response_24h_7d")
    assert (metric.value, metric.level) == (Decimal("0.900000"), "met")


def test_order_quality_score_weighs_recent_orders_more(amazon):
    # last 30 days (weight 3): perfect (100) and shipped late (0)
    order(
        amazon,
        placed_at=at(2025, 10, 20),
        promised_ship_date=dt.date(2025, 10, 21),
        shipped_at=at(2025, 10, 21, 9),
    )
    order(
        amazon,
        placed_at=at(2025, 10, 20),
        promised_ship_date=dt.date(2025, 10, 21),
        shipped_at=at(2025, 10, 23, 9),
    )
    # 31-90 days (weight 2): late AND an A-to-z claim: the worst counts, -500
    order(
        amazon,
        placed_at=at(2025, 8, 15),
        promised_ship_date=dt.date(2025, 8, 16),
        shipped_at=at(2025, 8, 20),
        a_to_z_claim_at=at(2025, 8, 30),
        a_to_z_claim_outcome="pending",
    )
    # older (weight 1): perfect, and a withdrawn claim (perfect too)
    order(
        amazon,
        placed_at=at(2025, 3, 1),
        promised_ship_date=dt.date(2025, 3, 2),
        shipped_at=at(2025, 3, 2, 9),
    )
    order(
        amazon,
        placed_at=at(2025, 3, 1),
        a_to_z_claim_at=at(2025, 3, 10),
        a_to_z_claim_outcome="withdrawn",
    )
    # weight 3: cancelled before shipping (not late), shipped by Amazon (never late)
    order(
        amazon,
        placed_at=at(2025, 10, 20),
        promised_ship_date=dt.date(2025, 10, 21),
        cancelled_at=at(2025, 10, 20, 12),
        cancelled_by="customer",
        cancellation_reason="customer_request",
    )
    order(
        amazon,
        placed_at=at(2025, 10, 20),
        promised_ship_date=dt.date(2025, 10, 21),
        fulfilled_by="marketplace",
    )
    # more than 365 days old: left out
    order(
        amazon,
        placed_at=at(2024, 10, 31, 23),
        a_to_z_claim_at=at(2024, 11, 5),
        a_to_z_claim_outcome="granted",
    )

    metric = evaluate(amazon, "order_quality_score")

    # points: 300 + 0 - 1000 + 100 + 100 + 300 + 300 = 100; weights: 3+3+2+1+1+3+3 = 16
    assert (metric.numerator, metric.denominator) == (100, 16)
    assert metric.value == Decimal("6.25")
    assert metric.unit == "score" and metric.level == "missed"
    problems = list(metric_records(marketplace=amazon, metric="order_quality_score", as_of=AS_OF))
    assert [p.quality_score for p in problems] == [-500, 0]


def test_order_quality_score_is_shown_on_a_0_to_100_scale(amazon):
    order(
        amazon,
        placed_at=at(2025, 10, 20),
        a_to_z_claim_at=at(2025, 10, 25),
        a_to_z_claim_outcome="granted",
    )
    metric = evaluate(amazon, "order_quality_score")
    assert (metric.numerator, metric.denominator, metric.value) == (-1500, 3, Decimal("0"))


def test_marketplace_windows_ignore_the_callers_window(amazon):
    metric = evaluate(amazon, "order_defect_rate", window_days=7)
    assert metric.window_days == 60
