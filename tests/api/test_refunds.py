"""Refund requests and decisions through the API (the service path: refund_decide)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, RefundRequest
from cases.services import case_note_add
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def cancellation(system_actor):
    return open_case(
        "cancellation",
        actor=system_actor,
        refund_request={"amount": Decimal("80.00"), "currency": "CNY"},
    )


def decide(api, case, **fields):
    return api.post(f"/api/v1/cases/{case.reference}/refund-decisions/", fields, format="json")


def test_approving_moves_the_case_to_refund_pending(api, cancellation):
    refund = cancellation.refund_requests.get()
    response = decide(api, cancellation, refund_request=refund.pk, decision="approved")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refund_request"]["decision"] == "approved"
    assert body["refund_request"]["approved_amount"] == "80.00"
    assert body["refund_request"]["decided_by"] == "erp"
    assert body["case"]["state"] == "refund_pending"
    assert Case.objects.get(pk=cancellation.pk).state == "refund_pending"


def test_partial_approval_needs_a_smaller_amount(api, cancellation):
    refund = cancellation.refund_requests.get()
    no_amount = decide(api, cancellation, refund_request=refund.pk, decision="partially_approved")
    assert (
        assert_problem(no_amount, 400, "invalid_amount")["errors"][0]["field"] == "approved_amount"
    )
    too_much = decide(
        api,
        cancellation,
        refund_request=refund.pk,
        decision="partially_approved",
        approved_amount="90",
    )
    assert_problem(too_much, 400, "invalid_amount")
    ok = decide(
        api,
        cancellation,
        refund_request=refund.pk,
        decision="partially_approved",
        approved_amount="30",
    )
    assert ok.json()["refund_request"]["approved_amount"] == "30.00"


def test_rejecting_needs_the_right_and_a_reason_code(api, supervisor_api, cancellation):
    refund = cancellation.refund_requests.get()
    assert_problem(
        decide(
            api,
            cancellation,
            refund_request=refund.pk,
            decision="rejected",
            reason_code="duplicate",
        ),
        403,
        "permission_denied",
    )
    body = assert_problem(
        decide(supervisor_api, cancellation, refund_request=refund.pk, decision="rejected"),
        400,
        "rejection_reason_required",
    )
    assert body["errors"][0]["field"] == "reason_code"
    assert RefundRequest.objects.get(pk=refund.pk).decision == ""
    done = decide(
        supervisor_api,
        cancellation,
        refund_request=refund.pk,
        decision="rejected",
        reason_code="duplicate",
    )
    assert done.status_code == 200
    assert RefundRequest.objects.get(pk=refund.pk).rejection_reason == "duplicate"
    again = decide(supervisor_api, cancellation, refund_request=refund.pk, decision="approved")
    assert_problem(again, 409, "refund_already_decided")


def test_decision_refusals(api, cancellation, system_actor):
    other = open_case(
        "cancellation", actor=system_actor, refund_request={"amount": "5", "currency": "CNY"}
    )
    foreign = other.refund_requests.get()
    body = assert_problem(
        decide(api, cancellation, refund_request=foreign.pk, decision="approved"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "refund_request"
    refund = cancellation.refund_requests.get()
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert_problem(
        decide(api, cancellation, refund_request=refund.pk, decision="approved", decided_at=future),
        400,
        "occurred_in_future",
    )
    assert_problem(
        decide(api, cancellation, refund_request=refund.pk, decision="maybe"), 400, "invalid"
    )
    # the client acted on version 1; an agent's note has changed the case since
    case_note_add(
        case=cancellation.pk, text="called the customer", actor=system_actor, door="admin"
    )
    assert_problem(
        decide(
            api, cancellation, refund_request=refund.pk, decision="approved", expected_version=1
        ),
        409,
        "case_changed",
    )
    assert RefundRequest.objects.get(pk=refund.pk).decision == ""


def test_record_a_refund_request_later(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    url = f"/api/v1/cases/{case.reference}/refund-requests/"
    response = api.post(
        url, {"amount": "12.5", "currency": "eur", "external_id": "R-1"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "12.50" and response.json()["currency"] == "EUR"
    assert [r["external_id"] for r in api.get(url).json()] == ["R-1"]
    assert_problem(
        api.post(url, {"amount": "-3", "currency": "EUR"}, format="json"), 400, "invalid"
    )
