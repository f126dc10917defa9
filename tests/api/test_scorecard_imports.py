"""Survey answers and seller feedback imported through the API, and shown in the scorecard."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_survey_answers_import_and_scorecard(api):
    body = [
        {
            "marketplace": "amazon_fr",
            "external_id": f"S{n}",
            "answered_at": "2025-10-20T12:00:00+02:00",
            "dissatisfied": n == 0,
        }
        for n in range(4)
    ]
    response = api.post("/api/v1/survey-answers/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 4, "created": 4, "updated": 0, "unchanged": 0}
    again = api.post("/api/v1/survey-answers/", body, format="json")
    assert again.json()["unchanged"] == 4

    card = api.get("/api/v1/marketplaces/amazon_fr/scorecard/", {"as_of": "2025-10-31"}).json()
    metric = next(
        m for m in card["metrics"] if m["name"] == "customer_service_dissatisfaction_rate"
    )
    assert (metric["numerator"], metric["denominator"]) == (1, 4)
    assert metric["level"] == "missed" and "Assumption" in metric["note"]


def test_feedback_import_lists_each_bad_item_and_writes_nothing(api):
    body = [
        {
            "marketplace": "amazon_fr",
            "external_id": "F1",
            "left_at": "2025-10-20T12:00:00Z",
            "rating": 5,
        },
        {
            "marketplace": "amazon_fr",
            "external_id": "F2",
            "left_at": "2025-10-20T12:00:00Z",
            "rating": 6,
        },
        {
            "marketplace": "amazon_fr",
            "external_id": "F3",
            "left_at": "2025-10-20T12:00:00",
            "rating": 4,
        },
    ]
    response = api.post("/api/v1/seller-feedback/", body, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert {(e["index"], e["field"]) for e in problem["errors"]} == {(1, "rating"), (2, "left_at")}
    from scorecards.models import SellerFeedback

    assert not SellerFeedback.objects.exists()
