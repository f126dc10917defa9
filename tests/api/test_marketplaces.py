"""Marketplaces, business calendars and scorecards through the API."""

import datetime as dt

import pytest
from django.utils import timezone

from cases.services import refund_decide
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def test_only_the_clients_marketplaces(api):
    listed = api.get("/api/v1/marketplaces/").json()
    assert [m["code"] for m in listed] == ["amazon_fr", "tmall"]
    tmall = api.get("/api/v1/marketplaces/tmall/").json()
    assert tmall["time_zone"] == "Asia/Shanghai"
    assert tmall["resolution_business_days"] == 15
    assert tmall["calendar_country"] == "CN"
    assert_problem(api.get("/api/v1/marketplaces/jd/"), 404, "not_found")


def test_calendar_deadline_across_spring_festival(api):
    body = api.get(
        "/api/v1/marketplaces/tmall/calendar/?start=2026-02-12&add_business_days=15"
    ).json()
    assert body["due_date"] == "2026-03-11"  # README: the Chinese calendar with Spring Festival
    assert body["due_at"] == "2026-03-11T15:59:59Z"  # 23:59:59 in Shanghai
    assert "2026-02-17" in body["days_off"]
    assert "2026-02-14" not in body["days_off"]  # an adjusted working Saturday counts


def test_calendar_year_lists_adjusted_working_days(api):
    body = api.get("/api/v1/marketplaces/tmall/calendar/?year=2026").json()
    worked_weekend = {e["date"] for e in body["exceptions"] if e["working"]}
    assert "2026-02-14" in worked_weekend
    off = {e["date"]: e["label"] for e in body["exceptions"] if not e["working"]}
    assert "2026-10-01" in off


@pytest.mark.parametrize(
    "query",
    [
        "start=",
        "start=2026-02-30&add_business_days=3",
        "start=2026-02-12&add_business_days=-1",
        "year=1900",
    ],
)
def test_calendar_refusals(api, query):
    assert_problem(api.get(f"/api/v1/marketplaces/tmall/calendar/?{query}"), 400, "invalid")


def test_calendar_parameters_have_defaults_not_dependencies(api, frozen_now):
    # the schema cannot say "start needs add_business_days": each has a default instead
    url = "/api/v1/marketplaces/tmall/calendar/"
    assert api.get(url).json()["year"] == 2026  # this year's exceptions
    start_only = api.get(url, {"start": "2026-02-12"}).json()
    assert (start_only["start"], start_only["due_date"]) == ("2026-02-12", "2026-02-12")
    days_only = api.get(url, {"add_business_days": 1}).json()
    assert days_only["start"] == "2026-06-10" and days_only["due_date"] == "2026-06-11"
    both = api.get(url, {"year": 2026, "start": "2026-06-10", "add_business_days": 1}).json()
    assert "year" not in both and both["due_date"] == "2026-06-11"


def test_scorecard_counts_what_the_engine_counts(api, supervisor_actor):
    # two refund requests decided today: one approved, one rejected -> 1/2
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
    body = api.get("/api/v1/marketplaces/tmall/scorecard/?window_days=30").json()
    assert body["window_days"] == 30 and body["marketplace"] == "tmall"
    metrics = {m["name"]: m for m in body["metrics"]}
    rate = metrics["refund_rejection_rate"]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (1, 2, "0.500000")
    assistance = metrics["platform_assistance_rate"]
    assert (assistance["numerator"], assistance["denominator"]) == (0, 2)
    # every attribute the engine gives is passed through (window bounds at least)
    assert "window_start" in rate and "window_end" in rate
    old = api.get("/api/v1/marketplaces/tmall/scorecard/?as_of=2025-01-31&window_days=7").json()
    assert {m["name"]: m["denominator"] for m in old["metrics"]}["refund_rejection_rate"] == 0
    assert_problem(api.get("/api/v1/marketplaces/tmall/scorecard/?window_days=0"), 400, "invalid")
    assert_problem(api.get("/api/v1/marketplaces/tmall/scorecard/?as_of=soon"), 400, "invalid")


def test_metric_serialisation_is_generic():
    from dataclasses import dataclass
    from decimal import Decimal

    from api.serializers.marketplaces import metric_data

    @dataclass(frozen=True)
    class Future:
        name: str
        numerator: int
        denominator: int
        level: str
        bounds: tuple
        when: dt.date

        @property
        def value(self) -> Decimal:
            return Decimal("0.25")

        def explain(self) -> str:  # methods are not data
            return "x"

    data = metric_data(Future("x", 1, 4, "4.6", (Decimal("0.1"), None), dt.date(2026, 1, 2)))
    assert data == {
        "name": "x",
        "numerator": 1,
        "denominator": 4,
        "value": "0.25",
        "level": "4.6",
        "bounds": ["0.1", None],
        "when": "2026-01-02",
    }


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/marketplaces/tmall/scorecard/?as_of=",
        "/api/v1/marketplaces/tmall/scorecard/?window_days=",
        "/api/v1/marketplaces/tmall/calendar/?start=",
        "/api/v1/marketplaces/tmall/calendar/?year=",
    ],
)
def test_a_parameter_given_empty_is_refused_clearly(api, url):
    body = assert_problem(api.get(url), 400, "invalid")
    name = url.rsplit("?", 1)[1].rstrip("=")
    assert body["errors"] == [
        {
            "field": name,
            "pointer": None,
            "parameter": name,
            "detail": "Give a value, or leave the parameter out.",
            "code": "invalid",
        }
    ]


def test_the_schema_declares_the_empty_and_date_rules(client):
    schema = client.get("/api/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in schema["paths"]["/api/v1/marketplaces/{code}/scorecard/"]["get"]["parameters"]
    }
    assert parameters["as_of"]["minLength"] == 10
    assert parameters["as_of"]["pattern"].startswith("^(19[7-9]")
    cases = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert cases["marketplace"]["minLength"] == 1
    assert cases["state"]["pattern"].startswith("^(new|")
    create = schema["paths"]["/api/v1/cases/"]["post"]["parameters"]
    key = next(p["schema"] for p in create if p["name"] == "Idempotency-Key")
    assert (key["minLength"], key["maxLength"]) == (1, 255) and "pattern" in key
