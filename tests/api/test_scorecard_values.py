"""A scorecard metric says what its value holds: a number in a unit (ratio, seconds, score)
and the same value as text; no field named for a percentage holds a duration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.services import refund_decide
from scorecards.definitions import Unit
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db


def metrics(api, code: str) -> dict[str, dict]:
    body = api.get(f"/api/v1/marketplaces/{code}/scorecard/?window_days=30").json()
    return {metric["name"]: metric for metric in body["metrics"]}


def test_a_duration_is_seconds_with_its_text(api):
    # given two Tmall orders delivered yesterday, 3 days 8 hours after they were placed
    delivered = timezone.now() - dt.timedelta(days=1)
    for _ in range(2):
        make_order(
            "tmall",
            placed_at=delivered - dt.timedelta(days=3, hours=8),
            shipped_at=delivered - dt.timedelta(days=2),
            delivered_at=delivered,
        )

    metric = metrics(api, "tmall")["average_delivery_time"]

    assert {key: metric[key] for key in ("unit", "numerator", "denominator", "value")} == {
        "unit": "seconds",
        "numerator": 2 * 288_000,
        "denominator": 2,
        "value": "288000.00",
    }
    assert metric["display"] == "3 d 8 h"
    assert "percent" not in metric


def test_a_ratio_is_a_fraction_with_its_text(api, supervisor_actor):
    for decision, reason in (("approved", ""), ("rejected", "duplicate")):
        case = open_case(
            "cancellation",
            actor=supervisor_actor,
            refund_request={"amount": "10", "currency": "CNY"},
            opened_at=timezone.now() - dt.timedelta(days=2),
        )
        refund_decide(
            refund_request=case.refund_requests.get(),
            decision=decision,
            reason_code=reason,
            actor=supervisor_actor,
            door="command",
        )

    metric = metrics(api, "tmall")["refund_rejection_rate"]

    assert (metric["unit"], metric["value"], metric["display"]) == ("ratio", "0.500000", "50.00 %")
    assert "percent" not in metric


def test_nothing_counted_is_null_and_n_a(api):
    metric = metrics(api, "tmall")["average_first_response_time"]

    assert (metric["unit"], metric["denominator"], metric["value"], metric["display"]) == (
        "seconds",
        0,
        None,
        "n/a",
    )


def test_the_schema_documents_value_unit_and_display(client):
    openapi = client.get("/api/schema/?format=json").json()
    metric = openapi["components"]["schemas"]["Metric"]["properties"]

    assert "percent" not in metric
    assert metric["unit"]["allOf"] == [{"$ref": "#/components/schemas/MetricUnitEnum"}]
    unit = openapi["components"]["schemas"]["MetricUnitEnum"]
    assert unit["enum"] == ["ratio", "seconds", "score"] == [u.value for u in Unit]
    assert metric["value"]["description"].startswith("numerator / denominator, in unit")
    assert metric["display"]["description"].startswith("value as people read it")
