"""The inbox in a real browser (headless Chromium through Playwright) against the live server:
an agent answers a Rakuten message with a template (the HTML becomes plain text, an attachment
is refused with the reason), marks an Amazon message "no response needed", answers from a case
page and leaves an internal note; a connector then pulls the outbox over real HTTP, confirms
each reply, and the dashboard's response metric moves. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from django.utils import timezone

from cases.choices import Door
from cases.models import CaseEvent
from marketplaces.models import Marketplace
from messaging.models import Conversation, Message, MessageTemplate, OutboundMessage
from messaging.services import message_import
from tests.api.conftest import make_client
from tests.factories import make_order, open_case

from .conftest import make_staff
from .helpers import SYSTEM
from .test_browser import browser, log_in, page, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def received(code: str, thread: str, *, hours_ago: float, **fields) -> Conversation:
    message_import(
        marketplace=Marketplace.objects.get(code=code),
        messages=[
            {
                "external_id": f"in-{thread}",
                "conversation_id": thread,
                "direction": "in",
                "counterpart": "customer",
                "channel": "portal",
                "sent_at": (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat(),
                **fields,
            }
        ],
        actor=SYSTEM,
        door=Door.API,
    )
    return Conversation.objects.get(external_id=thread)


def call(base: str, key: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    """What a connector writes: JSON over HTTP with its key (the standard library's client)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Token {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def metric_row(page, label: str) -> str:  # noqa: F811 (the fixture's name)
    row = page.locator(f"#response-times tr[data-line='{label}']").first
    return row.inner_text() if row.count() else ""


def test_agent_answers_from_the_inbox_and_the_case_page_then_a_connector_sends(
    page,  # noqa: F811
    live_server,
    django_user_model,
    tmp_path,
):
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa", last_name="Martin")
    rakuten_order = make_order(
        "rakuten", customer_name="Marie Dupont", tracking_number="6A123", customer_language="fr"
    )
    rakuten = received(
        "rakuten",
        "rk-1",
        hours_ago=2,
        order=rakuten_order.external_id,
        subject="Où est mon colis ?",
        body="Bonjour, où est mon colis ?",
        language="fr",
    )
    MessageTemplate.objects.create(
        name="Suivi du colis",
        language="fr",
        marketplace=rakuten.marketplace,
        is_html=True,
        body="<p>Bonjour {{ customer_name }},</p><p>Votre colis {{ order_id }} est suivi sous "
        "le numéro <strong>{{ tracking_number }}</strong>.</p><p>{{ agent_name }}</p>",
    )
    thanks = received("amazon_fr", "amz-1", hours_ago=3, body="Thanks, all good!")
    case = open_case(
        "late_shipment",
        actor=SYSTEM,
        marketplace="amazon_fr",
        opened_at=timezone.now() - dt.timedelta(hours=5),
    )
    on_case = received(
        "amazon_fr",
        "amz-2",
        hours_ago=4,
        order=case.order.external_id,
        case=case.reference,
        body="My order has not shipped yet",
    )
    photo = tmp_path / "box.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"0" * 200)

    log_in(page, live_server, "lea")
    page.click("#user-tools >> text=Inbox")
    page.wait_for_selector("#ws-inbox-list")
    rows = page.locator("#ws-inbox-list tbody tr.ws-conv")
    assert rows.count() == 3
    # most urgent first: Amazon's 24 h clocks before Rakuten's 48 business hours
    assert rows.first.get_attribute("data-conversation") == str(on_case.pk)
    assert "left" in rows.first.locator(".ws-badge").inner_text()
    shot(page, "inbox")

    # -- Rakuten: a template, the preview in plain text, an attachment refused, sent
    page.click("text=Où est mon colis ?")
    page.wait_for_selector(f"#composer-{rakuten.pk}")
    page.select_option(f"#ws-template-{rakuten.pk}", label="Suivi du colis (fr)")
    page.click("button[name=use_template]")
    body = page.locator(f"#ws-body-{rakuten.pk}")
    assert "Bonjour Marie Dupont" in body.input_value()
    assert "<strong>6A123</strong>" in body.input_value()
    page.click("button[value=preview]")
    preview = page.locator(".ws-preview-text")
    assert preview.inner_text().startswith("Bonjour Marie Dupont,\n\nVotre colis")
    assert "<" not in preview.inner_text() and "6A123" in preview.inner_text()
    page.set_input_files(f"#ws-files-{rakuten.pk}", str(photo))
    page.click("button[value=send]")
    refusal = page.locator(".ws-refusal")
    assert "Rakuten France takes no attachments in messages" in refusal.inner_text()
    assert OutboundMessage.objects.count() == 0
    shot(page, "conversation-rakuten-refused")
    page.click("button[value=send]")  # the text was kept; no file this time
    page.wait_for_selector(".ws-outbox-queued")
    assert "sent as plain text" in page.locator(".ws-outbox-queued").inner_text()
    shot(page, "conversation-rakuten-queued")

    # -- Amazon: "no response needed"
    page.goto(f"{live_server.url}/admin/messaging/conversation/{thanks.pk}/change/")
    page.click(f"[data-no-response='{thanks.messages.get().pk}']")
    page.wait_for_selector(".ws-msg-nrn")
    assert "Nothing awaits an answer." in page.locator("#ws-conv-clock").inner_text()
    message = Message.objects.get(external_id="in-amz-1")
    assert message.no_response_needed and message.response_due_at is None

    # -- the case page: a reply and an internal note
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    conversation = page.locator(f"#conversation-{on_case.pk}")
    assert "My order has not shipped yet" in conversation.inner_text()
    conversation.locator("summary", has_text="Reply or write an internal note").click()
    page.fill(f"#ws-body-{on_case.pk}", "It leaves our warehouse today.")
    conversation.locator("button[value=send]").click()
    page.wait_for_selector(f"#conversation-{on_case.pk} .ws-outbox-queued")
    # back on the composer's anchor: the browser opened it
    conversation.locator("details.ws-action").first.evaluate("d => { d.open = true; }")
    conversation.locator("input[name=mode][value=note]").check()
    page.fill(f"#ws-body-{on_case.pk}", "Supplier confirmed the pickup for 15:00.")
    conversation.locator("button[value=send]").click()
    page.wait_for_selector(f"#conversation-{on_case.pk} .ws-note")
    assert "Supplier confirmed the pickup" in page.locator("#timeline").inner_text()
    assert CaseEvent.objects.filter(case=case, event_type="note").count() == 1
    shot(page, "case-page-conversation")

    # -- before the connector: nothing answered yet on the dashboard
    page.goto(f"{live_server.url}/admin/workspace/dashboard/")
    assert metric_row(page, "Rakuten France") == ""

    # -- the connector pulls the outbox over HTTP and confirms each reply
    _client, key = make_client("connector", ["rakuten", "amazon_fr"])
    status, pulled = call(live_server.url, key, "GET", "/api/v1/outbox/")
    assert status == 200
    items = {item["conversation_id"]: item for item in pulled["results"]}
    assert set(items) == {"rk-1", "amz-2"}
    assert items["rk-1"]["text"].startswith("Bonjour Marie Dupont,\n\nVotre colis")
    left = timezone.now().isoformat()
    for number, item in enumerate(items.values()):
        status, done = call(
            live_server.url,
            key,
            "POST",
            f"/api/v1/outbox/{item['id']}/sent/",
            {"marketplace_message_id": f"MKT-{number}", "sent_at": left},
        )
        assert (status, done["status"]) == (200, "sent")
    assert call(live_server.url, key, "GET", "/api/v1/outbox/")[1]["results"] == []

    # -- the metric moved: both answered within their marketplace's rule
    page.reload()
    assert "(1/1)" in metric_row(page, "Rakuten France")
    assert "(1/1)" in metric_row(page, "Amazon.fr")
    assert "(2/2)" in page.locator("#response-times tr[data-line='lea']").inner_text()
    page.locator("#response-times").scroll_into_view_if_needed()
    shot(page, "dashboard-response-times")
