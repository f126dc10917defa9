"""Bulk actions of the case list: through the same services, reporting what did not apply."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers

from cases.choices import Door
from cases.models import Case
from cases.services import case_assign
from tests.factories import open_case, run

from .conftest import hours_ago
from .helpers import SYSTEM

pytestmark = pytest.mark.django_db
URL = "/admin/cases/case/"


def post_action(client, action: str, cases: list[Case], **extra):
    data = {
        "action": action,
        helpers.ACTION_CHECKBOX_NAME: [str(case.pk) for case in cases],
        **extra,
    }
    return client.post(URL, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_assign_to_me(agent_client, agent_user, other_agent):
    mine_already = open_case("cancellation", actor=SYSTEM)
    case_assign(case=mine_already, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)
    theirs = open_case("cancellation", actor=SYSTEM)
    case_assign(case=theirs, assignee=other_agent, actor=SYSTEM, door=Door.COMMAND)
    nobody = open_case("cancellation", actor=SYSTEM)

    response = post_action(agent_client, "assign_to_me", [mine_already, theirs, nobody])

    assert set(Case.objects.values_list("assignee_id", flat=True)) == {agent_user.pk}
    text = " ".join(messages_of(response))
    assert f"2 cases assigned to you: {theirs.reference}, {nobody.reference}." in text
    assert f"1 case was already so: {mine_already.reference}." in text
    assert theirs.events.filter(event_type="assigned", door=Door.ADMIN).exists()


def test_assign_to_someone_asks_whom_then_assigns(agent_client, other_agent):
    cases = [open_case("cancellation", actor=SYSTEM) for _ in range(3)]

    confirm = post_action(agent_client, "assign_to", cases)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Assign to" in html and all(case.reference in html for case in cases)
    assert not Case.objects.filter(assignee__isnull=False).exists()

    done = post_action(agent_client, "assign_to", cases, apply="1", assignee=other_agent.pk)

    assert set(Case.objects.values_list("assignee_id", flat=True)) == {other_agent.pk}
    assert "3 cases assigned to hugo" in " ".join(messages_of(done))


def test_apply_a_transition_where_it_applies_and_say_why_not_elsewhere(agent_client):
    under_review = [
        run(open_case("damaged_item", actor=SYSTEM), ["request_evidence", "start_review"], SYSTEM)
        for _ in range(2)
    ]
    new_claim = open_case("damaged_item", actor=SYSTEM)
    cancellation = open_case("cancellation", actor=SYSTEM)
    selected = [*under_review, new_claim, cancellation]

    confirm = post_action(agent_client, "apply_transition", selected)
    html = confirm.content.decode()
    # the page lists each transition with the cases it applies to
    assert "Confirm claim (2/4)" in html
    assert "Escalate to the platform (4/4)" in html
    assert "Reject claim" not in html  # an agent cannot

    done = post_action(
        agent_client,
        "apply_transition",
        selected,
        apply="1",
        transition="confirm",
        note="Checked in bulk",
    )

    for case in under_review:
        case.refresh_from_db()
        assert case.state == "confirmed"
    new_claim.refresh_from_db()
    cancellation.refresh_from_db()
    assert (new_claim.state, cancellation.state) == ("new", "new")
    text = messages_of(done)
    assert any("“Confirm claim” done on 2 cases" in m for m in text)
    assert any(
        m.startswith(f"{new_claim.reference} not changed:") and "while it is New" in m for m in text
    )
    assert any(
        m.startswith(f"{cancellation.reference} not changed:") and "not a transition of" in m
        for m in text
    )


def test_bulk_transition_needing_a_reason_reports_it(supervisor_client):
    cases = [open_case("cancellation", actor=SYSTEM) for _ in range(2)]

    done = post_action(
        supervisor_client, "apply_transition", cases, apply="1", transition="withdraw", reason=""
    )

    assert all(m.endswith("'Withdraw case' needs a reason.") for m in messages_of(done))
    assert not Case.objects.filter(state="withdrawn").exists()


def test_bulk_actions_are_limited(agent_client, settings):
    settings.WORKSPACE_BULK_ACTION_LIMIT = 2
    cases = [open_case("cancellation", actor=SYSTEM) for _ in range(3)]

    response = post_action(agent_client, "assign_to_me", cases)

    assert "Select at most 2 cases" in " ".join(messages_of(response))
    assert not Case.objects.filter(assignee__isnull=False).exists()


def test_send_evidence_reminder_once_per_request_and_say_where_none_applies(
    agent_client, mailoutbox
):
    waiting = run(
        open_case("damaged_item", actor=SYSTEM, opened_at=hours_ago(2)),
        ["request_evidence"],
        SYSTEM,
        start=hours_ago(1),
    )
    assert waiting.evidence_requests.filter(audience="customer").exists()
    no_request = open_case("cancellation", actor=SYSTEM)

    first = post_action(agent_client, "send_evidence_reminder", [waiting, no_request])

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [waiting.order.customer_email]
    text = messages_of(first)
    assert any(f"Evidence reminder e-mailed for 1 case: {waiting.reference}." in m for m in text)
    assert any(
        m.startswith(f"{no_request.reference} not changed: no open evidence request") for m in text
    )
    assert waiting.events.filter(event_type="message_sent", door=Door.ADMIN).exists()

    again = post_action(agent_client, "send_evidence_reminder", [waiting])

    assert len(mailoutbox) == 1
    assert any("was already reminded" in m for m in messages_of(again))
    html = agent_client.get(f"/admin/cases/case/{waiting.pk}/change/").content.decode()
    assert "Evidence reminder e-mailed" in html  # on the timeline
