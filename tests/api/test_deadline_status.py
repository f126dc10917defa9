"""Every deadline of a case says what became of it: a running clock is on track, at risk or
overdue; a stopped one was met or missed (and says when it stopped); one that never ran says
not_started."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.choices import Door
from cases.services import case_record_first_response, case_transition
from marketplaces.calendars import calendar_for
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db


def deadlines(api, case) -> dict[str, dict]:
    body = api.get(f"/api/v1/cases/{case.reference}/").json()
    return {row["name"]: row for row in body["deadlines"]}


def old_order():
    return make_order("tmall", placed_at=timezone.now() - dt.timedelta(days=120))


def moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text is not None else None


def test_a_first_response_in_time_meets_the_response_deadline(api, system_actor):
    # given a Tmall case (first answer due 3 minutes after opening), answered after 1 minute
    case = open_case("cancellation", actor=system_actor)
    answered = case.opened_at + dt.timedelta(minutes=1)
    case_record_first_response(
        case=case, responded_at=answered, actor=system_actor, door=Door.COMMAND
    )

    row = deadlines(api, case)["response"]

    assert row == {
        "name": "response",
        "due_at": row["due_at"],
        "running": False,
        "status": "met",
        "business_days_left": None,
        "stopped_at": row["stopped_at"],
    }
    assert moment(row["due_at"]) == case.opened_at + dt.timedelta(minutes=3)
    assert moment(row["stopped_at"]) == answered


def test_a_late_first_response_misses_the_response_deadline(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    answered = case.opened_at + dt.timedelta(hours=1)
    case_record_first_response(
        case=case, responded_at=answered, actor=system_actor, door=Door.COMMAND
    )

    row = deadlines(api, case)["response"]

    assert (row["running"], row["status"]) == (False, "missed")
    assert moment(row["stopped_at"]) == answered


def test_evidence_sent_in_time_meets_the_evidence_deadline(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    case = run(case, ["request_evidence", "start_review"], system_actor)

    row = deadlines(api, case)["evidence"]

    review = case.events.get(transition="start_review")
    assert (row["running"], row["status"]) == (False, "met")
    assert moment(row["stopped_at"]) == review.occurred_at
    assert row["business_days_left"] is None


def test_evidence_sent_after_the_wait_misses_the_evidence_deadline(api, system_actor):
    opened = timezone.now() - dt.timedelta(days=60)
    case = open_case("damaged_item", actor=system_actor, opened_at=opened, order=old_order())
    case = run(case, ["request_evidence"], system_actor)
    reviewed_at = opened + dt.timedelta(days=30)
    case = run(case, ["start_review"], system_actor, start=reviewed_at, step=dt.timedelta(0))

    row = deadlines(api, case)["evidence"]

    assert (row["running"], row["status"]) == (False, "missed")
    assert moment(row["stopped_at"]) == reviewed_at
    assert moment(row["due_at"]) < reviewed_at


def test_a_resolved_claim_shows_the_domains_verdict_on_resolution(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    path = ["request_evidence", "start_review", "confirm", "start_reship", "mark_reshipped"]
    case = run(case, path, system_actor)

    row = deadlines(api, case)["resolution"]

    assert case.resolution_met is True
    assert (row["running"], row["status"]) == (False, "met")
    assert moment(row["stopped_at"]) == case.resolved_at


def test_a_claim_resolved_after_its_deadline_missed_it(api, system_actor):
    opened = timezone.now() - dt.timedelta(days=90)
    case = open_case("damaged_item", actor=system_actor, opened_at=opened, order=old_order())
    case = run(case, ["request_evidence", "start_review", "confirm", "start_reship"], system_actor)
    reshipped = opened + dt.timedelta(days=60)  # 15 business days after confirming are long past
    case = run(case, ["mark_reshipped"], system_actor, start=reshipped, step=dt.timedelta(0))

    row = deadlines(api, case)["resolution"]

    assert case.resolution_met is False
    assert (row["running"], row["status"]) == (False, "missed")
    assert moment(row["stopped_at"]) == reshipped


def test_a_clock_that_has_not_run_says_so(api, system_actor):
    # given a late shipment still new: the supplier-switch clock runs only once contacted
    case = open_case("late_shipment", actor=system_actor)

    rows = deadlines(api, case)

    assert rows["supplier_contact"]["running"] is True
    assert rows["supplier_contact"]["status"] == "overdue"
    assert rows["supplier_switch"] == {
        "name": "supplier_switch",
        "due_at": rows["supplier_switch"]["due_at"],
        "running": False,
        "status": "not_started",
        "business_days_left": None,
        "stopped_at": None,
    }


def test_leaving_the_state_before_the_due_time_meets_the_clock(api, system_actor):
    # given an order due to ship today: contacting the supplier is due in two days
    order = make_order("tmall", promised_ship_date=timezone.now().date())
    case = open_case(
        "late_shipment",
        actor=system_actor,
        order=order,
        opened_at=timezone.now() - dt.timedelta(hours=2),
    )
    # when the supplier is declared unresponsive now, before that
    now = timezone.now() - dt.timedelta(minutes=1)
    case = case_transition(
        case=case,
        transition="supplier_unresponsive",
        actor=system_actor,
        door=Door.COMMAND,
        occurred_at=now,
    )

    rows = deadlines(api, case)

    assert (rows["supplier_contact"]["status"], moment(rows["supplier_contact"]["stopped_at"])) == (
        "met",
        now,
    )
    assert rows["supplier_switch"]["status"] == "not_started"


def test_contacting_the_supplier_after_the_due_time_missed_it(api, system_actor):
    # the default order was due to ship 50 days ago: contacting was due 48 days ago
    case = open_case("late_shipment", actor=system_actor)
    contacted = case.opened_at + dt.timedelta(hours=1)
    case = run(case, ["contact_supplier"], system_actor)

    rows = deadlines(api, case)

    assert (rows["supplier_contact"]["status"], rows["supplier_contact"]["running"]) == (
        "missed",
        False,
    )
    assert moment(rows["supplier_contact"]["stopped_at"]) == contacted
    assert (rows["supplier_switch"]["running"], rows["supplier_switch"]["status"]) == (
        True,
        "overdue",
    )


def test_running_clocks_keep_their_status_and_business_days(api, system_actor):
    # given a cancellation opened now: 15 business days to resolve
    case = open_case(
        "cancellation", actor=system_actor, opened_at=timezone.now() - dt.timedelta(minutes=5)
    )

    row = deadlines(api, case)["resolution"]

    calendar = calendar_for(case.marketplace)
    today = calendar.local_date(timezone.now())
    assert (row["running"], row["status"], row["stopped_at"]) == (True, "on_track", None)
    assert moment(row["due_at"]) == calendar.deadline(case.opened_at, 15)
    assert row["business_days_left"] == calendar.business_days_between(
        today, calendar.local_date(case.resolution_due_at)
    )
    assert row["business_days_left"] > 2  # beyond Tmall's two at-risk business days


def test_a_withdrawn_case_stops_its_clocks_when_it_closes(api, supervisor_api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    withdrawn = case.opened_at + dt.timedelta(minutes=1)
    case = case_transition(
        case=case,
        transition="withdraw",
        actor=system_actor,
        door=Door.COMMAND,
        occurred_at=withdrawn,
        reason="duplicate",
    )

    rows = deadlines(supervisor_api, case)

    # withdrawn one minute after opening: before the 3-minute answer was due
    assert (rows["response"]["status"], moment(rows["response"]["stopped_at"])) == (
        "met",
        withdrawn,
    )
    assert rows["resolution"]["status"] == "met"
    assert moment(rows["resolution"]["stopped_at"]) == withdrawn
