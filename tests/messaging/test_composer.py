"""Replies, templates, content rules and the outbox: a reply is checked at compose and at
send, queued, then confirmed sent (the answer moves the clocks and the metric) or failed."""

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.errors import ErrorCode
from marketplaces.models import Marketplace
from messaging.content import html_to_text
from messaging.errors import MessagingRefused
from messaging.models import Conversation, Message, MessageTemplate, OutboundMessage
from messaging.services import (
    case_prefill_from_message,
    conversation_note_add,
    conversation_start,
    message_import,
    outbound_mark_failed,
    outbound_mark_sent,
    outbound_retry,
    reply_preview,
    reply_send,
    template_fill,
)
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def agent_actor(agent):
    agent.first_name, agent.last_name = "Camille", "Martin"
    agent.save()
    return Actor.for_user(agent)


def thread(code, *, order=None, case=None, at=None, body="Where is my parcel?", **extra):
    at = at or timezone.now() - dt.timedelta(hours=2)
    item = {
        "external_id": f"in-{code}",
        "conversation_id": f"t-{code}",
        "direction": "in",
        "counterpart": "customer",
        "channel": extra.pop("channel", "portal"),
        "sent_at": at.isoformat(),
        "body": body,
        **extra,
    }
    if order is not None:
        item["order"] = order.external_id
    if case is not None:
        item["case"] = case.reference
    message_import(
        marketplace=Marketplace.objects.get(code=code), messages=[item], actor=SYSTEM, door=Door.API
    )
    return Conversation.objects.get(external_id=f"t-{code}")


def test_html_becomes_plain_text_not_escaped_text():
    html = (
        "<p>Hello <strong>Li</strong>,</p><p>Line one<br>line two</p>"
        '<p>Track it <a href="https://t.example/SF1">here</a>.</p>'
        "<ul><li>photo of the box</li><li>photo of the label</li></ul><p>R&eacute;gis &amp; co</p>"
    )
    assert html_to_text(html) == (
        "Hello Li,\n\nLine one\nline two\n\nTrack it here (https://t.example/SF1).\n\n"
        "- photo of the box\n- photo of the label\n\nRégis & co"
    )


def test_rakuten_reply_from_a_template_is_sent_as_plain_text(agent_actor):
    rakuten = Marketplace.objects.get(code="rakuten")
    order = make_order(
        rakuten, customer_name="Marie Dupont", tracking_number="6A123", customer_language="fr"
    )
    conversation = thread("rakuten", order=order)
    template = MessageTemplate.objects.create(
        name="Suivi",
        language="fr",
        marketplace=rakuten,
        is_html=True,
        body="<p>Bonjour {{ customer_name }},</p><p>Votre colis {{ order_id }} : "
        '<a href="https://suivi.example/{{ tracking_number }}">suivi</a></p>'
        "<p>{{ agent_name }}</p>",
    )
    _subject, body = template_fill(template=template, conversation=conversation, actor=agent_actor)
    assert body.missing == ()

    preview = reply_preview(conversation=conversation, body=body.text, is_html=True)
    assert preview.is_html is False
    assert preview.text == (
        f"Bonjour Marie Dupont,\n\nVotre colis {order.external_id} : suivi "
        "(https://suivi.example/6A123)\n\nCamille Martin"
    )
    outbound = reply_send(
        conversation=conversation,
        body=body.text,
        is_html=True,
        actor=agent_actor,
        door=Door.ADMIN,
        template=template,
    )
    assert (outbound.status, outbound.text, outbound.text_is_html) == (
        "queued",
        preview.text,
        False,
    )


def test_rakuten_refuses_attachments_with_the_reason(agent_actor):
    conversation = thread("rakuten", order=make_order("rakuten"))
    photo = SimpleUploadedFile("box.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    preview = reply_preview(conversation=conversation, body="Voici la photo", attachment_count=1)
    assert [p.code for p in preview.problems] == ["attachments_refused"]
    with pytest.raises(MessagingRefused) as refused:
        reply_send(
            conversation=conversation,
            body="Voici la photo",
            attachments=[photo],
            actor=agent_actor,
            door=Door.ADMIN,
        )
    assert refused.value.code == ErrorCode.ATTACHMENTS_REFUSED
    assert "Rakuten France takes no attachments" in refused.value.message
    assert OutboundMessage.objects.count() == 0


def test_a_placeholder_without_a_value_blocks_sending_and_says_which(agent_actor):
    conversation = thread(
        "amazon_fr", order=make_order("amazon_fr", tracking_number=""), reply_to="b@relay.example"
    )
    template = MessageTemplate.objects.create(
        name="Tracking",
        language="en",
        body="Hi {{ customer_name }}, tracking: {{ tracking_number }} ({{ case_reference }})",
    )
    _subject, body = template_fill(template=template, conversation=conversation)
    assert body.missing == ("tracking_number", "case_reference")
    assert body.text == "Hi Li Wei, tracking: {{ tracking_number }} ({{ case_reference }})"
    with pytest.raises(MessagingRefused) as refused:
        reply_send(conversation=conversation, body=body.text, actor=agent_actor, door=Door.ADMIN)
    assert refused.value.code == ErrorCode.PLACEHOLDER_MISSING
    assert "tracking_number, case_reference" in refused.value.message
    assert OutboundMessage.objects.count() == 0


def test_resolution_date_is_in_the_customers_language_and_time_zone(agent_actor):
    order = make_order("tmall", customer_language="zh-hans", destination_country="CN")
    case = open_case("cancellation", actor=SYSTEM, order=order)
    conversation = thread("tmall", order=order, case=case)
    template = MessageTemplate.objects.create(
        name="Date", language="zh-hans", body="{{ resolution_date }}"
    )
    _s, body = template_fill(template=template, conversation=conversation)
    local = case.resolution_due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert body.text == f"{local.year}年{local.month}月{local.day}日"


def test_upload_link_is_made_by_the_callable_the_upper_layer_gives(agent_actor):
    order = make_order("tmall")
    case = open_case("damaged_item", actor=SYSTEM, order=order)
    conversation = thread("tmall", order=order, case=case)
    template = MessageTemplate.objects.create(
        name="Photos", language="en", body="Send photos: {{ upload_link }}"
    )
    calls = []

    def link(for_case):
        calls.append(for_case.pk)
        return f"https://example.test/e/{for_case.reference}/"

    _s, body = template_fill(template=template, conversation=conversation, upload_link=link)
    assert body.text == f"Send photos: https://example.test/e/{case.reference}/"
    assert calls == [case.pk]
    _s, without = template_fill(template=template, conversation=conversation)
    assert without.missing == ("upload_link",)


def test_template_with_an_unknown_placeholder_is_refused():
    from django.core.exceptions import ValidationError

    template = MessageTemplate(name="X", language="en", body="Hello {{ first_name }}")
    with pytest.raises(ValidationError) as refused:
        template.full_clean()
    assert "first_name" in str(refused.value.message_dict["body"])


def test_length_limit_applies_where_the_marketplace_has_one(agent_actor):
    conversation = thread("rakuten", order=make_order("rakuten"))
    preview = reply_preview(conversation=conversation, body="x" * 2001)
    assert [p.code for p in preview.problems] == ["too_long"]
    assert reply_preview(conversation=conversation, body="x" * 2000).sendable


def test_seller_initiated_message_is_refused_where_only_replies_are_taken(agent_actor):
    with pytest.raises(MessagingRefused) as refused:
        conversation_start(
            marketplace=Marketplace.objects.get(code="rakuten"),
            order=make_order("rakuten"),
            body="Your parcel will be late",
            actor=agent_actor,
            door=Door.ADMIN,
        )
    assert refused.value.code == ErrorCode.SELLER_MAY_NOT_WRITE_FIRST
    assert "only answer messages" in refused.value.message
    assert Conversation.objects.count() == OutboundMessage.objects.count() == 0

    started = conversation_start(
        marketplace=Marketplace.objects.get(code="cdiscount"),
        order=make_order("cdiscount"),
        body="Your parcel will be late",
        actor=agent_actor,
        door=Door.ADMIN,
    )
    assert started.status == "queued" and started.conversation.external_id.startswith("local-")


def test_outbox_confirmation_is_idempotent_and_moves_the_clock_and_the_metric(agent_actor, agent):
    received = timezone.now() - dt.timedelta(hours=3)
    order = make_order("cdiscount")
    case = open_case(
        "late_shipment", actor=SYSTEM, order=order, opened_at=received - dt.timedelta(hours=1)
    )
    conversation = thread("cdiscount", order=order, case=case, at=received)
    inbound = Message.objects.get(external_id="in-cdiscount")
    assert inbound.answered_at is None and conversation.response_due_at is not None
    outbound = reply_send(
        conversation=conversation, body="We are on it", actor=agent_actor, door=Door.ADMIN
    )
    left = timezone.now() - dt.timedelta(minutes=1)
    with pytest.raises(MessagingRefused):  # a reply cannot leave before it was written
        outbound_mark_sent(
            outbound=outbound,
            marketplace_message_id="CD-1",
            sent_at=outbound.queued_at - dt.timedelta(minutes=5),
            actor=SYSTEM,
            door=Door.API,
        )
    outbound.queued_at = left - dt.timedelta(minutes=1)
    OutboundMessage.objects.filter(pk=outbound.pk).update(queued_at=outbound.queued_at)

    _sent, changed = outbound_mark_sent(
        outbound=outbound, marketplace_message_id="CD-1", sent_at=left, actor=SYSTEM, door=Door.API
    )
    _again, changed_again = outbound_mark_sent(
        outbound=outbound, marketplace_message_id="CD-1", sent_at=left, actor=SYSTEM, door=Door.API
    )
    assert (changed, changed_again) == (True, False)
    inbound.refresh_from_db()
    conversation.refresh_from_db()
    case.refresh_from_db()
    assert (inbound.answered_at, inbound.answered_by_id) == (left, agent.pk)
    assert inbound.answered_in_time is True
    assert (conversation.awaiting_response, conversation.response_due_at, conversation.status) == (
        False,
        None,
        "waiting_for_customer",
    )
    assert case.first_responded_at is not None
    assert Message.objects.filter(external_id="CD-1", author=agent).count() == 1

    with pytest.raises(MessagingRefused) as refused:
        outbound_mark_sent(
            outbound=outbound,
            marketplace_message_id="CD-2",
            sent_at=left,
            actor=SYSTEM,
            door=Door.API,
        )
    assert refused.value.code == ErrorCode.OUTBOUND_ALREADY_SENT
    with pytest.raises(MessagingRefused):
        outbound_mark_failed(outbound=outbound, reason="late", actor=SYSTEM)


def test_sent_time_in_the_future_is_refused(agent_actor):
    conversation = thread("cdiscount", order=make_order("cdiscount"))
    outbound = reply_send(conversation=conversation, body="Hi", actor=agent_actor, door=Door.ADMIN)
    with pytest.raises(MessagingRefused) as refused:
        outbound_mark_sent(
            outbound=outbound,
            marketplace_message_id="X",
            sent_at=timezone.now() + dt.timedelta(minutes=5),
            actor=SYSTEM,
            door=Door.API,
        )
    assert (refused.value.code, refused.value.field) == (ErrorCode.OCCURRED_IN_FUTURE, "sent_at")
    outbound.refresh_from_db()
    assert outbound.status == "queued"


def test_failed_reply_shows_the_reason_and_can_be_edited_and_retried(agent_actor):
    conversation = thread("cdiscount", order=make_order("cdiscount"))
    outbound = reply_send(conversation=conversation, body="Hi", actor=agent_actor, door=Door.ADMIN)
    failed, changed = outbound_mark_failed(
        outbound=outbound, reason="Portal rejected: too short", actor=SYSTEM
    )
    _same, changed_again = outbound_mark_failed(
        outbound=outbound, reason="Portal rejected: too short", actor=SYSTEM
    )
    assert (failed.status, failed.failure_reason, changed, changed_again) == (
        "failed",
        "Portal rejected: too short",
        True,
        False,
    )
    retried = outbound_retry(
        outbound=outbound, body="Hello, your parcel left today.", actor=agent_actor
    )
    assert (retried.status, retried.text, retried.attempts) == (
        "queued",
        "Hello, your parcel left today.",
        1,
    )
    with pytest.raises(MessagingRefused) as refused:
        outbound_retry(outbound=outbound, actor=agent_actor)
    assert refused.value.code == ErrorCode.OUTBOUND_NOT_FAILED


def test_amazon_replies_are_emailed_to_the_relay_address(agent_actor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    conversation = thread(
        "amazon_fr",
        order=make_order("amazon_fr"),
        channel="email",
        reply_to="abc@marketplace.amazon.fr",
    )
    outbound = reply_send(
        conversation=conversation,
        body="<p>Hello</p>",
        is_html=True,
        actor=agent_actor,
        door=Door.ADMIN,
    )
    # tasks run synchronously in tests, after commit
    outbound.refresh_from_db()
    assert outbound.by_email is True
    from messaging.tasks import send_outbound_email

    if outbound.status == "queued":
        send_outbound_email(outbound.pk)
        outbound.refresh_from_db()
    assert outbound.status == "sent"
    assert [m.to for m in mail.outbox] == [["abc@marketplace.amazon.fr"]]
    assert mail.outbox[0].body == "Hello"  # Amazon takes no HTML
    assert Message.objects.get(external_id=outbound.marketplace_message_id).direction == "out"


def test_internal_note_on_a_case_goes_into_its_history(agent_actor):
    order = make_order("tmall")
    case = open_case("damaged_item", actor=SYSTEM, order=order)
    conversation = thread("tmall", order=order, case=case)
    version = case.version
    note = conversation_note_add(
        conversation=conversation, text="Customer called too", actor=agent_actor, door=Door.ADMIN
    )
    case.refresh_from_db()
    assert (note.case_id, note.text) == (case.pk, "Customer called too")
    assert case.version == version + 1
    assert case.events.get(event_type="note").note == "Customer called too"
    assert OutboundMessage.objects.count() == 0  # never sent


def test_open_a_case_from_a_message_is_prefilled():
    order = make_order("cdiscount")
    conversation = thread("cdiscount", order=order, body="Le vase est arrivé cassé")
    prefill = case_prefill_from_message(conversation.messages.get())
    assert (prefill["order"], prefill["kind"]) == (order, "damaged_item")
