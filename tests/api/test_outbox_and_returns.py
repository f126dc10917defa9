"""The outbox for connectors (pull oldest first, scoped; report sent / failed, idempotent;
the ``message.outbound`` webhook) and return requests through the API."""

import datetime as dt

import pytest
from django.utils import timezone

from api.models import WebhookEvent, WebhookSubscription
from cases.actors import Actor
from cases.choices import Door
from marketplaces.models import Marketplace
from messaging.models import Message
from messaging.services import message_import, reply_send
from tests.api.conftest import http, make_client
from tests.factories import make_order

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def connector(db):
    return make_client("cdiscount-connector", ["cdiscount"])


@pytest.fixture
def cd_api(connector):
    return http(connector[1])


def conversation(code, thread, at):
    message_import(
        marketplace=Marketplace.objects.get(code=code),
        messages=[
            {
                "external_id": f"in-{thread}",
                "conversation_id": thread,
                "direction": "in",
                "counterpart": "customer",
                "channel": "portal",
                "sent_at": at.isoformat(),
                "order": make_order(code).external_id,
            }
        ],
        actor=SYSTEM,
        door=Door.API,
    )
    return Message.objects.get(external_id=f"in-{thread}").conversation


def test_connector_pulls_oldest_first_confirms_and_the_answer_counts(cd_api, agent):
    actor = Actor.for_user(agent)
    now = timezone.now()
    first = reply_send(
        conversation=conversation("cdiscount", "t1", now - dt.timedelta(hours=5)),
        body="<p>First</p>",
        is_html=True,
        actor=actor,
        door=Door.ADMIN,
        at=now - dt.timedelta(hours=2),
    )
    second = reply_send(
        conversation=conversation("cdiscount", "t2", now - dt.timedelta(hours=4)),
        body="Second",
        actor=actor,
        door=Door.ADMIN,
        at=now - dt.timedelta(hours=1),
    )
    reply_send(  # another marketplace: not this connector's
        conversation=conversation("rakuten", "t3", now - dt.timedelta(hours=4)),
        body="Other",
        actor=actor,
        door=Door.ADMIN,
    )

    page = cd_api.get("/api/v1/outbox/", {"page_size": 1}).json()
    assert [item["id"] for item in page["results"]] == [first.pk]
    assert page["results"][0]["conversation_id"] == "t1"
    assert page["results"][0]["text"] == "<p>First</p>"  # Cdiscount takes HTML
    rest = cd_api.get(page["next"]).json()
    assert [item["id"] for item in rest["results"]] == [second.pk]

    left = (now - dt.timedelta(minutes=30)).isoformat()
    body = {"marketplace_message_id": "CD-77", "sent_at": left}
    answer = cd_api.post(f"/api/v1/outbox/{first.pk}/sent/", body, format="json")
    again = cd_api.post(f"/api/v1/outbox/{first.pk}/sent/", body, format="json")
    assert (answer.status_code, again.status_code) == (200, 200)
    assert answer.json()["status"] == "sent" and answer.json() == again.json()
    inbound = Message.objects.get(external_id="in-t1")
    assert inbound.answered_at == dt.datetime.fromisoformat(left)
    assert inbound.answered_by == agent
    assert [i["id"] for i in cd_api.get("/api/v1/outbox/").json()["results"]] == [second.pk]

    other = cd_api.post(
        f"/api/v1/outbox/{first.pk}/sent/",
        {"marketplace_message_id": "CD-78", "sent_at": left},
        format="json",
    )
    assert (other.status_code, other.json()["code"]) == (409, "outbound_already_sent")


def test_sent_in_the_future_is_refused_and_failed_is_idempotent(cd_api, agent):
    outbound = reply_send(
        conversation=conversation("cdiscount", "t1", timezone.now() - dt.timedelta(hours=5)),
        body="Hi",
        actor=Actor.for_user(agent),
        door=Door.ADMIN,
    )
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    refused = cd_api.post(
        f"/api/v1/outbox/{outbound.pk}/sent/",
        {"marketplace_message_id": "X", "sent_at": future},
        format="json",
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "occurred_in_future")
    failed = cd_api.post(
        f"/api/v1/outbox/{outbound.pk}/failed/", {"reason": "Too short"}, format="json"
    )
    again = cd_api.post(
        f"/api/v1/outbox/{outbound.pk}/failed/", {"reason": "Too short"}, format="json"
    )
    assert failed.status_code == again.status_code == 200
    assert failed.json()["failure_reason"] == "Too short" and failed.json()["status"] == "failed"
    unknown = cd_api.post(f"/api/v1/outbox/{outbound.pk}/failed/", {"why": "x"}, format="json")
    assert unknown.status_code == 400


def test_other_marketplaces_outbox_is_not_found(agent):
    outbound = reply_send(
        conversation=conversation("rakuten", "t1", timezone.now() - dt.timedelta(hours=5)),
        body="Hi",
        actor=Actor.for_user(agent),
        door=Door.ADMIN,
    )
    api = http(make_client("c2", ["cdiscount"])[1])
    assert (
        api.post(
            f"/api/v1/outbox/{outbound.pk}/failed/", {"reason": "x"}, format="json"
        ).status_code
        == 404
    )


def test_push_connectors_get_a_message_outbound_event(
    connector, agent, django_capture_on_commit_callbacks
):
    WebhookSubscription.objects.create(
        client=connector[0], url="http://127.0.0.1:9/hook", event_types=["message.outbound"]
    )
    thread = conversation("cdiscount", "t1", timezone.now() - dt.timedelta(hours=5))
    with django_capture_on_commit_callbacks(execute=True):
        outbound = reply_send(
            conversation=thread, body="Hi", actor=Actor.for_user(agent), door=Door.ADMIN
        )
    event = WebhookEvent.objects.get(event_type="message.outbound")
    assert event.payload["data"]["outbound"]["id"] == outbound.pk
    assert event.payload["data"]["outbound"]["marketplace"] == "cdiscount"
    assert event.deliveries.count() == 1
    # its deliveries are written with it: the outbox worker must not expand it a second time
    # (nor trip over a reply on no case)
    from api.webhooks.outbox import outbox_drain

    outbox_drain()
    assert event.deliveries.count() == 1


def test_return_requests_are_imported_listed_and_answered(api):
    order = make_order("amazon_fr", external_id="AMZ-1")
    requested = (timezone.now() - dt.timedelta(hours=50)).replace(microsecond=0)
    body = {
        "marketplace": "amazon_fr",
        "external_id": "RET-1",
        "order": "AMZ-1",
        "requested_at": requested.isoformat(),
        "customer_reason": "Too small",
    }
    created = api.post("/api/v1/return-requests/", body, format="json")
    again = api.post("/api/v1/return-requests/", body, format="json")
    assert (created.status_code, again.status_code) == (201, 200)
    data = created.json()
    assert data["response_due_at"] == (requested + dt.timedelta(hours=48)).isoformat().replace(
        "+00:00", "Z"
    )
    assert data["overdue"] is True and data["order"] == order.external_id

    listed = api.get(
        "/api/v1/return-requests/", {"answered": "false", "marketplace": "amazon_fr"}
    ).json()
    assert [r["external_id"] for r in listed["results"]] == ["RET-1"]

    no_reason = api.post(
        f"/api/v1/return-requests/{data['id']}/answer/", {"decision": "rejected"}, format="json"
    )
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "rejection_reason_required")
    answered = api.post(
        f"/api/v1/return-requests/{data['id']}/answer/",
        {"decision": "rejected", "reason": "Worn"},
        format="json",
    )
    assert answered.status_code == 200
    assert (answered.json()["decision"], answered.json()["rejection_reason"]) == (
        "rejected",
        "Worn",
    )
    twice = api.post(
        f"/api/v1/return-requests/{data['id']}/answer/", {"decision": "closed"}, format="json"
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "return_already_answered")
    assert api.get("/api/v1/return-requests/", {"answered": "false"}).json()["results"] == []


def test_return_request_of_an_unknown_order_is_refused(api):
    answer = api.post(
        "/api/v1/return-requests/",
        {
            "marketplace": "amazon_fr",
            "external_id": "R",
            "order": "nope",
            "requested_at": "2025-01-01T00:00:00Z",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert (
        answer.json()["errors"][0]["field"] == "order"
        if "field" in answer.json()["errors"][0]
        else True
    )
