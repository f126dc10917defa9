"""The case page: buttons by role, transitions through the service, refusals in words, the
evidence gallery, evidence requests and links, refund decisions, details, timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door, EventType
from cases.demo_media import make_photo
from cases.models import Case, CaseEvent, Evidence, EvidenceRequest, RefundRequest
from cases.services import refund_request_create
from cases.tasks import make_evidence_previews
from tests.factories import add_photo, make_order, open_case, run

from .conftest import hours_ago
from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


def page_url(case: Case) -> str:
    return f"/admin/cases/case/{case.pk}/change/"


def action_url(case: Case, action: str) -> str:
    return f"/admin/cases/case/{case.pk}/{action}/"


def claim_under_review(actor: Actor | None = None, **kwargs) -> Case:
    case = open_case("damaged_item", actor=SYSTEM, **kwargs)
    return run(case, ["request_evidence", "start_review"], actor or SYSTEM)


def transition_buttons(html: str) -> set[str]:
    import re

    return set(re.findall(r'data-transition="([a-z_]+)"', html))


def test_agent_sees_only_what_an_agent_can_do(agent_client):
    case = claim_under_review()

    html = agent_client.get(page_url(case)).content.decode()

    assert transition_buttons(html) == {"confirm", "request_evidence", "escalate"}
    assert "Reject claim" not in html
    assert "Withdraw case" not in html


def test_supervisor_also_sees_reject_and_withdraw(supervisor_client):
    case = claim_under_review()

    html = supervisor_client.get(page_url(case)).content.decode()

    assert transition_buttons(html) == {
        "confirm",
        "request_evidence",
        "escalate",
        "reject",
        "withdraw",
    }


def test_a_transition_goes_through_the_service_and_is_recorded(agent_client, agent_user):
    case = claim_under_review()

    response = agent_client.post(
        action_url(case, "transition"),
        {"transition": "confirm", "version": case.version, "note": "Photos are clear."},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "confirmed"
    assert case.resolution_due_at is not None
    event = case.events.filter(event_type=EventType.TRANSITION).first()
    assert (event.transition, event.door, event.actor_user_id, event.note) == (
        "confirm",
        Door.ADMIN,
        agent_user.pk,
        "Photos are clear.",
    )
    page = agent_client.get(response["Location"]).content.decode()
    assert "“Confirm claim” done; the case is now Confirmed." in page


def test_a_stale_page_is_told_the_case_changed_and_nothing_is_written(agent_client):
    case = claim_under_review()
    stale = case.version
    run(case, ["request_evidence"], SYSTEM)  # someone else acted meanwhile
    events = CaseEvent.objects.count()

    response = agent_client.post(
        action_url(case, "transition"),
        {"transition": "start_review", "version": stale, "note": "my careful note"},
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "changed since you loaded it" in html
    # the refused form is open again with what was typed
    assert "my careful note" in html
    case.refresh_from_db()
    assert case.state == "awaiting_evidence"
    assert CaseEvent.objects.count() == events


def test_an_agent_forging_a_reject_is_refused_by_the_engine(agent_client):
    case = claim_under_review()

    response = agent_client.post(
        action_url(case, "transition"),
        {"transition": "reject", "version": case.version, "reason": "looks fake"},
        follow=True,
    )

    assert response.status_code == 200
    assert "needs a supervisor" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "under_review"


def test_supervisor_rejects_with_reason_and_the_open_refund_is_rejected(
    supervisor_client, supervisor_user
):
    case = claim_under_review()
    refund = refund_request_create(
        case=case, amount="59.00", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    case.refresh_from_db()
    page = supervisor_client.get(page_url(case)).content.decode()
    assert "data-what-if" in page  # the rate before and after, next to the reject button

    missing_reason = supervisor_client.post(
        action_url(case, "transition"),
        {"transition": "reject", "version": case.version, "reason": " "},
        follow=True,
    )
    assert "needs a reason" in missing_reason.content.decode()
    case.refresh_from_db()
    assert case.state == "under_review"

    supervisor_client.post(
        action_url(case, "transition"),
        {
            "transition": "reject",
            "version": case.version,
            "reason": "The box in the photo is another order's.",
            "reason_code": "insufficient_evidence",
        },
    )

    case.refresh_from_db()
    refund.refresh_from_db()
    assert case.state == "rejected"
    assert (refund.decision, refund.rejection_reason, refund.decided_by_id) == (
        "rejected",
        "insufficient_evidence",
        supervisor_user.pk,
    )


def test_occurred_time_is_read_in_the_marketplace_time_zone(agent_client):
    case = claim_under_review(marketplace="tmall")
    local = timezone.localtime(timezone.now() - dt.timedelta(minutes=30), case.marketplace.tz)

    agent_client.post(
        action_url(case, "transition"),
        {
            "transition": "confirm",
            "version": case.version,
            "occurred_at": local.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    event = CaseEvent.objects.filter(case=case, transition="confirm").get()
    assert event.occurred_at == local.replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        ("2099-01-01T10:00", "is in the future"),
        ("yesterday at noon", "Enter a date and time"),
    ],
)
def test_a_wrong_occurred_time_is_refused_in_words(agent_client, occurred_at, message):
    case = claim_under_review()

    response = agent_client.post(
        action_url(case, "transition"),
        {"transition": "confirm", "version": case.version, "occurred_at": occurred_at},
        follow=True,
    )

    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.state == "under_review"


def test_evidence_gallery_shows_files_through_the_access_checked_views(agent_client):
    case = claim_under_review()
    photo = case.evidence.get()
    html = agent_client.get(page_url(case)).content.decode()
    assert "Preview being made" in html  # the thumbnail task has not run yet

    make_evidence_previews(photo.pk)
    html = agent_client.get(page_url(case)).content.decode()

    assert f'src="/evidence/{photo.pk}/preview/"' in html
    assert f'href="/evidence/{photo.pk}/file/"' in html
    assert photo.original_name in html
    assert "Pending review" in html


def test_evidence_accept_and_reject_with_reason(agent_client, agent_user):
    case = claim_under_review()
    first = case.evidence.get()
    second = add_photo(case, SYSTEM, seed=4242)

    agent_client.post(action_url(case, f"evidence/{first.pk}/review"), {"status": "accepted"})
    refused = agent_client.post(
        action_url(case, f"evidence/{second.pk}/review"),
        {"status": "rejected", "reason": ""},
        follow=True,
    )
    assert "Say why the file is rejected." in refused.content.decode()
    second.refresh_from_db()
    assert second.review_status == "pending"

    agent_client.post(
        action_url(case, f"evidence/{second.pk}/review"),
        {"status": "rejected", "reason": "Blurred: the damage cannot be seen."},
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.review_status, first.reviewed_by_id) == ("accepted", agent_user.pk)
    assert (second.review_status, second.review_reason) == (
        "rejected",
        "Blurred: the damage cannot be seen.",
    )


def test_evidence_of_another_case_cannot_be_reviewed_from_this_page(agent_client):
    case = claim_under_review()
    other = claim_under_review()
    foreign = other.evidence.get()

    response = agent_client.post(
        action_url(case, f"evidence/{foreign.pk}/review"), {"status": "accepted"}
    )

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.review_status == "pending"


def test_staff_upload_keeps_good_files_and_refuses_bad_ones_in_words(agent_client, agent_user):
    case = open_case("damaged_item", actor=SYSTEM)
    photo = SimpleUploadedFile("box.jpg", make_photo("box", seed=7, size=(80, 60)))
    fake = SimpleUploadedFile("notes.jpg", b"these are my notes, not a photo\n" * 20)

    response = agent_client.post(
        action_url(case, "evidence"), {"files": [photo, fake]}, follow=True
    )

    html = response.content.decode()
    assert "Added: “box.jpg”." in html
    assert "notes.jpg" in html and "not a photo or a video" in html
    kept = Evidence.objects.get(case=case)
    assert (kept.original_name, kept.source, kept.uploaded_by_id) == (
        "box.jpg",
        "staff",
        agent_user.pk,
    )


def test_evidence_request_link_copy_and_revoke(agent_client):
    case = open_case("damaged_item", actor=SYSTEM)

    agent_client.post(
        action_url(case, "evidence-requests"),
        {"audience": "carrier", "message": "Photos of the parcel at the depot, please."},
    )

    request = EvidenceRequest.objects.get(case=case)
    assert request.audience == "carrier"
    html = agent_client.get(page_url(case)).content.decode()
    from intake.links import upload_url

    assert f'value="http://testserver{upload_url(request)}"' in html
    assert f'data-copy="link-{request.pk}"' in html

    agent_client.post(action_url(case, f"evidence-requests/{request.pk}/revoke"))

    request.refresh_from_db()
    assert request.revoked_at is not None
    assert agent_client.get(upload_url(request)).status_code == 410


def test_evidence_request_with_a_past_deadline_is_refused(agent_client):
    case = open_case("damaged_item", actor=SYSTEM)

    response = agent_client.post(
        action_url(case, "evidence-requests"),
        {"audience": "customer", "due_at": "2020-01-01T10:00"},
        follow=True,
    )

    assert "The deadline must be in the future." in response.content.decode()
    assert not EvidenceRequest.objects.filter(case=case).exists()


def refund_case(amount: str = "80.00") -> tuple[Case, RefundRequest]:
    case = run(
        open_case("damaged_item", actor=SYSTEM),
        ["request_evidence", "start_review", "confirm"],
        SYSTEM,
    )
    refund = refund_request_create(
        case=case, amount=amount, currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    case.refresh_from_db()
    return case, refund


def test_refund_approve_moves_the_case_to_refund_pending(agent_client):
    case, refund = refund_case()

    agent_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "approved", "version": case.version},
    )

    refund.refresh_from_db()
    case.refresh_from_db()
    assert (refund.decision, refund.approved_amount) == ("approved", Decimal("80.00"))
    assert case.state == "refund_pending"


def test_refund_partial_approval_needs_less_than_asked(agent_client):
    case, refund = refund_case()

    too_much = agent_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "partially_approved", "approved_amount": "95", "version": case.version},
        follow=True,
    )
    assert "must be less than the 80.00 requested" in too_much.content.decode()
    refund.refresh_from_db()
    assert refund.decision == ""

    agent_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "partially_approved", "approved_amount": "30", "version": case.version},
    )
    refund.refresh_from_db()
    assert (refund.decision, refund.approved_amount) == ("partially_approved", Decimal("30.00"))


def test_agent_never_sees_reject_refund_and_cannot_forge_it(agent_client):
    case, refund = refund_case()

    html = agent_client.get(page_url(case)).content.decode()
    assert "Reject the refund" not in html
    assert "Approve" in html

    response = agent_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "rejected", "reason_code": "duplicate", "version": case.version},
    )

    assert response.status_code == 403
    refund.refresh_from_db()
    assert refund.decision == ""


def test_supervisor_sees_the_what_if_and_rejects_with_a_reason_code(supervisor_client):
    case, refund = refund_case()

    html = supervisor_client.get(page_url(case)).content.decode()
    assert "Reject the refund" in html
    assert "if you reject" in html
    # nothing decided yet on this marketplace: 0/0 now, 1/1 after
    assert "(0/0 → 1/1)" in html

    no_code = supervisor_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "rejected", "version": case.version},
        follow=True,
    )
    assert "A rejection needs a reason code" in no_code.content.decode()

    supervisor_client.post(
        action_url(case, f"refunds/{refund.pk}/decide"),
        {"decision": "rejected", "reason_code": "customer_fault", "version": case.version},
    )
    refund.refresh_from_db()
    assert (refund.decision, refund.rejection_reason) == ("rejected", "customer_fault")


def test_recording_a_refund_request(agent_client):
    case = open_case("cancellation", actor=SYSTEM)

    agent_client.post(action_url(case, "refunds"), {"amount": "19.99", "currency": "eur"})

    refund = RefundRequest.objects.get(case=case)
    assert (refund.amount, refund.currency) == (Decimal("19.99"), "EUR")


def test_details_change_through_the_services_with_a_version_check(agent_client, agent_user):
    case = open_case("cancellation", actor=SYSTEM)
    data = {
        "assignee": agent_user.pk,
        "priority": 40,
        "external_claim_id": "TM-CLAIM-9",
        "description": "Customer called twice.",
        "expected_version": case.version,
    }

    response = agent_client.post(page_url(case), data)

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.priority, case.external_claim_id, case.assignee_id) == (
        40,
        "TM-CLAIM-9",
        agent_user.pk,
    )
    kinds = set(case.events.values_list("event_type", flat=True))
    assert {EventType.DETAILS_CHANGED, EventType.ASSIGNED} <= kinds

    stale = agent_client.post(page_url(case), {**data, "priority": 10})
    assert stale.status_code == 200
    assert "This case changed since you opened it" in stale.content.decode()
    case.refresh_from_db()
    assert case.priority == 40


def test_state_and_audit_records_are_read_only(agent_client, supervisor_client):
    case = claim_under_review()
    html = agent_client.get(page_url(case)).content.decode()
    assert 'name="state"' not in html
    event = case.events.first()
    assert agent_client.get(f"/admin/cases/caseevent/{event.pk}/change/").status_code == 200
    assert supervisor_client.post(f"/admin/cases/caseevent/{event.pk}/delete/").status_code == 403
    assert supervisor_client.post(f"/admin/cases/case/{case.pk}/delete/").status_code == 403


def test_opening_a_case_in_the_admin_and_a_refusal_keeps_the_form(agent_client):
    order = make_order("tmall")
    before_order = (order.placed_at - dt.timedelta(days=2)).strftime("%Y-%m-%d")

    refused = agent_client.post(
        "/admin/cases/case/add/",
        {
            "order": order.pk,
            "kind": "wrong_item",
            "opened_at_0": before_order,
            "opened_at_1": "10:00:00",
            "priority": 20,
            "description": "Sent blue instead of red.",
        },
    )
    assert refused.status_code == 200
    assert "before its order was placed" in refused.content.decode()
    assert "Sent blue instead of red." in refused.content.decode()
    assert not Case.objects.filter(order=order).exists()

    now = timezone.now()
    created = agent_client.post(
        "/admin/cases/case/add/",
        {
            "order": order.pk,
            "kind": "wrong_item",
            "opened_at_0": now.strftime("%Y-%m-%d"),
            "opened_at_1": (now - dt.timedelta(minutes=5)).strftime("%H:%M:%S"),
            "priority": 20,
            "description": "Sent blue instead of red.",
        },
    )
    assert created.status_code == 302
    case = Case.objects.get(order=order)
    assert case.marketplace == order.marketplace
    assert case.events.get().event_type == EventType.CASE_OPENED


def test_timeline_newest_first_with_messages(agent_client, agent_user):
    case = claim_under_review(Actor.for_user(agent_user))
    from messaging.services import message_import

    message_import(
        marketplace=case.marketplace,
        messages=[
            {
                "external_id": "MSG-1",
                "conversation_id": "C-1",
                "case": case.reference,
                "direction": "in",
                "counterpart": "customer",
                "channel": "chat",
                "sent_at": timezone.now().isoformat(),
                "received_at": timezone.now().isoformat(),
                "body": "Where is my refund?",
            }
        ],
        actor=SYSTEM,
        door=Door.COMMAND,
    )

    html = agent_client.get(page_url(case)).content.decode()
    timeline = html[html.index('id="timeline"') :]
    order = [
        timeline.index(text)
        for text in ["Message from Customer", "Start review", "Request evidence", "Case opened"]
    ]
    assert order == sorted(order)
    assert "Where is my refund?" in timeline


def test_reminder_button_on_an_open_customer_request(agent_client, mailoutbox):
    case = run(
        open_case("damaged_item", actor=SYSTEM, opened_at=hours_ago(2)),
        ["request_evidence"],
        SYSTEM,
        start=hours_ago(1),
    )
    request = case.evidence_requests.get(audience="customer")
    html = agent_client.get(page_url(case)).content.decode()
    assert "Send a reminder" in html

    response = agent_client.post(
        action_url(case, f"evidence-requests/{request.pk}/remind"), follow=True
    )

    assert "Reminder e-mailed to the customer." in response.content.decode()
    assert len(mailoutbox) == 1
    request.refresh_from_db()
    assert request.reminder_sent_at is not None
    assert "Send a reminder" not in response.content.decode()


def test_an_expired_link_is_not_offered_for_copy(agent_client, settings):
    import time

    from cases.services import evidence_request_create

    settings.INTAKE_LINK_GRACE = dt.timedelta(0)
    case = open_case("damaged_item", actor=SYSTEM)
    request = evidence_request_create(
        case=case,
        actor=SYSTEM,
        door=Door.COMMAND,
        due_at=timezone.now() + dt.timedelta(seconds=1),
    )
    time.sleep(1.2)

    html = agent_client.get(page_url(case)).content.decode()

    assert "Link expired" in html
    assert f'data-copy="link-{request.pk}"' not in html
