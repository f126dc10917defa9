"""Customs clearance reminders: one e-mail per `send_clearance_reminder` transition, in the
customer's language, from the template staff edit."""

import datetime as dt

import pytest
from django.core import mail

from cases.choices import Door, EventType
from cases.events import render_event
from cases.models import CaseEvent
from cases.services import case_transition
from jobs.customs import clearance_reminder_send
from jobs.models import ClearanceReminder, ClearanceReminderTemplate
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def customs_case(actor, language, email="client@example.com", marketplace="tmall_global"):
    order = make_order(
        marketplace,
        customer_name="Camille Martin",
        customer_email=email,
        customer_language=language,
        carrier="SF Express",
        tracking_number="SF1234567890",
        destination_country="CN",
        shipped_at=dt.datetime(2025, 9, 2, tzinfo=dt.UTC),
        placed_at=dt.datetime(2025, 9, 1, tzinfo=dt.UTC),
    )
    return open_case(
        "customs_delay",
        actor=actor,
        marketplace=marketplace,
        order=order,
        opened_at=dt.datetime(2025, 9, 10, tzinfo=dt.UTC),
    )


def remind(case, actor, capture):
    with capture(execute=True):
        return case_transition(
            case=case, transition="send_clearance_reminder", actor=actor, door=Door.ADMIN
        )


@pytest.mark.parametrize(
    ("language", "subject_start", "phrase"),
    [
        ("fr", "Votre colis", "Surveillez un message ou un appel de SF Express"),
        ("en", "Your parcel", "Watch for a message or a call from SF Express"),
        ("zh-hans", "您的包裹", "请留意 SF Express 或海关发来的短信或电话"),
    ],
)
def test_reminder_in_the_customers_language(
    agent_actor, django_capture_on_commit_callbacks, language, subject_start, phrase
):
    case = customs_case(agent_actor, language)

    remind(case, agent_actor, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@example.com"]
    assert message.subject.startswith(subject_start)
    assert case.order.external_id in message.subject
    assert phrase in message.body
    assert case.reference in message.body and "SF1234567890" in message.body
    reminder = ClearanceReminder.objects.get()
    assert (reminder.language, reminder.status) == (language, "sent")
    sent = CaseEvent.objects.get(case=case, event_type=EventType.MESSAGE_SENT)
    assert sent.data["language"] == language


def test_one_e_mail_per_transition_event_even_if_the_task_runs_again(
    agent_actor, django_capture_on_commit_callbacks
):
    case = customs_case(agent_actor, "fr")
    remind(case, agent_actor, django_capture_on_commit_callbacks)
    event = CaseEvent.objects.get(case=case, transition="send_clearance_reminder")

    again = clearance_reminder_send(event_id=event.pk)

    assert again.status == "sent"
    assert len(mail.outbox) == 1
    assert ClearanceReminder.objects.count() == 1


def test_the_template_staff_edited_is_used(agent_actor, django_capture_on_commit_callbacks):
    template = ClearanceReminderTemplate.objects.get(language="fr", marketplace=None)
    template.subject = "Douane : colis {{ order_id }}"
    template.body = "Bonjour {{ customer_name }}, appelez le {{ carrier }}."
    template.full_clean()
    template.save()
    tmall_global = Marketplace.objects.get(code="tmall_global")
    ClearanceReminderTemplate.objects.create(
        language="fr", marketplace=Marketplace.objects.get(code="jd"), subject="JD", body="JD"
    )
    case = customs_case(agent_actor, "fr")
    assert case.marketplace == tmall_global

    remind(case, agent_actor, django_capture_on_commit_callbacks)

    assert mail.outbox[0].subject == f"Douane : colis {case.order.external_id}"
    assert mail.outbox[0].body == "Bonjour Camille Martin, appelez le SF Express."


def test_a_marketplace_template_wins_over_the_default(
    agent_actor, django_capture_on_commit_callbacks
):
    ClearanceReminderTemplate.objects.create(
        language="en",
        marketplace=Marketplace.objects.get(code="tmall_global"),
        subject="Tmall Global customs",
        body="Use the Tmall Global customs app.",
    )
    remind(customs_case(agent_actor, "en"), agent_actor, django_capture_on_commit_callbacks)
    assert mail.outbox[0].subject == "Tmall Global customs"


def test_a_broken_template_is_refused_in_the_admin_form():
    from django.core.exceptions import ValidationError

    template = ClearanceReminderTemplate(language="en", subject="ok", body="{% if %}")
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert "body" in refused.value.message_dict


def test_no_e_mail_address_is_noted_on_the_case(agent_actor, django_capture_on_commit_callbacks):
    case = customs_case(agent_actor, "en", email="")

    remind(case, agent_actor, django_capture_on_commit_callbacks)

    assert mail.outbox == []
    assert ClearanceReminder.objects.get().status == "no_address"
    note = CaseEvent.objects.get(case=case, event_type=EventType.MESSAGE_NOT_SENT)
    assert note.data == {
        "message": "clearance_reminder",
        "problem": "no_address",
        "clearance_reminder": ClearanceReminder.objects.get().pk,
    }
    assert "no customer e-mail address" in render_event(note).detail


def test_a_rolled_back_transition_sends_nothing(agent_actor, django_capture_on_commit_callbacks):
    from django.db import transaction

    case = customs_case(agent_actor, "en")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        case_transition(
            case=case, transition="send_clearance_reminder", actor=agent_actor, door=Door.ADMIN
        )
        raise RuntimeError("the request failed after the transition")
    assert callbacks == []
    assert mail.outbox == []


def test_other_transitions_queue_nothing(agent_actor, django_capture_on_commit_callbacks):
    case = customs_case(agent_actor, "en")
    remind(case, agent_actor, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case_transition(case=case, transition="mark_cleared", actor=agent_actor, door=Door.ADMIN)
    assert callbacks == []
    assert len(mail.outbox) == 1
