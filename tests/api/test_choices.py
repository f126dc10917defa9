"""An invalid choice, in a body or a list filter, is refused with the valid values listed."""

from __future__ import annotations

import pytest

from cases.models import Case, Order
from tests.api.conftest import order
from tests.api.test_auth import assert_problem

pytestmark = pytest.mark.django_db

KINDS = (
    "out_of_stock, oversized, late_shipment, cancellation, customs_delay, wrong_item, "
    "missing_item, damaged_item, interception"
)


def test_opening_a_case_of_an_unknown_kind_lists_the_kinds(api):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "parcel"}

    problem = assert_problem(api.post("/api/v1/cases/", body, format="json"), 400, "invalid")

    assert problem["errors"] == [
        {
            "field": "kind",
            "pointer": "/kind",
            "detail": f"“parcel” is not a valid choice; use one of: {KINDS}.",
            "code": "invalid_choice",
        }
    ]
    assert problem["detail"] == "One value is invalid; see errors."
    assert not Case.objects.exists()


def test_filtering_cases_by_an_unknown_kind_lists_the_kinds(api):
    problem = assert_problem(api.get("/api/v1/cases/?kind=damaged_item,parcel"), 400, "invalid")

    assert problem["errors"] == [
        {
            "field": "kind",
            "pointer": None,
            "parameter": "kind",
            "detail": f"Unknown value parcel; use one or more of: {KINDS} (comma-separated).",
            "code": "invalid_choice",
        }
    ]


def test_an_order_with_an_unknown_shipping_scope_lists_the_scopes(api):
    items = [
        {
            "marketplace": "tmall",
            "external_id": "A-1",
            "placed_at": "2026-01-05T10:00Z",
            "shipping_scope": "abroad",
        }
    ]

    problem = assert_problem(api.post("/api/v1/orders/", items, format="json"), 400, "invalid")

    assert problem["errors"] == [
        {
            "field": "shipping_scope",
            "pointer": "/0/shipping_scope",
            "detail": "“abroad” is not a valid choice; use one of: domestic, international.",
            "code": "invalid_choice",
            "index": 0,
        }
    ]
    assert not Order.objects.exists()


def test_a_webhook_of_an_unknown_event_type_lists_the_types(api):
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["case.exploded"]}

    problem = assert_problem(api.post("/api/v1/webhooks/", body, format="json"), 400, "invalid")

    assert problem["errors"] == [
        {
            "field": "event_types",
            "pointer": "/event_types/0",
            "detail": "“case.exploded” is not a valid choice; use one of: *, case.created, "
            "case.transitioned, evidence.added, refund.decided, deadline.at_risk, "
            "deadline.missed, case.deadlines_changed.",
            "code": "invalid_choice",
            "index": 0,
        }
    ]


def test_filtering_messages_by_an_unknown_direction_lists_the_directions(api):
    problem = assert_problem(api.get("/api/v1/messages/?direction=sideways"), 400, "invalid")

    assert problem["errors"][0]["detail"] == (
        "Unknown value sideways; use one or more of: in, out (comma-separated)."
    )
    assert api.get("/api/v1/messages/?direction=in").status_code == 200
