"""E-mails to the customer: the link when a request is made, one reminder before the deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from cases.choices import Door
from cases.models import CaseEvent, EvidenceRequest
from cases.services import case_transition, evidence_request_create, evidence_request_revoke
from intake.links import resolve_token
from intake.tasks import send_evidence_link, send_evidence_reminders
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def french_request(make_case, system_actor, django_capture_on_commit_callbacks):
    order = make_order("cdiscount", customer_language="fr", customer_name="Camille Martin")
    with django_capture_on_commit_callbacks(execute=True):
        case = case_transition(
            case=make_case("damaged_item", order=order, marketplace="cdiscount"),
            transition="request_evidence",
            actor=system_actor,
            door=Door.ADMIN,
        )
    return case.evidence_requests.get()


def make_due_soon(evidence_request, hours: float = 10) -> None:
    """Move the request's deadline near, as if it had been made days ago."""
    EvidenceRequest.objects.filter(pk=evidence_request.pk).update(
        due_at=timezone.now() + dt.timedelta(hours=hours),
        created_at=timezone.now() - dt.timedelta(days=4),
    )


def link_in(body: str) -> str:
    return next(line for line in body.splitlines() if "/e/" in line).strip()


def test_the_link_is_e_mailed_in_the_customer_language(french_request):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [french_request.case.order.customer_email]
    assert message.subject == (
        f"Dossier {french_request.case.reference} : merci de nous envoyer des photos ou des vidéos"
    )
    assert "Bonjour Camille Martin," in message.body
    assert "- Le carton extérieur" in message.body
    assert "23:59 (Europe/Paris)." in message.body  # the deadline in the marketplace's time
    url = link_in(message.body)
    assert url.startswith("http://127.0.0.1:8000/e/") and url.endswith("?lang=fr")
    token = url.split("/e/")[1].split("/")[0]
    assert resolve_token(token).pk == french_request.pk
    assert (
        CaseEvent.objects.filter(
            case=french_request.case, event_type="message_sent", data__message="evidence_link"
        ).count()
        == 1
    )


def test_the_link_e_mail_is_sent_once(french_request):
    assert send_evidence_link(french_request.pk) is False
    assert len(mail.outbox) == 1


def test_partner_requests_send_no_e_mail(
    awaiting_case, supervisor_actor, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        evidence_request_create(
            case=awaiting_case, actor=supervisor_actor, door=Door.ADMIN, audience="supplier"
        )

    assert mail.outbox == []


def test_one_reminder_before_the_deadline_in_the_customer_language(french_request):
    mail.outbox.clear()
    make_due_soon(french_request)

    first = send_evidence_reminders()
    second = send_evidence_reminders()

    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject.startswith(f"Rappel, dossier {french_request.case.reference}")
    assert "Il manque encore :" in message.body
    assert "- L’étiquette d’expédition" in message.body
    french_request.refresh_from_db()
    assert french_request.reminder_sent_at is not None
    event = CaseEvent.objects.get(case=french_request.case, data__message="evidence_reminder")
    assert (event.actor_type, event.door) == ("system", "job")


def test_no_reminder_when_not_due_soon_or_answered_or_revoked(french_request, client, system_actor):
    mail.outbox.clear()
    assert send_evidence_reminders() == 0  # due in days, not hours

    make_due_soon(french_request)
    evidence_request_revoke(evidence_request=french_request, actor=system_actor, door=Door.ADMIN)
    assert send_evidence_reminders() == 0

    EvidenceRequest.objects.filter(pk=french_request.pk).update(
        revoked_at=None, fulfilled_at=timezone.now()
    )
    assert send_evidence_reminders() == 0
    assert mail.outbox == []


def test_no_reminder_past_the_deadline(french_request):
    mail.outbox.clear()
    make_due_soon(french_request, hours=-1)

    assert send_evidence_reminders() == 0


def test_a_failed_send_is_retried_next_run(french_request, monkeypatch):
    mail.outbox.clear()
    make_due_soon(french_request)
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def broken(self, messages):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    assert send_evidence_reminders() == 0
    french_request.refresh_from_db()
    assert french_request.reminder_sent_at is None
    assert not CaseEvent.objects.filter(data__message="evidence_reminder").exists()

    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert send_evidence_reminders() == 1
