"""Return requests: imported idempotently with their 48 h clock on Amazon, answered once
(authorise, close, reject with a reason), through the kernel when on a case."""

import datetime as dt

import pytest
from django.utils import timezone

from cases.actors import Actor
from cases.errors import CaseRefused, ErrorCode
from cases.models import ReturnRequest
from cases.services.returns import return_request_answer, return_request_upsert
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
SAT = dt.datetime(2025, 11, 8, 10, 0, tzinfo=dt.UTC)  # a Saturday, before a holiday Tuesday


@pytest.fixture
def amazon():
    return Marketplace.objects.get(code="amazon_fr")


def a_return(marketplace, external_id="R-1", requested_at=SAT, **fields):
    order = fields.pop("order", None) or make_order(
        marketplace, placed_at=requested_at - dt.timedelta(days=10)
    )
    return return_request_upsert(
        marketplace=marketplace,
        external_id=external_id,
        order=order,
        requested_at=requested_at,
        **fields,
    )


def test_amazon_return_request_is_due_48_hours_later_weekend_included(amazon):
    request, created = a_return(amazon)
    assert created is True
    assert request.response_due_at == SAT + dt.timedelta(hours=48)

    again, created_again = a_return(amazon, order=request.order)
    assert (created_again, again.pk) == (False, request.pk)
    assert ReturnRequest.objects.count() == 1


def test_no_clock_where_the_marketplace_sets_none():
    cdiscount = Marketplace.objects.get(code="cdiscount")
    request, _ = a_return(cdiscount)
    assert request.response_due_at is None


def test_moving_the_request_time_moves_the_clock(amazon):
    request, _ = a_return(amazon)
    moved, _ = a_return(amazon, order=request.order, requested_at=SAT + dt.timedelta(hours=5))
    assert moved.response_due_at == SAT + dt.timedelta(hours=53)


@pytest.mark.parametrize("decision", ["authorized", "closed", "refunded_without_return"])
def test_answering_records_the_decision_and_the_time(amazon, agent_actor, decision):
    request, _ = a_return(amazon)
    answered = return_request_answer(
        return_request=request,
        decision=decision,
        actor=agent_actor,
        door="admin",
        answered_at=SAT + dt.timedelta(hours=47),
    )
    answered.refresh_from_db()
    assert (answered.decision, answered.responded_at) == (decision, SAT + dt.timedelta(hours=47))
    assert answered.answered_by_name == agent_actor.name
    assert answered.rejection_reason == ""


def test_rejecting_needs_a_reason_and_nothing_is_written_without_one(amazon, agent_actor):
    request, _ = a_return(amazon)
    with pytest.raises(CaseRefused) as refused:
        return_request_answer(
            return_request=request, decision="rejected", actor=agent_actor, door="api"
        )
    assert (refused.value.code, refused.value.field) == (
        ErrorCode.REJECTION_REASON_REQUIRED,
        "reason",
    )
    request.refresh_from_db()
    assert (request.decision, request.responded_at) == ("", None)

    return_request_answer(
        return_request=request,
        decision="rejected",
        reason="Used item, outside the 30-day window",
        actor=agent_actor,
        door="api",
    )
    request.refresh_from_db()
    assert request.decision == "rejected"
    assert request.rejection_reason == "Used item, outside the 30-day window"


def test_a_request_is_answered_once(amazon, agent_actor):
    request, _ = a_return(amazon)
    return_request_answer(
        return_request=request, decision="authorized", actor=agent_actor, door="api"
    )
    with pytest.raises(CaseRefused) as refused:
        return_request_answer(
            return_request=request, decision="closed", actor=agent_actor, door="api"
        )
    assert refused.value.code == ErrorCode.RETURN_ALREADY_ANSWERED
    request.refresh_from_db()
    assert request.decision == "authorized"


@pytest.mark.parametrize(
    ("decision", "answered_at", "code", "field"),
    [
        ("refused", None, ErrorCode.INVALID_VALUE, "decision"),
        (
            "authorized",
            SAT - dt.timedelta(hours=1),
            ErrorCode.OCCURRED_BEFORE_PREVIOUS,
            "answered_at",
        ),
        ("authorized", "future", ErrorCode.OCCURRED_IN_FUTURE, "answered_at"),
    ],
)
def test_bad_answers_are_refused(amazon, agent_actor, decision, answered_at, code, field):
    request, _ = a_return(amazon)
    if answered_at == "future":
        answered_at = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(CaseRefused) as refused:
        return_request_answer(
            return_request=request,
            decision=decision,
            actor=agent_actor,
            door="api",
            answered_at=answered_at,
        )
    assert (refused.value.code, refused.value.field) == (code, field)
    request.refresh_from_db()
    assert request.decision == ""


def test_answer_on_a_case_goes_through_the_kernel(amazon, agent_actor):
    order = make_order(amazon, placed_at=SAT - dt.timedelta(days=10))
    case = open_case("damaged_item", actor=Actor.system("t"), order=order, opened_at=SAT)
    request, _ = a_return(amazon, order=order, case=case)
    version = case.version

    return_request_answer(
        return_request=request,
        decision="authorized",
        actor=agent_actor,
        door="admin",
        answered_at=SAT + dt.timedelta(hours=50),
    )
    case.refresh_from_db()
    assert case.version == version + 1
    event = case.events.get(event_type="return_answered")
    assert event.data == {
        "return_request": request.pk,
        "decision": "authorized",
        "external_id": "R-1",
        "on_time": False,
    }
