"""A field error says where the bad value was: a JSON ``pointer`` into the body, or the query
``parameter`` or ``header`` that carried it (a GET has no body to point into)."""

from __future__ import annotations

import pytest

from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "parameter", "detail"),
    [
        (
            "/api/v1/cases/?marketplace=jd",
            "marketplace",
            "Not one of your marketplaces: jd (yours: amazon_fr, tmall).",
        ),
        ("/api/v1/cases/?open=maybe", "open", "Use true or false."),
        (
            "/api/v1/orders/?ordering=total",
            "ordering",
            "Order by one of: placed_at, -placed_at, updated_at, -updated_at.",
        ),
        ("/api/v1/messages/?page_size=0", "page_size", "Give a page size from 1 to 500."),
        (
            "/api/v1/marketplaces/tmall/scorecard/?window_days=0",
            "window_days",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            # add_business_days now defaults (0), so a bad value is what is named.
            "/api/v1/marketplaces/tmall/calendar/?start=2026-01-05&add_business_days=x",
            "add_business_days",
            "A valid integer is required.",
        ),
    ],
)
def test_a_bad_query_parameter_is_named_not_pointed_at(api, url, parameter, detail):
    problem = assert_problem(api.get(url), 400, "invalid")

    (error,) = problem["errors"]
    assert (error["field"], error["parameter"], error["pointer"]) == (parameter, parameter, None)
    assert error["detail"] == detail


def test_a_bad_header_is_named_not_pointed_at(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    url = f"/api/v1/cases/{case.reference}/"

    problem = assert_problem(
        api.patch(url, {"description": "x"}, format="json", HTTP_IF_MATCH="seven"), 400, "invalid"
    )

    assert problem["errors"] == [
        {
            "field": "If-Match",
            "pointer": None,
            "header": "If-Match",
            "detail": 'If-Match must hold the case\'s ETag (its version), e.g. "3".',
            "code": "invalid",
        }
    ]


def test_a_bad_body_value_keeps_its_pointer(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    url = f"/api/v1/cases/{case.reference}/"

    problem = assert_problem(api.patch(url, {"priority": "asap"}, format="json"), 400, "invalid")

    (error,) = problem["errors"]
    assert (error["field"], error["pointer"]) == ("priority", "/priority")
    assert "parameter" not in error and "header" not in error
