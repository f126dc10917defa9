"""Values at the edges of what the calendar can hold, NUL characters and malformed URLs: each a
400 problem naming the field, with nothing written (found by review; each was a 500)."""

import pytest

from cases.models import Case, EvidenceRequest, Order
from tests.api.conftest import order
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(system_actor):
    return open_case("damaged_item", actor=system_actor)


@pytest.mark.parametrize(
    "payload",
    [
        {"due_at": "9999-12-31T23:59:59Z"},  # overflowed computing the link's expiry
        {"checklist": ["photo\u0000x"]},  # PostgreSQL cannot store NUL
        {"checklist": [{"label": "a", "hint": "h\u0000"}]},
    ],
)
def test_evidence_request_refusals_write_nothing(api, claim, payload):
    version = Case.objects.get(pk=claim.pk).version

    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence-requests/", payload, format="json"
    )

    body = assert_problem(response, 400, "invalid_value")
    assert body["errors"][0]["field"] in {"due_at", "checklist"}
    assert not EvidenceRequest.objects.filter(case=claim).exists()
    assert Case.objects.get(pk=claim.pk).version == version


def test_an_implausible_promised_ship_date_is_refused_per_item(api):
    order("A-1")
    response = api.post(
        "/api/v1/orders/",
        [
            {"marketplace": "tmall", "external_id": "A-1", "promised_ship_date": "9999-12-31"},
            {"marketplace": "tmall", "external_id": "A-2", "placed_at": "2026-01-05T10:00:00Z"},
        ],
        format="json",
    )

    body = assert_problem(response, 400, "invalid_value")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "promised_ship_date")]
    assert not Order.objects.filter(external_id="A-2").exists()
    assert Order.objects.get(external_id="A-1").promised_ship_date.year < 9999


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/marketplaces/tmall/calendar/?start=9999-12-25&add_business_days=10",
        "/api/v1/marketplaces/tmall/scorecard/?as_of=0001-01-01",
        "/api/v1/marketplaces/tmall/scorecard/?as_of=9999-12-31",
    ],
)
def test_dates_beyond_the_calendar_are_refused(api, path):
    body = assert_problem(api.get(path), 400, "invalid")
    assert "between 1970-01-01 and 2100-12-31" in body["errors"][0]["detail"]


def test_a_malformed_webhook_url_is_refused(api):
    response = api.post(
        "/api/v1/webhooks/", {"url": "http://[::1", "event_types": ["*"]}, format="json"
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"][0]["field"] == "url"
