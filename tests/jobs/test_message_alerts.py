"""The sweep's message step: at-risk and overdue message clocks recorded once and e-mailed to
the conversation's assignee (or the team)."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from jobs.message_alerts import message_alerts_run
from jobs.sweep import deadline_sweep_run
from marketplaces.models import Marketplace
from messaging.models import Conversation, MessageAlert
from messaging.services import conversations_assign, conversations_set_status, message_import

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def received(external_id, hours_ago, thread=None):
    message_import(
        marketplace=Marketplace.objects.get(code="amazon_fr"),
        messages=[
            {
                "external_id": external_id,
                "conversation_id": thread or external_id,
                "direction": "in",
                "counterpart": "customer",
                "channel": "email",
                "sent_at": (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat(),
            }
        ],
        actor=SYSTEM,
        door=Door.API,
    )
    return Conversation.objects.get(external_id=thread or external_id)


def test_at_risk_and_overdue_clocks_are_alerted_once_to_the_assignee(agent, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    agent.email = "agent@example.com"
    agent.save()
    risky = received("risky", 20)  # Amazon: at risk after 18 h, due at 24 h
    late = received("late", 30)
    received("fresh", 1)
    conversations_assign(conversations=[risky, late], assignee=agent, actor=SYSTEM)

    created, sent = message_alerts_run()
    again = message_alerts_run()

    assert sorted(MessageAlert.objects.values_list("message__external_id", "level")) == [
        ("late", "overdue"),
        ("risky", "at_risk"),
    ]
    assert (created, sent, again) == (2, 1, (0, 0))
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert "Answer overdue" in mail.outbox[0].body and "Answer at risk" in mail.outbox[0].body


def test_done_and_spam_conversations_are_not_alerted():
    done = received("done", 30)
    spam = received("spam", 30)
    conversations_set_status(conversations=[done], status="done", actor=SYSTEM)
    conversations_set_status(conversations=[spam], status="spam", actor=SYSTEM)
    assert message_alerts_run()[0] == 0


def test_the_deadline_sweep_runs_the_message_step():
    received("late", 30)
    deadline_sweep_run()
    assert MessageAlert.objects.filter(level="overdue").count() == 1
