"""POST /api/v1/tracking-events/ and /api/v1/shipments/, shipments in the order import, and the
``tracking.event`` webhook."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from api.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from cases.models import Case, CaseEvent, Shipment, TrackingEvent
from tests.api.conftest import order
from tests.api.test_auth import assert_problem

pytestmark = pytest.mark.django_db


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def base():
    return timezone.now().replace(microsecond=0) - dt.timedelta(days=10)


def scan(number, event_id, status, at, carrier="SF Express"):
    return {
        "carrier": carrier,
        "tracking_number": number,
        "carrier_event_id": event_id,
        "status": status,
        "occurred_at": iso(at),
        "location": "Shenzhen",
        "raw_text": "快件已揽收",
    }


def post(api, path, items):
    return api.post(path, items, format="json")


def test_orders_carry_their_shipments_and_scans_are_matched(api, base):
    # given: a scan that came before the order's shipment was known
    response = post(api, "/api/v1/tracking-events/", [scan("SF9", "1", "picked_up", base)])
    assert response.status_code == 200, response.content
    assert response.json() == {
        "received": 1,
        "created": 1,
        "unchanged": 0,
        "matched": 0,
        "unmatched": 1,
        "cases_changed": 0,
    }

    # when: the order arrives with its shipment
    response = post(
        api,
        "/api/v1/orders/",
        [
            {
                "marketplace": "tmall",
                "external_id": "T-1",
                "placed_at": iso(base - dt.timedelta(days=2)),
                "shipments": [{"carrier": "SF Express", "tracking_number": "SF9"}],
            }
        ],
    )
    assert response.status_code == 200, response.content

    # then
    shipment = Shipment.objects.get()
    assert shipment.order.external_id == "T-1"
    assert shipment.order.picked_up_at == base
    assert TrackingEvent.objects.get().shipment == shipment


def test_the_import_is_idempotent_and_moves_cases(api, base, system_actor):
    tmall_order = order("T-2", placed_at=base - dt.timedelta(days=3))
    from tests.factories import open_case

    late = open_case("late_shipment", actor=system_actor, order=tmall_order, opened_at=base)
    response = post(
        api,
        "/api/v1/shipments/",
        [
            {
                "marketplace": "tmall",
                "order": "T-2",
                "carrier": "SF Express",
                "tracking_number": "SF2",
            }
        ],
    )
    assert response.status_code == 200, response.content
    items = [scan("SF2", "1", "picked_up", base + dt.timedelta(hours=3))]

    first = post(api, "/api/v1/tracking-events/", items).json()
    again = post(api, "/api/v1/tracking-events/", items).json()

    assert (first["created"], first["matched"], first["cases_changed"]) == (1, 1, 1)
    assert (again["created"], again["unchanged"], again["cases_changed"]) == (0, 1, 0)
    late.refresh_from_db()
    assert late.state == "shipped"
    # the timeline of the case (the events API) shows the scan
    events = api.get(f"/api/v1/cases/{late.reference}/events/").json()
    titles = [event.get("title") for event in events["results"]]
    assert "Carrier: Picked up by the carrier" in titles


def test_one_bad_scan_refuses_the_list_with_per_item_errors(api, base):
    response = post(
        api,
        "/api/v1/tracking-events/",
        [
            scan("SF3", "1", "picked_up", base),
            scan("SF3", "2", "beamed_up", base),
            {**scan("SF3", "3", "delivered", base), "occurred_at": "2026-01-01T10:00:00"},
            {**scan("SF3", "4", "delivered", base), "weight": 3},
        ],
    )
    body = assert_problem(response, 400, "invalid")
    located = sorted((e["index"], e["field"], e["code"]) for e in body["errors"])
    assert located == [
        (1, "status", "invalid_choice"),
        (2, "occurred_at", "naive"),
        (3, "weight", "unknown_field"),
    ]
    assert TrackingEvent.objects.count() == 0


def test_a_future_scan_is_refused_by_index(api):
    future = timezone.now() + dt.timedelta(hours=2)
    response = post(api, "/api/v1/tracking-events/", [scan("SF4", "1", "delivered", future)])
    body = assert_problem(response, 400, "invalid_value")
    [error] = body["errors"]
    assert (error["index"], error["field"], error["code"]) == (
        0,
        "occurred_at",
        "occurred_in_future",
    )
    assert error["pointer"] == "/0/occurred_at"


def test_a_parcel_of_another_marketplace_is_not_yours(api, jd_api, base):
    order("T-5", placed_at=base - dt.timedelta(days=3))
    post(
        api,
        "/api/v1/shipments/",
        [
            {
                "marketplace": "tmall",
                "order": "T-5",
                "carrier": "SF Express",
                "tracking_number": "S5",
            }
        ],
    )
    response = post(jd_api, "/api/v1/tracking-events/", [scan("S5", "1", "lost", base)])
    body = assert_problem(response, 400, "invalid_value")
    assert body["errors"][0]["code"] == "not_yours"
    assert TrackingEvent.objects.count() == 0


def test_an_unknown_order_of_a_shipment_is_refused(api):
    response = post(
        api,
        "/api/v1/shipments/",
        [{"marketplace": "tmall", "order": "NOPE", "carrier": "SF", "tracking_number": "S6"}],
    )
    body = assert_problem(response, 400, "invalid_value")
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [
        (0, "order", "does_not_exist")
    ]


def test_subscribers_get_a_tracking_event_webhook(api, tmall_client, base, system_actor):
    WebhookSubscription.objects.create(
        client=tmall_client[0], url="https://hooks.example.com/t", event_types=["tracking.event"]
    )
    order("T-7", placed_at=base - dt.timedelta(days=3))
    post(
        api,
        "/api/v1/shipments/",
        [
            {
                "marketplace": "tmall",
                "order": "T-7",
                "carrier": "SF Express",
                "tracking_number": "S7",
            }
        ],
    )
    post(api, "/api/v1/tracking-events/", [scan("S7", "1", "customs_hold", base)])

    [event] = WebhookEvent.objects.filter(event_type="tracking.event")
    assert event.payload["type"] == "tracking.event"
    assert event.payload["data"]["order"] == {"marketplace": "tmall", "external_id": "T-7"}
    assert event.payload["data"]["tracking_event"]["status"] == "customs_hold"
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    # the customs case the hold opened is on the case webhooks as usual
    case = Case.objects.get(kind="customs_delay")
    assert CaseEvent.objects.filter(case=case, door="tracking").exists()


def test_the_schema_documents_the_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/tracking-events/" in schema["paths"]
    assert "/api/v1/shipments/" in schema["paths"]


def test_a_nul_character_is_refused_not_stored(api, base):
    response = post(
        api,
        "/api/v1/tracking-events/",
        [{**scan("SF8", "1", "in_transit", base), "location": "a\x00b"}],
    )
    body = assert_problem(response, 400, "invalid")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "location")]
    assert TrackingEvent.objects.count() == 0


def test_the_case_history_shows_where_the_scan_happened(api, base, system_actor):
    # the scan's place is read from its row (personal data, erasable), not from the audit trail
    from tests.factories import open_case

    tmall_order = order("T-7", placed_at=base - dt.timedelta(days=3))
    late = open_case("late_shipment", actor=system_actor, order=tmall_order, opened_at=base)
    shipment = {"marketplace": "tmall", "order": "T-7", "carrier": "SF Express"}
    post(api, "/api/v1/shipments/", [{**shipment, "tracking_number": "SF7"}])
    post(api, "/api/v1/tracking-events/", [scan("SF7", "1", "picked_up", base)])

    def scan_lines(events):
        return [e for e in events if e["type"] == "tracking_event"]

    listed = scan_lines(api.get(f"/api/v1/cases/{late.reference}/events/").json()["results"])
    history = scan_lines(api.get(f"/api/v1/cases/{late.reference}/").json()["history"])
    for lines in (listed, history):
        assert len(lines) == 1
        assert "Shenzhen" in json.dumps(lines[0], ensure_ascii=False)
    assert "Shenzhen" not in json.dumps(CaseEvent.objects.get(event_type="tracking_event").data)
