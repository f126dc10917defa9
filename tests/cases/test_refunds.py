import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.errors import ErrorCode, RefundRefused
from cases.models import RefundRequest
from cases.services import refund_decide, refund_request_create
from tests.factories import open_case, run

pytestmark = pytest.mark.django_db


def claim_with_refund(actor, amount="80.00"):
    return open_case(
        "damaged_item", actor=actor, refund_request={"amount": amount, "currency": "cny"}
    )


def test_refund_request_is_recorded_with_the_case(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    refund = case.refund_requests.get()
    assert (refund.amount, refund.currency, refund.decision) == (Decimal("80.00"), "CNY", "")
    assert refund.marketplace_id == case.marketplace_id
    assert case.events.filter(event_type="refund_requested").count() == 1


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        ("0", "EUR", "amount"),
        ("-5", "EUR", "amount"),
        ("abc", "EUR", "amount"),
        ("10", "EURO", "currency"),
        ("10", "", "currency"),
    ],
)
def test_bad_refund_requests_are_refused(supervisor_actor, amount, currency, field):
    case = open_case("cancellation", actor=supervisor_actor)
    with pytest.raises(RefundRefused) as refused:
        refund_request_create(
            case=case, amount=amount, currency=currency, actor=supervisor_actor, door="api"
        )
    assert refused.value.field == field
    assert RefundRequest.objects.count() == 0


def test_approval_moves_the_case_to_refund_pending(supervisor_actor):
    case = open_case(
        "cancellation", actor=supervisor_actor, refund_request={"amount": "30", "currency": "EUR"}
    )
    refund = refund_decide(
        refund_request=case.refund_requests.get(),
        decision="approved",
        actor=supervisor_actor,
        door="admin",
    )
    assert refund.approved_amount == Decimal("30.00")
    case.refresh_from_db()
    assert case.state == "refund_pending"
    assert list(case.events.order_by("pk").values_list("event_type", flat=True)) == [
        "case_opened",
        "refund_requested",
        "refund_decided",
        "transition",
    ]


def test_partial_approval_needs_a_smaller_amount(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    refund = case.refund_requests.get()
    for amount, code in [
        (None, ErrorCode.INVALID_AMOUNT),
        ("80", ErrorCode.INVALID_AMOUNT),
        ("120", ErrorCode.INVALID_AMOUNT),
    ]:
        with pytest.raises(RefundRefused) as refused:
            refund_decide(
                refund_request=refund,
                decision="partially_approved",
                approved_amount=amount,
                actor=supervisor_actor,
                door="admin",
            )
        assert refused.value.code == code
    refund = refund_decide(
        refund_request=refund,
        decision="partially_approved",
        approved_amount="25.50",
        actor=supervisor_actor,
        door="admin",
    )
    assert refund.approved_amount == Decimal("25.50")


def test_rejection_needs_a_supervisor_and_a_reason_code(agent_actor, supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    refund = case.refund_requests.get()
    with pytest.raises(RefundRefused) as refused:
        refund_decide(
            refund_request=refund,
            decision="rejected",
            reason_code="customer_fault",
            actor=agent_actor,
            door="admin",
        )
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(RefundRefused) as refused:
        refund_decide(
            refund_request=refund, decision="rejected", actor=supervisor_actor, door="admin"
        )
    assert refused.value.code == ErrorCode.REJECTION_REASON_REQUIRED
    with pytest.raises(RefundRefused) as refused:
        refund_decide(
            refund_request=refund,
            decision="rejected",
            reason_code="other",
            actor=supervisor_actor,
            door="admin",
        )
    assert refused.value.field == "note"
    refund.refresh_from_db()
    assert refund.decision == ""
    refund = refund_decide(
        refund_request=refund,
        decision="rejected",
        reason_code="outside_return_policy",
        actor=supervisor_actor,
        door="admin",
    )
    assert (refund.decision, refund.rejection_reason) == ("rejected", "outside_return_policy")
    assert refund.decided_by == supervisor_actor.user
    case.refresh_from_db()
    assert case.state == "new"  # a refund rejection does not move the case


def test_a_decision_is_final(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    refund = refund_decide(
        refund_request=case.refund_requests.get(),
        decision="rejected",
        reason_code="duplicate",
        actor=supervisor_actor,
        door="admin",
    )
    with pytest.raises(RefundRefused) as refused:
        refund_decide(
            refund_request=refund, decision="approved", actor=supervisor_actor, door="admin"
        )
    assert refused.value.code == ErrorCode.REFUND_ALREADY_DECIDED


def test_decision_time_is_checked(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    refund = case.refund_requests.get()
    with pytest.raises(Exception) as future:
        refund_decide(
            refund_request=refund,
            decision="approved",
            actor=supervisor_actor,
            door="api",
            decided_at=timezone.now() + dt.timedelta(hours=1),
        )
    assert future.value.code == ErrorCode.OCCURRED_IN_FUTURE
    with pytest.raises(RefundRefused) as early:
        refund_decide(
            refund_request=refund,
            decision="approved",
            actor=supervisor_actor,
            door="api",
            decided_at=refund.requested_at - dt.timedelta(hours=1),
        )
    assert early.value.code == ErrorCode.OCCURRED_BEFORE_PREVIOUS


def test_rejecting_a_claim_rejects_its_refund_request(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    case = run(case, ["request_evidence", "start_review"], supervisor_actor)
    from cases.services import case_transition

    case = case_transition(
        case=case,
        transition="reject",
        actor=supervisor_actor,
        door="admin",
        reason="photos show no damage",
        reason_code="insufficient_evidence",
    )
    refund = case.refund_requests.get()
    assert refund.decision == "rejected"
    assert refund.rejection_reason == "insufficient_evidence"
    assert refund.rejection_note == "photos show no damage"
    assert refund.decided_at == case.last_transition_at


def test_platform_overturn_is_recorded_on_the_rejection(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    case = run(
        case,
        ["request_evidence", "start_review", "reject", "escalate", "platform_overturns"],
        supervisor_actor,
    )
    refund = case.refund_requests.get()
    assert refund.decision == "rejected"
    assert refund.overturned_at == case.last_transition_at
    assert case.state == "confirmed" and case.resolution_due_at is not None
    assert case.events.filter(event_type="refund_overturned").count() == 1


def test_mark_refunded_approves_open_requests(supervisor_actor):
    case = claim_with_refund(supervisor_actor)
    case = run(
        case,
        ["request_evidence", "start_review", "confirm", "request_refund", "mark_refunded"],
        supervisor_actor,
    )
    refund = case.refund_requests.get()
    assert refund.decision == "approved" and refund.approved_amount == Decimal("80.00")
