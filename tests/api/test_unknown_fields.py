"""Every write of the API refuses the fields it does not know (400 naming them and listing the
accepted ones), at the top of a body, in nested objects and in the items of list bodies; the
schema says so with ``additionalProperties: false``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api.models import WebhookDelivery, WebhookSubscription
from cases.demo_media import make_photo
from cases.models import (
    Case,
    CaseEvent,
    Evidence,
    EvidenceRequest,
    Order,
    RefundRequest,
    Shipment,
    TrackingEvent,
)
from cases.services.orders import ORDER_FIELDS
from cases.services.tracking import EVENT_FIELDS
from messaging.models import Message
from messaging.services import WRITABLE_FIELDS
from tests.api.conftest import order
from tests.api.test_auth import assert_problem
from tests.factories import open_case, run

pytestmark = pytest.mark.django_db

ORDER_ACCEPTED = ["marketplace", "external_id", *ORDER_FIELDS, "shipments"]
TRACKING_ACCEPTED = list(EVENT_FIELDS)
SHIPMENT_ACCEPTED = ["carrier", "tracking_number", "marketplace", "order"]


def unknown(name: str, accepted: list[str], pointer: str | None = None, **extra) -> dict:
    """The error the API gives for an unknown field ``name``."""
    detail = (
        f"Unknown field “{name}”. The fields accepted here: {', '.join(accepted)}."
        if accepted
        else f"Unknown field “{name}”: this request takes no fields."
    )
    return {
        "field": extra.pop("field", name),
        "pointer": pointer or f"/{name}",
        "detail": detail,
        "code": "unknown_field",
        **extra,
    }


def world() -> dict[str, Any]:
    """What a refused write must leave as it was."""
    return {
        "orders": list(Order.objects.order_by("pk").values()),
        "cases": list(Case.objects.order_by("pk").values()),
        "events": CaseEvent.objects.count(),
        "evidence": Evidence.objects.count(),
        "evidence_requests": list(EvidenceRequest.objects.order_by("pk").values()),
        "refunds": list(RefundRequest.objects.order_by("pk").values()),
        "messages": Message.objects.count(),
        "subscriptions": list(WebhookSubscription.objects.order_by("pk").values()),
        "deliveries": list(WebhookDelivery.objects.order_by("pk").values("pk", "status")),
        "shipments": list(Shipment.objects.order_by("pk").values()),
        "tracking_events": list(TrackingEvent.objects.order_by("pk").values()),
    }


@dataclass
class Write:
    """One write of an endpoint family: what to send (valid but for the unknown field), where
    the unknown field goes, the fields accepted there and the status of the same write
    without it."""

    method: str
    url: str
    body: Any
    accepted: list[str]
    ok: int
    format: str = "json"


def _claim(actor) -> Case:
    return run(open_case("damaged_item", actor=actor), ["request_evidence"], actor)


def _subscription(client) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        client=client, url="http://127.0.0.1:9/hook", event_types=["*"]
    )


def _delivery(client, actor, capture) -> tuple[WebhookSubscription, WebhookDelivery]:
    subscription = _subscription(client)
    with capture(execute=True):  # the first attempt fails: nothing listens on port 9
        open_case("cancellation", actor=actor)
    return subscription, WebhookDelivery.objects.get(subscription=subscription)


def _message(**extra) -> dict:
    return {
        "marketplace": "tmall",
        "external_id": "m1",
        "conversation_id": "thread-1",
        "direction": "in",
        "counterpart": "customer",
        "channel": "chat",
        "sent_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        **extra,
    }


TRANSITION_ACCEPTED = [
    "transition",
    "occurred_at",
    "note",
    "reason",
    "reason_code",
    "expected_version",
]
REFUND_REQUEST_ACCEPTED = ["amount", "currency", "requested_at", "external_id"]
WEBHOOK_ACCEPTED = ["url", "event_types", "is_active", "description"]


def _writes(actor, client, capture) -> dict[str, Callable[[], Write]]:
    """Each endpoint family's write, built when its test runs."""

    def orders() -> Write:
        item = {"marketplace": "tmall", "external_id": "A-1", "placed_at": "2026-01-05T10:00Z"}
        return Write("post", "/api/v1/orders/", [item], ORDER_ACCEPTED, 200)

    def tracking_events() -> Write:
        item = {
            "carrier": "SF Express",
            "tracking_number": "SF1",
            "carrier_event_id": "1",
            "status": "in_transit",
            "occurred_at": "2026-01-05T10:00Z",
        }
        return Write("post", "/api/v1/tracking-events/", [item], TRACKING_ACCEPTED, 200)

    def shipments() -> Write:
        order("S-1")
        item = {"marketplace": "tmall", "order": "S-1", "carrier": "SF", "tracking_number": "1"}
        return Write("post", "/api/v1/shipments/", [item], SHIPMENT_ACCEPTED, 200)

    def messages() -> Write:
        accepted = ["marketplace", "external_id", *WRITABLE_FIELDS]
        return Write("post", "/api/v1/messages/", [_message()], accepted, 200)

    def case_open() -> Write:
        order("O-1")
        body = {"marketplace": "tmall", "order": "O-1", "kind": "damaged_item"}
        accepted = [
            "marketplace",
            "order",
            "kind",
            "external_id",
            "external_claim_id",
            "opened_at",
            "description",
            "priority",
            "refund_request",
        ]
        return Write("post", "/api/v1/cases/", body, accepted, 201)

    def case_edit() -> Write:
        case = open_case("cancellation", actor=actor)
        accepted = ["priority", "description", "external_claim_id", "expected_version"]
        url = f"/api/v1/cases/{case.reference}/"
        return Write("patch", url, {"description": "VIP"}, accepted, 200)

    def transition() -> Write:
        case = open_case("damaged_item", actor=actor)
        url = f"/api/v1/cases/{case.reference}/transitions/"
        return Write("post", url, {"transition": "request_evidence"}, TRANSITION_ACCEPTED, 200)

    def evidence_upload() -> Write:
        case = _claim(actor)
        url = f"/api/v1/cases/{case.reference}/evidence/"
        body = {"file": SimpleUploadedFile("box.jpg", make_photo("box", seed=7, size=(64, 48)))}
        accepted = ["file", "source", "checklist_item", "evidence_request", "uploaded_at"]
        return Write("post", url, body, accepted, 201, format="multipart")

    def evidence_request() -> Write:
        case = _claim(actor)
        url = f"/api/v1/cases/{case.reference}/evidence-requests/"
        accepted = ["audience", "checklist", "message", "due_at"]
        return Write("post", url, {"audience": "supplier"}, accepted, 201)

    def evidence_request_revoke() -> Write:
        case = _claim(actor)
        request = EvidenceRequest.objects.get(case=case)
        url = f"/api/v1/cases/{case.reference}/evidence-requests/{request.pk}/"
        return Write("delete", url, {}, [], 200)

    def refund_request() -> Write:
        case = open_case("cancellation", actor=actor)
        url = f"/api/v1/cases/{case.reference}/refund-requests/"
        body = {"amount": "12.00", "currency": "CNY"}
        return Write("post", url, body, REFUND_REQUEST_ACCEPTED, 201)

    def refund_decision() -> Write:
        case = open_case(
            "cancellation", actor=actor, refund_request={"amount": "12.00", "currency": "CNY"}
        )
        refund = RefundRequest.objects.get(case=case)
        url = f"/api/v1/cases/{case.reference}/refund-decisions/"
        body = {"refund_request": refund.pk, "decision": "approved"}
        accepted = [
            "refund_request",
            "decision",
            "approved_amount",
            "reason_code",
            "note",
            "decided_at",
            "expected_version",
        ]
        return Write("post", url, body, accepted, 200)

    def webhook_subscribe() -> Write:
        body = {"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}
        return Write("post", "/api/v1/webhooks/", body, WEBHOOK_ACCEPTED, 201)

    def webhook_change() -> Write:
        url = f"/api/v1/webhooks/{_subscription(client).pk}/"
        return Write("patch", url, {"is_active": False}, WEBHOOK_ACCEPTED, 200)

    def webhook_delete() -> Write:
        url = f"/api/v1/webhooks/{_subscription(client).pk}/"
        return Write("delete", url, {}, [], 204)

    def webhook_rotate_secret() -> Write:
        url = f"/api/v1/webhooks/{_subscription(client).pk}/rotate-secret/"
        return Write("post", url, {}, [], 200)

    def webhook_replay() -> Write:
        subscription, delivery = _delivery(client, actor, capture)
        url = f"/api/v1/webhooks/{subscription.pk}/deliveries/{delivery.pk}/replay/"
        return Write("post", url, {}, [], 202)

    return {name: fn for name, fn in locals().items() if callable(fn)}


FAMILIES = [
    "orders",
    "tracking_events",
    "shipments",
    "messages",
    "case_open",
    "case_edit",
    "transition",
    "evidence_upload",
    "evidence_request",
    "evidence_request_revoke",
    "refund_request",
    "refund_decision",
    "webhook_subscribe",
    "webhook_change",
    "webhook_delete",
    "webhook_rotate_secret",
    "webhook_replay",
]


def send(api, write: Write, body: Any):
    return getattr(api, write.method)(write.url, body, format=write.format)


def with_field(body: Any, name: str, value: Any) -> Any:
    if isinstance(body, list):
        return [{**body[0], name: value}]
    return {**body, name: value}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_write_refuses_an_unknown_field(
    api, tmall_client, system_actor, django_capture_on_commit_callbacks, family
):
    # given a write that would succeed
    writes = _writes(system_actor, tmall_client[0], django_capture_on_commit_callbacks)
    write = writes[family]()
    value = "false" if write.format == "multipart" else False
    before = world()

    # when it carries a field the endpoint does not read
    response = send(api, write, with_field(write.body, "domestic", value))

    # then it is refused, naming the field and what is accepted, and nothing changed
    body = assert_problem(response, 400, "invalid")
    pointer = "/0/domestic" if isinstance(write.body, list) else "/domestic"
    extra = {"index": 0} if isinstance(write.body, list) else {}
    assert body["errors"] == [unknown("domestic", write.accepted, pointer, **extra)]
    assert world() == before
    # and the same write without it goes through: the unknown field alone was refused
    if write.format == "multipart":
        write = writes[family]()  # a fresh file: the first one was read
    assert send(api, write, write.body).status_code == write.ok


def test_the_order_import_points_at_the_item_and_field(api):
    items = [
        {"marketplace": "tmall", "external_id": f"A-{n}", "placed_at": "2026-01-05T10:00Z"}
        for n in range(5)
    ]
    items[3]["domestic"] = False  # the connector meant shipping_scope

    body = assert_problem(api.post("/api/v1/orders/", items, format="json"), 400, "invalid")

    assert body["errors"] == [unknown("domestic", ORDER_ACCEPTED, "/3/domestic", index=3)]
    assert body["detail"] == "One value is invalid; see errors."
    assert not Order.objects.exists()


def test_the_message_import_points_at_the_item_and_field(api):
    items = [_message(external_id="m1"), _message(external_id="m2", urgent=True)]

    body = assert_problem(api.post("/api/v1/messages/", items, format="json"), 400, "invalid")

    accepted = ["marketplace", "external_id", *WRITABLE_FIELDS]
    assert body["errors"] == [unknown("urgent", accepted, "/1/urgent", index=1)]
    assert not Message.objects.exists()


def test_a_nested_object_refuses_its_unknown_fields(api):
    order("O-1")
    refund = {"amount": "12.00", "currency": "CNY", "reason": "broken"}
    body = {"marketplace": "tmall", "order": "O-1", "kind": "damaged_item"}
    body["refund_request"] = refund

    problem = assert_problem(api.post("/api/v1/cases/", body, format="json"), 400, "invalid")

    assert problem["errors"] == [
        unknown(
            "reason",
            REFUND_REQUEST_ACCEPTED,
            "/refund_request/reason",
            field="refund_request.reason",
        )
    ]
    assert not Case.objects.exists()


def test_a_checklist_item_refuses_its_unknown_fields(api, system_actor):
    case = _claim(system_actor)
    checklist = ["The box", {"label": "The label", "colour": "red"}]
    url = f"/api/v1/cases/{case.reference}/evidence-requests/"
    before = world()

    problem = assert_problem(api.post(url, {"checklist": checklist}, format="json"), 400, "invalid")

    assert problem["errors"] == [
        unknown(
            "colour",
            ["key", "label", "hint", "required"],
            "/checklist/1/colour",
            field="checklist.colour",
            index=1,
        )
    ]
    assert world() == before


def test_unknown_fields_are_reported_with_the_other_errors(api):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "parcel", "domestic": False}

    problem = assert_problem(api.post("/api/v1/cases/", body, format="json"), 400, "invalid")

    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("kind", "invalid_choice"),
        ("domestic", "unknown_field"),
    ]
    assert problem["detail"] == "2 values are invalid; see errors."


def test_a_read_only_field_is_refused_as_such(api, tmall_client):
    subscription = _subscription(tmall_client[0])
    url = f"/api/v1/webhooks/{subscription.pk}/"

    problem = assert_problem(
        api.patch(url, {"is_active": False, "created_at": "2026-01-01T00:00Z"}, format="json"),
        400,
        "invalid",
    )

    assert problem["errors"] == [
        {
            "field": "created_at",
            "pointer": "/created_at",
            "detail": "“created_at” is read-only: it is shown in answers and cannot be set. "
            "The fields accepted here: url, event_types, is_active, description.",
            "code": "unknown_field",
        }
    ]
    assert WebhookSubscription.objects.get(pk=subscription.pk).is_active is True


def test_a_huge_unknown_key_is_cut_in_the_answer(api):
    order("O-1")
    key = "x" * 5000
    body = {"marketplace": "tmall", "order": "O-1", "kind": "damaged_item", key: 1}

    problem = assert_problem(api.post("/api/v1/cases/", body, format="json"), 400, "invalid")

    (error,) = problem["errors"]
    assert error["field"] == "x" * 100 + "…"
    assert error["pointer"] == "/" + "x" * 100 + "…"
    assert error["code"] == "unknown_field"


# -- the schema says it too ------------------------------------------------------------------


def _resolve(openapi: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return openapi["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _objects(openapi: dict, schema: dict, seen: set[str]) -> list[tuple[str, dict]]:
    """Every object schema a request body can hold, nested ones and list items included."""
    out = []
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return []
        seen.add(ref)
    schema = _resolve(openapi, schema)
    if schema.get("type") == "object" or "properties" in schema:
        out.append((ref or "inline", schema))
        for prop in schema.get("properties", {}).values():
            out.extend(_objects(openapi, prop, seen))
    for key in ("items",):
        if key in schema:
            out.extend(_objects(openapi, schema[key], seen))
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            out.extend(_objects(openapi, part, seen))
    return out


def test_every_request_body_is_a_closed_object_in_the_schema(client):
    openapi = client.get("/api/schema/?format=json").json()
    bodies = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                bodies.append((f"{method} {path} {media}", content["schema"]))
    # every POST and PATCH that takes a body (the outbox's sent / failed reports and the
    # return requests' import and answer, tracking events, shipments, survey answers,
    # seller feedback and the personal-data export and erasure included)
    assert len(bodies) == 21
    for label, schema in bodies:
        objects = _objects(openapi, schema, set())
        assert objects, label
        for name, obj in objects:
            assert obj.get("additionalProperties") is False, (label, name)
    assert "`unknown_field`" in openapi["info"]["description"]  # api/overview.md says it
    checklist = openapi["components"]["schemas"]["EvidenceRequestInputRequest"]["properties"]
    assert checklist["checklist"]["items"]["oneOf"][1]["additionalProperties"] is False
