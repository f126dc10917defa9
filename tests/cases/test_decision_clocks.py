"""Decision clocks: evidence under review and refund requests awaiting a decision run a clock
per marketplace, stored, counted in ``next_due_at`` and shown by the API like the others."""

import datetime as dt

import pytest

from api.deadlines import case_deadlines
from cases.deadlines import active_deadlines
from cases.services import case_record_first_response, refund_decide, refund_request_create
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db
# A Monday in Paris; 2025-11-11 (Tuesday) is a French public holiday.
MONDAY = dt.datetime(2025, 11, 10, 9, 0, tzinfo=dt.UTC)
PARIS = dt.timezone(dt.timedelta(hours=1))


def cdiscount_claim(actor, opened_at=MONDAY):
    order = make_order("cdiscount", placed_at=opened_at - dt.timedelta(days=5))
    return open_case("damaged_item", actor=actor, order=order, opened_at=opened_at)


def test_shipped_marketplaces_have_the_assumed_two_business_days():
    amazon = Marketplace.objects.get(code="amazon_fr")
    assert (amazon.evidence_review_business_days, amazon.refund_decision_business_days) == (2, 2)
    assert amazon.return_response_hours == 48


def test_refund_request_starts_the_refund_decision_clock_and_the_decision_stops_it(
    supervisor_actor,
):
    # given a claim opened on Monday 10:00 Paris
    case = cdiscount_claim(supervisor_actor)
    # when the customer asks for money back at 11:00
    refund = refund_request_create(
        case=case,
        amount="25",
        currency="EUR",
        actor=supervisor_actor,
        door="api",
        requested_at=MONDAY + dt.timedelta(hours=1),
    )
    case.refresh_from_db()
    # then the decision is due at the end of the 2nd working day after Monday: Tuesday is
    # 11 November (holiday), so Wednesday then Thursday 23:59:59 Paris
    assert case.refund_awaiting_since == MONDAY + dt.timedelta(hours=1)
    assert case.refund_decision_due_at == dt.datetime(2025, 11, 13, 23, 59, 59, tzinfo=PARIS)
    assert active_deadlines(case)["refund_decision"] == case.refund_decision_due_at
    assert case.next_due_at == min(active_deadlines(case).values())

    refund_decide(
        refund_request=refund,
        decision="approved",
        actor=supervisor_actor,
        door="admin",
        decided_at=MONDAY + dt.timedelta(hours=2),
    )
    case.refresh_from_db()
    assert case.refund_awaiting_since is None
    assert case.refund_decision_due_at is None
    assert "refund_decision" not in active_deadlines(case)


def test_the_refund_clock_follows_the_oldest_undecided_request(supervisor_actor):
    case = cdiscount_claim(supervisor_actor)
    first = refund_request_create(
        case=case,
        amount="10",
        currency="EUR",
        actor=supervisor_actor,
        door="api",
        requested_at=MONDAY + dt.timedelta(hours=1),
    )
    refund_request_create(
        case=case,
        amount="15",
        currency="EUR",
        actor=supervisor_actor,
        door="api",
        requested_at=MONDAY + dt.timedelta(days=3),  # Thursday
    )
    case.refresh_from_db()
    assert case.refund_awaiting_since == MONDAY + dt.timedelta(hours=1)

    refund_decide(
        refund_request=first,
        decision="rejected",
        reason_code="duplicate",
        actor=supervisor_actor,
        door="admin",
        decided_at=MONDAY + dt.timedelta(days=3, hours=1),
    )
    case.refresh_from_db()
    # Thursday's request: due at the end of Monday 17 (Friday, then Monday)
    assert case.refund_awaiting_since == MONDAY + dt.timedelta(days=3)
    assert case.refund_decision_due_at == dt.datetime(2025, 11, 17, 23, 59, 59, tzinfo=PARIS)


def test_review_clock_runs_while_under_review(supervisor_actor):
    case = cdiscount_claim(supervisor_actor)
    case = run(case, ["request_evidence"], supervisor_actor, start=MONDAY)
    case = run(case, ["start_review"], supervisor_actor, start=MONDAY + dt.timedelta(days=3))
    # under review since Thursday 12:00 UTC: due at the end of Monday 17 (Friday, Monday)
    assert case.state == "under_review"
    assert case.review_due_at == dt.datetime(2025, 11, 17, 23, 59, 59, tzinfo=PARIS)
    assert active_deadlines(case)["evidence_review"] == case.review_due_at
    assert case.next_due_at <= case.review_due_at

    at = MONDAY + dt.timedelta(days=4)
    rows = {row["name"]: row for row in case_deadlines(case, at=at)}
    assert rows["evidence_review"]["running"] is True
    assert rows["evidence_review"]["status"] == "at_risk"  # 1 business day left

    case = run(case, ["confirm"], supervisor_actor, start=at)
    assert case.review_due_at is None
    assert "evidence_review" not in active_deadlines(case)


def test_no_clock_where_the_marketplace_sets_none(supervisor_actor):
    Marketplace.objects.filter(code="cdiscount").update(refund_decision_business_days=None)
    case = cdiscount_claim(supervisor_actor)
    refund_request_create(
        case=case,
        amount="10",
        currency="EUR",
        actor=supervisor_actor,
        door="api",
        requested_at=MONDAY + dt.timedelta(hours=1),
    )
    case.refresh_from_db()
    assert case.refund_awaiting_since is not None
    assert case.refund_decision_due_at is None


def test_a_case_with_a_refund_to_decide_sorts_among_the_dated_cases(supervisor_actor):
    # a cancellation has a resolution clock far away; the refund decision comes first
    order = make_order("cdiscount", placed_at=MONDAY - dt.timedelta(days=5))
    case = open_case("cancellation", actor=supervisor_actor, order=order, opened_at=MONDAY)
    case = case_record_first_response(
        case=case, responded_at=MONDAY, actor=supervisor_actor, door="api"
    )
    before = case.next_due_at
    refund_request_create(
        case=case,
        amount="10",
        currency="EUR",
        actor=supervisor_actor,
        door="api",
        requested_at=MONDAY + dt.timedelta(hours=1),
    )
    case.refresh_from_db()
    assert case.next_due_at == case.refund_decision_due_at < before
    calendar = calendar_for(case.marketplace)
    assert calendar.local_date(case.next_due_at) == dt.date(2025, 11, 13)
