"""Faire's four metrics on hand-built data; expected values worked out in each test.

The 90-day window ending Friday 2025-11-14 covers 17 August to 14 November, Paris time. French
holidays in it: Saturday 1 November (All Saints) and Tuesday 11 November (Armistice).
"""

import datetime as dt
from decimal import Decimal

import pytest

from marketplaces.models import Marketplace
from scorecards.services import metric_evaluate, metric_records
from tests.factories import open_case, run

from .helpers import at, messages, order

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 11, 14)


@pytest.fixture
def faire():
    return Marketplace.objects.get(code="faire")


def evaluate(faire, metric, **kwargs):
    return metric_evaluate(marketplace=faire, metric=metric, as_of=AS_OF, **kwargs)


def test_late_shipments_count_business_days(faire):
    placed = at(2025, 10, 20)
    # due Friday 31 Oct; Saturday 1 Nov is not a business day (and a holiday): in time
    order(
        faire,
        placed_at=placed,
        promised_ship_date=dt.date(2025, 10, 31),
        shipped_at=at(2025, 11, 1, 10),
    )
    # ... Monday 3 Nov is one business day after: late
    order(
        faire,
        placed_at=placed,
        promised_ship_date=dt.date(2025, 10, 31),
        shipped_at=at(2025, 11, 3, 9),
    )
    # due Monday 10 Nov, shipped on Tuesday 11 Nov, a holiday: in time
    order(
        faire,
        placed_at=placed,
        promised_ship_date=dt.date(2025, 11, 10),
        shipped_at=at(2025, 11, 11, 10),
    )
    # due Thursday 13 Nov, not shipped: late since Friday 14 Nov 00:00
    order(faire, placed_at=placed, promised_ship_date=dt.date(2025, 11, 13))
    # due Friday 14 Nov, not shipped: not late before Monday 17 Nov, not judged yet
    order(faire, placed_at=placed, promised_ship_date=dt.date(2025, 11, 14))
    # cancelled before shipping: left out
    order(
        faire,
        placed_at=at(2025, 10, 10),
        promised_ship_date=dt.date(2025, 10, 15),
        cancelled_at=at(2025, 10, 14),
        cancelled_by="customer",
        cancellation_reason="customer_request",
    )

    metric = evaluate(faire, "faire_late_shipments")

    assert (metric.numerator, metric.denominator, metric.value) == (2, 4, Decimal("0.500000"))
    assert metric.window_days == 90 and metric.window_start == at(2025, 8, 17)
    assert (metric.level, metric.status) == ("red", "bad")
    late = metric_records(marketplace=faire, metric="faire_late_shipments", as_of=AS_OF)
    assert sorted(late.values_list("promised_ship_date", flat=True)) == [
        dt.date(2025, 10, 31),
        dt.date(2025, 11, 13),
    ]


def test_cancelled_orders_for_reasons_the_brand_controls(faire):
    placed = at(2025, 10, 1)

    def cancelled(reason, *, by="seller", accepted=False, controllable=None):
        return order(
            faire,
            placed_at=placed,
            accepted_at=at(2025, 10, 2) if accepted else None,
            cancelled_at=at(2025, 10, 3),
            cancelled_by=by,
            cancellation_reason=reason,
            cancellation_controllable=controllable,
        )

    cancelled("out_of_stock")  # controllable before acceptance
    cancelled("order_too_small")  # declined before acceptance: not counted
    cancelled("order_too_small", accepted=True)  # after acceptance: counted
    cancelled("customer_request", by="customer")  # not the brand's doing
    cancelled("customer_request", by="customer", controllable=True)  # staff override: counted
    cancelled("out_of_stock", controllable=False)  # staff override: not counted
    order(faire, placed_at=placed)  # not cancelled
    order(
        faire,
        placed_at=at(2025, 8, 16),
        cancelled_at=at(2025, 8, 17),
        cancelled_by="seller",
        cancellation_reason="out_of_stock",
    )  # placed before the window

    metric = evaluate(faire, "faire_cancelled_orders")

    # 3 of the 7 orders placed in the window
    assert (metric.numerator, metric.denominator, metric.value) == (3, 7, Decimal("0.428571"))
    assert metric.level == "red"


def test_missing_or_damaged_items(faire, supervisor_actor):
    shipped = {"placed_at": at(2025, 10, 1), "shipped_at": at(2025, 10, 2)}

    def claim(kind, the_order, path=()):
        case = open_case(kind, actor=supervisor_actor, order=the_order, opened_at=at(2025, 10, 6))
        return run(case, list(path), supervisor_actor)

    claim("damaged_item", order(faire, **shipped))  # counted
    # the brand won the dispute: the platform upheld it
    won = claim(
        "missing_item",
        order(faire, **shipped),
        ["request_evidence", "start_review", "reject", "escalate", "platform_upholds"],
    )
    assert won.resolution_outcome == "platform_upheld_seller"
    claim("missing_item", order(faire, parcel_lost=True, **shipped))  # lost parcel: left out
    order(faire, **shipped)  # nothing reported
    claim("wrong_item", order(faire, **shipped))  # another kind of problem
    claim("damaged_item", order(faire, **shipped), ["withdraw"])  # withdrawn by the retailer
    claim("damaged_item", order(faire, placed_at=at(2025, 8, 1), shipped_at=at(2025, 8, 2)))

    metric = evaluate(faire, "faire_missing_damaged")

    # shipped in the window, lost parcel left out: 5 orders, 1 counted
    assert (metric.numerator, metric.denominator, metric.value) == (1, 5, Decimal("0.200000"))
    assert metric.level == "red"


def test_missed_messages_are_answers_after_two_full_business_days(faire):
    def first(received, answered=None, **flags):
        thread = f"T-{received.isoformat()}-{answered}-{sorted(flags)}"
        items = [
            {
                "direction": "in",
                "counterpart": "retailer",
                "sent_at": received,
                "conversation_id": thread,
                **flags,
            }
        ]
        if answered:
            items.append(
                {
                    "direction": "out",
                    "counterpart": "retailer",
                    "sent_at": answered,
                    "conversation_id": thread,
                }
            )
        return messages(faire, *items)

    monday = at(2025, 11, 3, 10)
    first(monday, at(2025, 11, 5, 23, 59, 59))  # in time until Wednesday 23:59:59
    first(monday, at(2025, 11, 6, 0, 0, 0))  # Thursday midnight: missed
    # Friday 7 Nov: Monday 10 is day 1, Tuesday 11 is a holiday, Wednesday 12 is day 2
    first(at(2025, 11, 7, 10), at(2025, 11, 12, 10))
    messages(
        faire,
        {
            "direction": "in",
            "counterpart": "retailer",
            "sent_at": monday,
            "conversation_id": "unanswered",
        },
    )  # missed
    # Thursday 13 Nov, unanswered: due Monday 17 Nov, not judged yet
    first(at(2025, 11, 13, 10))
    # left out: spam, received in Pause mode, a customer rather than a retailer
    first(monday, is_spam=True)
    first(at(2025, 11, 4, 10), received_while_paused=True)
    messages(faire, {"direction": "in", "counterpart": "customer", "sent_at": monday})
    # left out: a conversation the brand started, and a retailer's second message
    messages(
        faire,
        {
            "direction": "out",
            "counterpart": "retailer",
            "sent_at": at(2025, 11, 3, 9),
            "conversation_id": "brand-started",
        },
        {
            "direction": "in",
            "counterpart": "retailer",
            "sent_at": monday,
            "conversation_id": "brand-started",
        },
        {
            "direction": "in",
            "counterpart": "retailer",
            "sent_at": at(2025, 11, 3, 11),
            "conversation_id": "unanswered",
        },
    )

    metric = evaluate(faire, "faire_missed_messages")

    assert (metric.numerator, metric.denominator, metric.value) == (2, 4, Decimal("0.500000"))
    missed = metric_records(marketplace=faire, metric="faire_missed_messages", as_of=AS_OF)
    assert sorted(m.answer_due_at for m in missed) == [at(2025, 11, 5, 23, 59, 59)] * 2


@pytest.mark.parametrize(
    ("value", "level"),
    [("0.05", "green"), ("0.050001", "yellow"), ("0.10", "yellow"), ("0.100001", "red")],
)
def test_green_yellow_red_edges_are_inclusive_and_configurable(faire, value, level):
    from scorecards.services import level_of, policy_for

    policy = policy_for(faire, "faire_late_shipments")
    assert level_of(Decimal(value), policy.band_list, lower_is_better=True)[0] == level


def test_edges_edited_in_the_database_apply(faire):
    from scorecards.models import MetricPolicy

    placed = at(2025, 10, 1)
    order(
        faire,
        placed_at=placed,
        cancelled_at=at(2025, 10, 3),
        cancelled_by="seller",
        cancellation_reason="pricing_error",
    )
    for _ in range(9):
        order(faire, placed_at=placed)
    assert evaluate(faire, "faire_cancelled_orders").level == "red"  # 10 % > 5 %
    policy = MetricPolicy.objects.get(marketplace=faire, metric="faire_cancelled_orders")
    policy.bands.filter(level="yellow").update(bound=Decimal("0.10"))
    assert evaluate(faire, "faire_cancelled_orders").level == "yellow"  # 10 % <= 10 %
