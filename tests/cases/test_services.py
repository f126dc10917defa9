import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.choices import ResolutionOutcome
from cases.errors import CaseRefused, ErrorCode, TransitionRefused
from cases.models import Case, CaseEvent
from cases.services import (
    case_assign,
    case_open,
    case_transition,
    case_update_details,
)
from cases.services.deadlines import compute_deadlines, deadline_status
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db


def test_reference_is_human_and_sequential_per_year(system_actor):
    first = open_case(
        "cancellation", actor=system_actor, opened_at=timezone.now() - dt.timedelta(days=1)
    )
    second = open_case(
        "cancellation", actor=system_actor, opened_at=timezone.now() - dt.timedelta(days=1)
    )
    year = first.opened_at.year
    assert first.reference == f"AS-{year}-000001"
    assert second.reference == f"AS-{year}-000002"


def test_opening_with_the_same_external_id_returns_the_existing_case(system_actor):
    order = make_order()
    first, created = case_open(
        marketplace=order.marketplace,
        order=order,
        kind="wrong_item",
        external_id="CLAIM-1",
        actor=system_actor,
        door="api",
    )
    again, created_again = case_open(
        marketplace=order.marketplace,
        order=order,
        kind="wrong_item",
        external_id="CLAIM-1",
        actor=system_actor,
        door="api",
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Case.objects.count() == 1


def test_case_cannot_open_in_the_future_or_before_its_order(system_actor):
    order = make_order(placed_at=timezone.now() - dt.timedelta(days=2))
    with pytest.raises(CaseRefused) as future:
        case_open(
            marketplace=order.marketplace,
            order=order,
            kind="cancellation",
            opened_at=timezone.now() + dt.timedelta(minutes=5),
            actor=system_actor,
            door="api",
        )
    assert future.value.code == ErrorCode.OCCURRED_IN_FUTURE
    with pytest.raises(CaseRefused) as early:
        case_open(
            marketplace=order.marketplace,
            order=order,
            kind="cancellation",
            opened_at=timezone.now() - dt.timedelta(days=3),
            actor=system_actor,
            door="api",
        )
    assert early.value.code == ErrorCode.OPENED_BEFORE_ORDER
    other = Marketplace.objects.get(code="jd")
    with pytest.raises(CaseRefused) as wrong:
        case_open(
            marketplace=other, order=order, kind="cancellation", actor=system_actor, door="api"
        )
    assert wrong.value.code == ErrorCode.ORDER_OF_OTHER_MARKETPLACE
    assert Case.objects.count() == 0


def test_occurred_at_in_the_future_is_refused_and_nothing_changes(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    with pytest.raises(TransitionRefused) as refused:
        case_transition(
            case=case,
            transition="request_refund",
            actor=supervisor_actor,
            door="api",
            occurred_at=timezone.now() + dt.timedelta(seconds=30),
        )
    assert refused.value.code == ErrorCode.OCCURRED_IN_FUTURE
    assert refused.value.field == "occurred_at"
    case.refresh_from_db()
    assert case.state == "new" and case.version == 1
    assert case.events.count() == 1


def test_occurred_at_before_the_last_transition_is_refused(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    at = case.opened_at + dt.timedelta(hours=5)
    case = case_transition(
        case=case, transition="request_refund", actor=supervisor_actor, door="api", occurred_at=at
    )
    with pytest.raises(TransitionRefused) as refused:
        case_transition(
            case=case,
            transition="mark_refunded",
            actor=supervisor_actor,
            door="api",
            occurred_at=at - dt.timedelta(minutes=1),
        )
    assert refused.value.code == ErrorCode.OCCURRED_BEFORE_PREVIOUS
    with pytest.raises(TransitionRefused):
        open_case_then = open_case("cancellation", actor=supervisor_actor)
        case_transition(
            case=open_case_then,
            transition="request_refund",
            actor=supervisor_actor,
            door="api",
            occurred_at=open_case_then.opened_at - dt.timedelta(seconds=1),
        )
    # the same instant as the last transition is allowed (imports often share a timestamp)
    case = case_transition(
        case=case, transition="mark_refunded", actor=supervisor_actor, door="api", occurred_at=at
    )
    assert case.state == "refunded"


def test_a_stale_version_is_a_conflict(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    stale_version = case.version
    case_assign(case=case, assignee=supervisor_actor.user, actor=supervisor_actor, door="admin")
    with pytest.raises(TransitionRefused) as refused:
        case_transition(
            case=case,
            transition="request_refund",
            actor=supervisor_actor,
            door="admin",
            expected_version=stale_version,
        )
    assert refused.value.code == ErrorCode.CASE_CHANGED
    assert refused.value.is_conflict
    assert Case.objects.get(pk=case.pk).state == "new"


def test_transition_writes_one_audit_record_with_actor_door_and_times(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    at = case.opened_at + dt.timedelta(hours=2)
    case_transition(
        case=case,
        transition="request_refund",
        actor=supervisor_actor,
        door="admin",
        occurred_at=at,
        note="customer asked by chat",
    )
    event = CaseEvent.objects.filter(case=case, event_type="transition").get()
    assert (event.transition, event.from_state, event.to_state) == (
        "request_refund",
        "new",
        "refund_pending",
    )
    assert event.actor_type == "user" and event.actor_user == supervisor_actor.user
    assert event.door == "admin"
    assert event.occurred_at == at
    assert event.recorded_at >= at
    assert event.note == "customer asked by chat"


def test_confirmation_starts_the_resolution_clock_and_records_if_met(supervisor_actor):
    opened = dt.datetime(2026, 2, 2, 3, 0, tzinfo=dt.UTC)
    order = make_order(placed_at=opened - dt.timedelta(days=3))
    case = open_case("damaged_item", actor=supervisor_actor, order=order, opened_at=opened)
    assert case.resolution_due_at is None
    confirm_at = dt.datetime(2026, 2, 12, 2, 0, tzinfo=dt.UTC)  # Thu 12 Feb, 10:00 Shanghai
    case = run(
        case,
        ["request_evidence", "start_review"],
        supervisor_actor,
        start=confirm_at - dt.timedelta(hours=3),
    )
    case = case_transition(
        case=case,
        transition="confirm",
        actor=supervisor_actor,
        door="admin",
        occurred_at=confirm_at,
    )
    # 15 business days in Tmall's calendar (see the Spring Festival calendar test): 11 March.
    assert case.resolution_due_at == dt.datetime(2026, 3, 11, 15, 59, 59, tzinfo=dt.UTC)
    case = run(
        case, ["start_reship", "mark_reshipped"], supervisor_actor, step=dt.timedelta(days=5)
    )
    assert case.resolution_met is True
    assert case.resolution_outcome == ResolutionOutcome.RESHIPPED
    assert case.resolved_at == confirm_at + dt.timedelta(days=10)


def test_resolution_missed_is_recorded(supervisor_actor):
    opened = dt.datetime(2026, 2, 2, 3, 0, tzinfo=dt.UTC)
    order = make_order(placed_at=opened - dt.timedelta(days=3))
    case = open_case("damaged_item", actor=supervisor_actor, order=order, opened_at=opened)
    case = run(case, ["request_evidence", "start_review", "confirm"], supervisor_actor)
    case = run(
        case, ["request_refund", "mark_refunded"], supervisor_actor, step=dt.timedelta(days=20)
    )
    assert case.resolution_met is False


def test_deadlines_follow_the_marketplace_rules(supervisor_actor):
    opened = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)  # Friday 15:00 Paris
    for code, expected_response in [
        ("amazon_fr", opened + dt.timedelta(hours=24)),  # calendar time
        ("cdiscount", dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)),  # 48 business hours
        ("faire", dt.datetime(2026, 11, 24, 22, 59, 59, tzinfo=dt.UTC)),  # 2 business days
        ("tmall", opened + dt.timedelta(minutes=3)),
        ("spartoo", None),
    ]:
        order = make_order(code, placed_at=opened - dt.timedelta(days=1))
        case = open_case("cancellation", actor=supervisor_actor, order=order, opened_at=opened)
        assert case.response_due_at == expected_response, code


def test_evidence_clock_runs_while_awaiting_evidence(supervisor_actor):
    case = open_case("missing_item", actor=supervisor_actor, marketplace="amazon_fr")
    at = case.opened_at + dt.timedelta(hours=1)
    case = case_transition(
        case=case,
        transition="request_evidence",
        actor=supervisor_actor,
        door="admin",
        occurred_at=at,
    )
    calendar = calendar_for(case.marketplace)
    assert case.evidence_due_at == calendar.deadline(
        at, case.marketplace.evidence_wait_business_days
    )
    assert case.next_due_at == min(
        case.evidence_due_at, case.resolution_due_at or case.evidence_due_at
    )
    case = run(case, ["start_review"], supervisor_actor)
    assert case.next_due_at != case.evidence_due_at or case.evidence_due_at is None


def test_closed_cases_have_no_running_deadline(supervisor_actor):
    case = run(
        open_case("cancellation", actor=supervisor_actor),
        ["request_refund", "mark_refunded", "close"],
        supervisor_actor,
    )
    assert case.next_due_at is None
    assert case.closed_at is not None


def test_stored_deadlines_equal_a_fresh_computation(supervisor_actor):
    case = run(
        open_case("damaged_item", actor=supervisor_actor),
        ["request_evidence", "start_review", "confirm"],
        supervisor_actor,
    )
    fresh = compute_deadlines(case, case.marketplace)
    for field, value in fresh.items():
        assert getattr(case, field) == value, field


def test_calendar_change_recomputes_open_cases(
    supervisor_actor, django_capture_on_commit_callbacks
):
    from marketplaces.services import calendar_exception_set

    confirm_at = dt.datetime(2026, 2, 12, 2, 0, tzinfo=dt.UTC)
    order = make_order(placed_at=confirm_at - dt.timedelta(days=10))
    case = open_case(
        "damaged_item",
        actor=supervisor_actor,
        order=order,
        opened_at=confirm_at - dt.timedelta(days=5),
    )
    case = run(
        case,
        ["request_evidence", "start_review", "confirm"],
        supervisor_actor,
        start=confirm_at - dt.timedelta(hours=3),
    )
    before = case.resolution_due_at
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit
        calendar_exception_set(
            marketplace=case.marketplace, date=dt.date(2026, 3, 2), kind="closed", label="Inventory"
        )
    case.refresh_from_db()
    assert case.resolution_due_at == before + dt.timedelta(days=1)


def test_deadline_status(supervisor_actor):
    tmall = Marketplace.objects.get(code="tmall")
    due = dt.datetime(2026, 3, 11, 15, 59, 59, tzinfo=dt.UTC)
    far = deadline_status(due, at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC), marketplace=tmall)
    assert (far.status, far.business_days_left) == ("on_track", 7)
    near = deadline_status(due, at=dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC), marketplace=tmall)
    assert (near.status, near.business_days_left) == ("at_risk", 2)
    late = deadline_status(due, at=dt.datetime(2026, 3, 13, 2, 0, tzinfo=dt.UTC), marketplace=tmall)
    assert (late.status, late.business_days_left) == ("overdue", -2)


def test_escalation_sets_the_flag_once(supervisor_actor):
    case = run(
        open_case("damaged_item", actor=supervisor_actor),
        ["request_evidence", "start_review", "reject", "escalate"],
        supervisor_actor,
    )
    assert case.escalated and case.escalated_at == case.last_transition_at
    first = case.escalated_at
    case = run(case, ["platform_overturns", "escalate"], supervisor_actor)
    assert case.escalated_at == first


def test_update_details_and_assign_are_audited(supervisor_actor, agent):
    case = open_case("cancellation", actor=supervisor_actor)
    case = case_update_details(
        case=case, actor=supervisor_actor, door="admin", priority=40, description="VIP"
    )
    case = case_assign(case=case, assignee=agent, actor=supervisor_actor, door="admin")
    assert case.priority == 40 and case.assignee == agent
    types = list(case.events.order_by("pk").values_list("event_type", flat=True))
    assert types == ["case_opened", "details_changed", "assigned"]


def test_state_cannot_be_set_directly(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        case.state = "closed"


def test_audit_records_cannot_be_changed_or_deleted(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    event = case.events.get()
    event.note = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(pk=event.pk).delete()
    # and in the database itself, whatever the client
    from django.db import connection

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_caseevent SET note = 'x' WHERE id = %s", [event.pk])
    assert CaseEvent.objects.get(pk=event.pk).note != "x"
