"""POST /api/v1/cases/{reference}/transitions/: 200, 409 (state, concurrent change), 400, 403."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services import case_transition
from tests.api.conftest import http, make_client, order
from tests.api.test_auth import assert_problem
from tests.factories import add_photo, open_case, run

pytestmark = pytest.mark.django_db


def transition(api, case, name, **fields):
    return api.post(
        f"/api/v1/cases/{case.reference}/transitions/",
        {"transition": name, **fields},
        format="json",
    )


def events(case) -> int:
    return CaseEvent.objects.filter(case=case, event_type="transition").count()


def test_a_claim_through_its_workflow_with_original_times(api, system_actor):
    opened = timezone.now() - dt.timedelta(days=10)
    case = open_case("damaged_item", actor=system_actor, opened_at=opened)
    at = opened + dt.timedelta(hours=2)
    response = transition(api, case, "request_evidence", occurred_at=at.isoformat(), note="asked")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "awaiting_evidence"
    assert body["history"][-1]["occurred_at"] == at.astimezone(dt.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    add_photo(case, system_actor, at=at + dt.timedelta(hours=1))
    for name in ("start_review", "confirm", "start_reship", "mark_reshipped", "close"):
        at += dt.timedelta(days=1)
        response = transition(api, case, name, occurred_at=at.isoformat())
        assert response.status_code == 200, (name, response.content)
    case = Case.objects.get(pk=case.pk)
    assert case.state == "closed"
    assert case.resolution_outcome == "reshipped"
    assert events(case) == 6
    recorded = CaseEvent.objects.filter(case=case, transition="confirm").get()
    assert recorded.door == "api" and recorded.actor_type == "api_client"


def test_wrong_state_is_409_with_the_available_transitions(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    body = assert_problem(transition(api, case, "close"), 409, "transition_not_available")
    assert {t["name"] for t in body["available_transitions"]} == {"request_refund", "escalate"}
    assert all(set(t) == {"name", "target", "label"} for t in body["available_transitions"])
    assert events(case) == 0


@pytest.mark.parametrize(
    ("setup", "name", "fields", "code", "field"),
    [
        ("claim_awaiting", "start_review", {}, "condition_failed", None),
        ("international_interception", "request_interception", {}, "condition_failed", None),
        (
            "cancellation",
            "request_refund",
            {"occurred_at": "FUTURE"},
            "occurred_in_future",
            "occurred_at",
        ),
        (
            "cancellation",
            "request_refund",
            {"occurred_at": "BEFORE"},
            "occurred_before_previous",
            "occurred_at",
        ),
        ("cancellation", "teleport", {}, "transition_unknown", "transition"),
        (
            "cancellation",
            "request_refund",
            {"occurred_at": "2026-01-01T10:00"},
            "invalid",
            "occurred_at",
        ),
        ("cancellation", "request_refund", {"expected_version": 0}, "invalid", "expected_version"),
    ],
)
def test_wrong_conditions_and_arguments_are_400(
    api, system_actor, setup, name, fields, code, field
):
    if setup == "claim_awaiting":
        case = run(
            open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor
        )
    elif setup == "international_interception":
        foreign = order("INTL-1", shipping_scope="international")
        case = open_case("interception", actor=system_actor, order=foreign)
    else:
        case = open_case(setup, actor=system_actor)
    if fields.get("occurred_at") == "FUTURE":
        fields["occurred_at"] = (timezone.now() + dt.timedelta(minutes=10)).isoformat()
    elif fields.get("occurred_at") == "BEFORE":
        fields["occurred_at"] = (case.opened_at - dt.timedelta(minutes=1)).isoformat()
    before = (Case.objects.get(pk=case.pk).state, Case.objects.get(pk=case.pk).version)
    body = assert_problem(transition(api, case, name, **fields), 400, code)
    if field:
        assert body["errors"][0]["field"] == field
    if setup == "international_interception":
        assert "International orders cannot be intercepted" in body["detail"]
    after = Case.objects.get(pk=case.pk)
    assert (after.state, after.version) == before


def test_supervisor_rights_are_403_without_them(api, supervisor_api, system_actor):
    case = run(
        open_case("damaged_item", actor=system_actor),
        ["request_evidence", "start_review"],
        system_actor,
    )
    body = assert_problem(
        transition(api, case, "reject", reason="blurry"), 403, "permission_denied"
    )
    assert "reject" not in {t["name"] for t in body["available_transitions"]}
    assert_problem(transition(supervisor_api, case, "reject"), 400, "reason_required")
    response = transition(
        supervisor_api,
        case,
        "reject",
        reason="Photos show no damage",
        reason_code="insufficient_evidence",
    )
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).state == "rejected"


def test_a_stale_version_is_409_case_changed(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    seen = api.get(f"/api/v1/cases/{case.reference}/").json()["version"]
    # meanwhile an agent escalated it
    case_transition(case=case, transition="escalate", actor=system_actor, door="admin")
    body = assert_problem(
        transition(api, case, "request_refund", expected_version=seen), 409, "case_changed"
    )
    assert "changed since you loaded it" in body["detail"]
    assert_problem(
        api.post(
            f"/api/v1/cases/{case.reference}/transitions/",
            {"transition": "platform_orders_refund"},
            format="json",
            HTTP_IF_MATCH=f'"{seen}"',
        ),
        409,
        "case_changed",
    )
    response = api.post(
        f"/api/v1/cases/{case.reference}/transitions/",
        {"transition": "request_refund"},
        format="json",
        HTTP_IF_MATCH='"abc"',
    )
    assert assert_problem(response, 400, "invalid")["errors"][0]["field"] == "If-Match"
    assert events(case) == 1


def test_the_current_version_passes(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    etag = api.get(f"/api/v1/cases/{case.reference}/")["ETag"]
    response = api.post(
        f"/api/v1/cases/{case.reference}/transitions/",
        {"transition": "request_refund"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_available_transitions_endpoint(api, supervisor_api, system_actor):
    case = run(
        open_case("damaged_item", actor=system_actor),
        ["request_evidence", "start_review"],
        system_actor,
    )
    mine = {t["name"] for t in api.get(f"/api/v1/cases/{case.reference}/transitions/").json()}
    theirs = {
        t["name"] for t in supervisor_api.get(f"/api/v1/cases/{case.reference}/transitions/").json()
    }
    assert theirs - mine == {"reject", "withdraw"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clients_acting_on_the_same_version_one_wins_one_gets_409(system_actor):
    # given two integrations that both loaded version N of the case
    case = open_case("cancellation", actor=system_actor)
    keys = [make_client(f"erp-{i}", ["tmall"])[1] for i in range(2)]
    version = Case.objects.get(pk=case.pk).version
    barrier = threading.Barrier(2)
    responses = {}

    def act(key: str, name: str) -> None:
        api = http(key)
        barrier.wait()
        try:
            responses[name] = transition(api, case, name, expected_version=version)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(keys[0], "request_refund")),
        threading.Thread(target=act, args=(keys[1], "escalate")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses.values())
    assert statuses == [200, 409]
    loser = next(r for r in responses.values() if r.status_code == 409)
    assert loser.json()["code"] == "case_changed"
    assert events(case) == 1
    assert Case.objects.get(pk=case.pk).version == version + 1
