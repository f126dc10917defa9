"""The inbox, the conversation page and the case page's conversations, through the admin:
most urgent first with every filter, a fixed number of queries, bulk changes through the
services, the composer (templates, preview, content rules, notes), "no response needed",
opening and filing cases, a failed reply edited and sent again."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import Door
from cases.models import Case, CaseEvent
from marketplaces.models import Marketplace
from messaging.models import (
    Conversation,
    ConversationNote,
    ConversationStatus,
    Message,
    MessageTemplate,
    OutboundMessage,
)
from messaging.services import message_import, outbound_mark_failed, reply_send
from tests.factories import make_order, open_case

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db
INBOX = "/admin/messaging/conversation/"
_threads = itertools.count(1)


def thread(
    code: str,
    *,
    hours_ago: float = 2,
    order=None,
    case=None,
    body: str = "Where is my parcel?",
    **extra,
) -> Conversation:
    """A conversation of ``code`` that starts with a customer's message (imported, as a
    connector would)."""
    number = next(_threads)
    item = {
        "external_id": f"in-{code}-{number}",
        "conversation_id": f"t-{code}-{number}",
        "direction": "in",
        "counterpart": extra.pop("counterpart", "customer"),
        "channel": extra.pop("channel", "portal"),
        "sent_at": (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat(),
        "body": body,
        **extra,
    }
    if order is not None:
        item["order"] = order.external_id
    if case is not None:
        item["case"] = case.reference
        item.setdefault("order", case.order.external_id)
    message_import(
        marketplace=Marketplace.objects.get(code=code), messages=[item], actor=SYSTEM, door=Door.API
    )
    return Conversation.objects.get(external_id=f"t-{code}-{number}")


def listed(client, query: str = "") -> list[int]:
    html = client.get(f"{INBOX}?{query}").content.decode()
    return [
        int(pk) for pk in re.findall(r'<tr class="ws-conv [^"]*" data-conversation="(\d+)"', html)
    ]


# -- the inbox ----------------------------------------------------------------------------------


def test_the_inbox_lists_most_urgent_first_with_the_clock_in_words(agent_client):
    # given Amazon (24 h, calendar time) messages received 30 h, 20 h and 2 h ago
    late = thread("amazon_fr", hours_ago=30, subject="Damaged lamp")
    soon = thread("amazon_fr", hours_ago=20)
    fresh = thread("amazon_fr", hours_ago=2)

    response = agent_client.get(INBOX)

    assert response.status_code == 200
    assert listed(agent_client) == [late.pk, soon.pk, fresh.pk]
    html = response.content.decode()
    assert "overdue by 6 h" in html  # 30 h ago, 24 h to answer
    assert "21 h 59 min left" in html or "22 h 0 min left" in html
    assert "Damaged lamp" in html and "Amazon.fr" in html


def test_every_filter_of_the_inbox(agent_client, agent_user):
    order = make_order("amazon_fr", customer_language="fr")
    case = open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr", order=order)
    overdue = thread("amazon_fr", hours_ago=30, case=case, language="fr")
    mine = thread("amazon_fr", hours_ago=3, topic="pre_sale", language="en")
    rakuten = thread("rakuten", hours_ago=1, order=make_order("rakuten"))
    Conversation.objects.filter(pk=mine.pk).update(assignee=agent_user)
    # a thread already answered needs no answer
    answered = thread("amazon_fr", hours_ago=5, order=make_order("amazon_fr"))
    outbound = reply_send(
        conversation=answered, body="Done", actor=SYSTEM, door=Door.ADMIN, at=timezone.now()
    )
    from messaging.services import outbound_mark_sent

    outbound_mark_sent(
        outbound=outbound,
        marketplace_message_id="AMZ-1",
        sent_at=timezone.now(),
        actor=SYSTEM,
        door=Door.API,
    )

    assert set(listed(agent_client, "marketplace=rakuten")) == {rakuten.pk}
    assert set(listed(agent_client, "needs=yes")) == {overdue.pk, mine.pk, rakuten.pk}
    assert set(listed(agent_client, "needs=no")) == {answered.pk}
    assert listed(agent_client, "clock=overdue") == [overdue.pk]
    assert listed(agent_client, "who=mine") == [mine.pk]
    assert mine.pk not in listed(agent_client, "who=unassigned")
    assert listed(agent_client, "topic=pre_sale") == [mine.pk]
    assert listed(agent_client, "language=fr") == [overdue.pk]
    assert listed(agent_client, "case=yes") == [overdue.pk]
    assert overdue.pk not in listed(agent_client, "case=no")
    assert set(listed(agent_client, "marketplace=rakuten&marketplace=amazon_fr&needs=yes")) == {
        overdue.pk,
        mine.pk,
        rakuten.pk,
    }


def test_a_bad_filter_value_is_dropped_and_said_never_a_500(agent_client):
    conversation = thread("amazon_fr")
    response = agent_client.get(f"{INBOX}?clock=soonish&marketplace=nowhere&p=abc", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "was not applied" in text
    assert listed(agent_client, "clock=soonish") == [conversation.pk]


def test_inbox_queries_do_not_grow_with_the_page(
    agent_client, agent_user, django_assert_num_queries
):
    order = make_order("amazon_fr")
    case = open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr", order=order)
    for _ in range(3):
        thread("amazon_fr", case=case)
    agent_client.get(INBOX)  # the session and the marketplaces' calendars warm up
    with CaptureQueriesContext(connection) as few:
        agent_client.get(INBOX)
    for hours in range(20):
        thread("rakuten" if hours % 2 else "amazon_fr", hours_ago=hours + 1, case=None)
        Conversation.objects.filter(pk=Conversation.objects.latest("pk").pk).update(
            assignee=agent_user
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = agent_client.get(INBOX)
    assert len(listed(agent_client)) == 23
    assert response.status_code == 200


def test_bulk_assign_done_and_spam_go_through_the_services(agent_client, agent_user):
    one, two, three = (thread("amazon_fr", hours_ago=h) for h in (3, 2, 1))

    agent_client.post(
        f"{INBOX}bulk/", {"ids": [one.pk, two.pk], "operation": "assign", "assignee": "me"}
    )
    agent_client.post(f"{INBOX}bulk/", {"ids": [two.pk], "operation": "done"})
    response = agent_client.post(
        f"{INBOX}bulk/", {"ids": [three.pk], "operation": "spam", "query": "needs=yes"}
    )

    assert response["Location"] == f"{INBOX}?needs=yes"
    rows = {c.pk: c for c in Conversation.objects.all()}
    assert rows[one.pk].assignee == agent_user and rows[two.pk].assignee == agent_user
    assert rows[two.pk].status == ConversationStatus.DONE
    # spam leaves the clock
    assert rows[three.pk].status == ConversationStatus.SPAM
    assert rows[three.pk].response_due_at is None
    assert listed(agent_client) == [one.pk]  # open conversations only by default


def test_bulk_without_a_valid_operation_changes_nothing(agent_client):
    conversation = thread("amazon_fr")
    agent_client.post(f"{INBOX}bulk/", {"ids": [conversation.pk], "operation": "delete"})
    agent_client.post(
        f"{INBOX}bulk/", {"ids": [conversation.pk], "operation": "assign", "assignee": "999999"}
    )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id) == ("unread", None)


# -- the conversation page ------------------------------------------------------------------------


def page_of(client, conversation: Conversation) -> str:
    response = client.get(f"{INBOX}{conversation.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_thread_and_the_orders_cases_and_marks_it_read(agent_client):
    order = make_order("amazon_fr", customer_name="Marie Curie")
    case = open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr", order=order)
    conversation = thread("amazon_fr", order=order, body="The lamp arrived broken")

    html = page_of(agent_client, conversation)

    assert "The lamp arrived broken" in html and "Marie Curie" in html
    assert case.reference in html and "Evidence: 0 to review" in html
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.TO_DO
    # open a case from the message: its kind guessed from the words ("broken")
    assert 'value="damaged_item" selected' in html


def test_conversation_page_queries_do_not_grow_with_the_thread(agent_client, agent_user):
    from cases.actors import Actor
    from messaging.services import conversation_note_add

    order = make_order("cdiscount")
    open_case("damaged_item", actor=SYSTEM, marketplace="cdiscount", order=order)
    conversation = thread("cdiscount", order=order, hours_ago=30)
    actor = Actor.for_user(agent_user)
    reply_send(conversation=conversation, body="First reply", actor=actor, door=Door.ADMIN)
    page_of(agent_client, conversation)  # marks it read; the session warms up
    with CaptureQueriesContext(connection) as few:
        page_of(agent_client, conversation)
    # given many more messages, replies (one failed), notes and cases on its order
    for number in range(6):
        message_import(
            marketplace=conversation.marketplace,
            messages=[
                {
                    "external_id": f"more-{number}",
                    "conversation_id": conversation.external_id,
                    "direction": "in",
                    "counterpart": "customer",
                    "channel": "portal",
                    "sent_at": (timezone.now() - dt.timedelta(hours=20 - number)).isoformat(),
                    "body": f"Message {number}",
                }
            ],
            actor=SYSTEM,
            door=Door.API,
        )
        conversation_note_add(
            conversation=conversation, text=f"Note {number}", actor=actor, door=Door.ADMIN
        )
        outbound = reply_send(
            conversation=conversation, body=f"Reply {number}", actor=actor, door=Door.ADMIN
        )
        if number % 2:
            outbound_mark_failed(outbound=outbound, reason="Portal down", actor=SYSTEM)
        open_case("cancellation", actor=SYSTEM, marketplace="cdiscount", order=order)
    Conversation.objects.filter(pk=conversation.pk).update(status="to_do")

    with CaptureQueriesContext(connection) as many:
        html = page_of(agent_client, conversation)

    assert "Message 5" in html and "Note 5" in html and "Not sent: Portal down" in html
    assert len(many.captured_queries) == len(few.captured_queries)


def rakuten_template(**fields) -> MessageTemplate:
    return MessageTemplate.objects.create(
        name="Suivi",
        language="fr",
        marketplace=Marketplace.objects.get(code="rakuten"),
        is_html=True,
        body=fields.pop(
            "body",
            "<p>Bonjour {{ customer_name }},</p><p>Colis {{ order_id }} : "
            "<strong>{{ tracking_number }}</strong></p>",
        ),
        **fields,
    )


def test_a_rakuten_reply_from_a_template_is_previewed_and_sent_as_plain_text(agent_client):
    order = make_order("rakuten", customer_name="Marie Dupont", tracking_number="6A123")
    conversation = thread("rakuten", order=order)
    template = rakuten_template()
    reply = f"{INBOX}{conversation.pk}/reply/"

    agent_client.post(reply, {"action": "template", "template": template.pk})
    html = page_of(agent_client, conversation)
    assert "Bonjour Marie Dupont" in html  # the composer holds the filled text
    filled = (
        f"<p>Bonjour Marie Dupont,</p><p>Colis {order.external_id} : <strong>6A123</strong></p>"
    )

    agent_client.post(
        reply, {"action": "preview", "body": filled, "is_html": "on", "template": template.pk}
    )
    html = page_of(agent_client, conversation)
    assert f"Bonjour Marie Dupont,\n\nColis {order.external_id} : 6A123" in html
    assert "(plain text)" in html and "Ready to send." in html

    response = agent_client.post(
        reply, {"action": "send", "body": filled, "is_html": "on", "template": template.pk}
    )
    assert response.status_code == 302
    outbound = OutboundMessage.objects.get()
    assert (outbound.text, outbound.text_is_html, outbound.template) == (
        f"Bonjour Marie Dupont,\n\nColis {order.external_id} : 6A123",
        False,
        template,
    )
    assert "sent as plain text" in page_of(agent_client, conversation)


def test_a_missing_placeholder_blocks_sending_and_says_which(agent_client):
    conversation = thread("rakuten", order=make_order("rakuten", tracking_number=""))
    template = rakuten_template()
    reply = f"{INBOX}{conversation.pk}/reply/"

    agent_client.post(reply, {"action": "template", "template": template.pk})
    html = page_of(agent_client, conversation)
    assert "These placeholders have no value: tracking_number" in html

    agent_client.post(reply, {"action": "send", "body": "Colis {{ tracking_number }}"})
    html = page_of(agent_client, conversation)
    assert "These placeholders have no value: tracking_number" in html
    assert "Colis {{ tracking_number }}" in html  # what was typed is kept
    assert OutboundMessage.objects.count() == 0


def test_rakuten_refuses_an_attachment_with_the_reason_and_a_long_text(agent_client):
    conversation = thread("rakuten", order=make_order("rakuten"))
    photo = SimpleUploadedFile("box.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    reply = f"{INBOX}{conversation.pk}/reply/"

    agent_client.post(reply, {"action": "send", "body": "Voici la photo", "attachments": photo})
    html = page_of(agent_client, conversation)
    assert "Rakuten France takes no attachments in messages" in html
    agent_client.post(reply, {"action": "send", "body": "x" * 2001})
    assert "at most 2000 characters; this one has 2001" in page_of(agent_client, conversation)
    assert OutboundMessage.objects.count() == 0


def test_an_internal_note_on_a_case_is_in_its_history_and_never_sent(agent_client):
    case = open_case("late_shipment", actor=SYSTEM, marketplace="amazon_fr")
    conversation = thread("amazon_fr", case=case)

    agent_client.post(
        f"{INBOX}{conversation.pk}/reply/",
        {"action": "send", "mode": "note", "body": "Customer called, calm now"},
    )

    assert ConversationNote.objects.get().text == "Customer called, calm now"
    assert OutboundMessage.objects.count() == 0
    assert CaseEvent.objects.filter(case=case, event_type="note").count() == 1
    assert "internal note, never sent" in page_of(agent_client, conversation)


def test_no_response_needed_takes_the_message_out_of_the_clock(agent_client):
    conversation = thread("amazon_fr", hours_ago=30, body="Thanks!")
    message = conversation.messages.get()
    act = f"{INBOX}{conversation.pk}/act/"

    agent_client.post(act, {"operation": "no_response", "message": message.pk, "value": "1"})

    message.refresh_from_db()
    conversation.refresh_from_db()
    assert message.no_response_needed and message.response_due_at is None
    assert conversation.response_due_at is None and not conversation.awaiting_response
    assert listed(agent_client, "clock=overdue") == []


def test_open_a_case_from_a_message_and_attach_another_conversation(agent_client):
    order = make_order("amazon_fr")
    first = thread("amazon_fr", order=order, body="Item is broken", hours_ago=5)
    second = thread("amazon_fr", order=order, body="Any news?", hours_ago=1)
    message = first.messages.get()

    response = agent_client.post(
        f"{INBOX}{first.pk}/act/",
        {"operation": "open_case", "message": message.pk, "kind": "damaged_item"},
    )
    case = Case.objects.get(order=order)
    assert response["Location"] == f"/admin/cases/case/{case.pk}/change/"
    assert (case.kind, case.opened_at) == ("damaged_item", message.received_at)
    agent_client.post(
        f"{INBOX}{second.pk}/act/", {"operation": "attach_case", "case": case.reference}
    )
    assert set(Conversation.objects.values_list("case_id", flat=True)) == {case.pk}

    # a case of another order is refused with the reason
    other = open_case("cancellation", actor=SYSTEM, marketplace="amazon_fr")
    response = agent_client.post(
        f"{INBOX}{second.pk}/act/",
        {"operation": "attach_case", "case": other.reference},
        follow=True,
    )
    assert "is about another order" in response.content.decode()
    second.refresh_from_db()
    assert second.case_id == case.pk


def test_a_failed_reply_shows_the_reason_and_is_edited_and_sent_again(agent_client, agent_user):
    conversation = thread("cdiscount", order=make_order("cdiscount"))
    from cases.actors import Actor

    outbound = reply_send(
        conversation=conversation, body="Hello", actor=Actor.for_user(agent_user), door=Door.ADMIN
    )
    outbound_mark_failed(outbound=outbound, reason="Thread closed by Cdiscount", actor=SYSTEM)
    html = page_of(agent_client, conversation)
    assert "Not sent: Thread closed by Cdiscount" in html

    agent_client.post(
        f"{INBOX}{conversation.pk}/act/",
        {"operation": "retry", "outbound": outbound.pk, "body": "Hello again"},
    )

    outbound.refresh_from_db()
    assert (outbound.status, outbound.text, outbound.attempts) == ("queued", "Hello again", 1)


def test_an_agent_without_the_inbox_right_cannot_change_anything(client, django_user_model):
    from .conftest import make_staff

    user = make_staff(django_user_model, "reader", "Support agent")
    user.groups.clear()
    client.force_login(user)
    conversation = thread("amazon_fr")
    assert client.get(INBOX).status_code == 403
    response = client.post(f"{INBOX}bulk/", {"ids": [conversation.pk], "operation": "spam"})
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.UNREAD


# -- the case page ------------------------------------------------------------------------------


def test_the_case_page_shows_its_conversations_with_the_composer(agent_client):
    case = open_case("late_shipment", actor=SYSTEM, marketplace="amazon_fr")
    conversation = thread("amazon_fr", case=case, body="Still waiting", reply_to="b@relay.example")
    page = f"/admin/cases/case/{case.pk}/change/"

    html = agent_client.get(page).content.decode()
    assert "Still waiting" in html and f'id="composer-{conversation.pk}"' in html

    response = agent_client.post(
        f"{INBOX}{conversation.pk}/reply/",
        {"action": "send", "body": "It left today", "next": page},
    )
    assert response["Location"] == f"{page}#composer-{conversation.pk}"
    assert OutboundMessage.objects.get().text == "It left today"
    agent_client.post(f"{INBOX}case/{case.pk}/note/", {"text": "Supplier says Friday"})
    assert CaseEvent.objects.filter(case=case, event_type="note").count() == 1


def test_writing_first_is_refused_where_the_marketplace_takes_only_replies(agent_client):
    case = open_case("late_shipment", actor=SYSTEM, marketplace="rakuten")
    response = agent_client.post(
        f"{INBOX}case/{case.pk}/write/", {"body": "Your parcel is late"}, follow=True
    )
    assert "lets the seller only answer messages" in response.content.decode()
    assert Conversation.objects.count() == 0 and Message.objects.count() == 0


# -- the dashboard -------------------------------------------------------------------------------


def answered(conversation: Conversation, *, after_hours: float, agent, number: int) -> None:
    from cases.actors import Actor
    from messaging.services import outbound_mark_sent

    received = conversation.messages.get().received_at
    outbound = reply_send(
        conversation=conversation,
        body="Answer",
        actor=Actor.for_user(agent),
        door=Door.ADMIN,
        at=received + dt.timedelta(minutes=1),
    )
    outbound_mark_sent(
        outbound=outbound,
        marketplace_message_id=f"AMZ-{number}",
        sent_at=received + dt.timedelta(hours=after_hours),
        actor=SYSTEM,
        door=Door.API,
    )


def test_the_dashboard_shows_response_times_per_marketplace_and_agent(agent_client, agent_user):
    # given on Amazon (24 h): one answered in 2 h, one in 30 h (late), one 40 days ago in 4 h
    answered(thread("amazon_fr", hours_ago=50), after_hours=2, agent=agent_user, number=1)
    answered(thread("amazon_fr", hours_ago=49), after_hours=30, agent=agent_user, number=2)
    answered(thread("amazon_fr", hours_ago=24 * 40), after_hours=4, agent=agent_user, number=3)

    html = agent_client.get("/admin/workspace/dashboard/").content.decode()

    section = html[html.index('id="response-times"') :]
    row = section[section.index('data-line="Amazon.fr"') :]
    row = row[: row.index("</tr>")]
    # 7 and 30 days: two timed, one within the rule, median 16 h; 90 days: three, median 4 h
    assert row.count("50.0 %") == 2 and "(1/2)" in row
    assert row.count("16 h 0 min") == 2
    assert "66.7 %" in row and "(2/3)" in row and "4 h 0 min" in row
    agent_row = section[section.index('data-line="lea"') :]
    assert "(2/3)" in agent_row[: agent_row.index("</tr>")]


# -- languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Inbox", "Needs an answer", "Mark spam", "left"]),
        ("fr", ["Boîte de réception", "Demande une réponse", "Marquer comme spam", "encore "]),
        ("zh-hans", ["收件箱", "需要回复", "标记为垃圾消息", "剩余"]),
    ],
)
def test_the_inbox_in_each_language(agent_client, language, expected):
    thread("amazon_fr")
    html = agent_client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in expected:
        assert text in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Réponse ou note interne", "Utiliser ce modèle", "Aucune réponse nécessaire"]),
        ("zh-hans", ["回复或内部备注", "使用此模板", "无需回复"]),
    ],
)
def test_the_conversation_page_in_each_language(agent_client, language, expected):
    conversation = thread("rakuten", order=make_order("rakuten"))
    rakuten_template()
    html = agent_client.get(
        f"{INBOX}{conversation.pk}/change/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    for text in expected:
        assert text in html


# -- templates and the outbox in the admin ---------------------------------------------------------


def test_a_supervisor_writes_templates_and_an_unknown_placeholder_is_refused(
    supervisor_client, agent_client
):
    url = "/admin/messaging/messagetemplate/add/"
    data = {
        "name": "Tracking",
        "language": "en",
        "body": "Hi {{ customer_nam }}",
        "is_active": "on",
    }
    response = supervisor_client.post(url, data)
    assert response.status_code == 200
    assert "Unknown placeholder(s): customer_nam" in response.content.decode()
    assert MessageTemplate.objects.count() == 0

    data["body"] = "Hi {{ customer_name }}, it is {{ tracking_number }}"
    assert supervisor_client.post(url, data).status_code == 302
    assert MessageTemplate.objects.get().marketplace is None  # offered on every marketplace
    assert agent_client.get(url).status_code == 403


def test_the_outbox_list_shows_why_a_reply_failed(agent_client, agent_user):
    from cases.actors import Actor

    conversation = thread("cdiscount", order=make_order("cdiscount"))
    outbound = reply_send(
        conversation=conversation, body="Hello", actor=Actor.for_user(agent_user), door=Door.ADMIN
    )
    outbound_mark_failed(outbound=outbound, reason="Thread closed", actor=SYSTEM)
    html = agent_client.get("/admin/messaging/outboundmessage/?status=failed").content.decode()
    assert "Thread closed" in html and f"#outbound-{outbound.pk}" in html
