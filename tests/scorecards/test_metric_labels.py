"""The seed metrics' labels and notes are English in the code and shown in the reader's
language: translated when displayed (the API by Accept-Language, the admin, the dashboard), from
the scorecards catalogs (fr, zh-hans)."""

from __future__ import annotations

import pytest
from django.utils import translation

from scorecards.definitions import METRICS
from tests.api.conftest import http, make_client

pytestmark = pytest.mark.django_db

SEED_METRICS = (
    "abnormal_logistics_rate",
    "average_shipping_time",
    "average_service_response_time",
    "perfect_order_percentage",
    "customer_service_dissatisfaction_rate",
    "seller_feedback_rating",
)


@pytest.mark.parametrize("language", ["fr", "zh-hans"])
@pytest.mark.parametrize("code", SEED_METRICS)
def test_each_seed_metric_has_its_label_and_note_in_the_language(code, language):
    # A note is its definition's docstring: edited without its catalogs, it would fall back to
    # English unnoticed; this says which one.
    metric = METRICS[code]
    with translation.override(language):
        label, note = metric.display_label(), metric.display_note()
    assert label and label != metric.label
    assert note and note != metric.note
    with translation.override("en"):
        assert (metric.display_label(), metric.display_note()) == (metric.label, metric.note)


def scorecard(api, code: str, language: str) -> dict[str, dict]:
    response = api.get(
        f"/api/v1/marketplaces/{code}/scorecard/?window_days=30", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200, response.content
    return {metric["name"]: metric for metric in response.json()["metrics"]}


def test_the_api_scorecard_shows_the_seed_metrics_in_french_and_chinese():
    api = http(make_client("labels", ["tmall", "amazon_fr"])[1])

    tmall, amazon = scorecard(api, "tmall", "fr"), scorecard(api, "amazon_fr", "fr")

    assert tmall["abnormal_logistics_rate"]["label"] == "Taux de progression logistique anormale"
    assert tmall["average_shipping_time"]["label"] == "Délai moyen d’expédition"
    assert tmall["average_service_response_time"]["label"] == (
        "Temps moyen de réponse du service client"
    )
    assert amazon["perfect_order_percentage"]["label"] == "Pourcentage de commandes parfaites"
    assert amazon["customer_service_dissatisfaction_rate"]["label"] == (
        "Taux d’insatisfaction du service client"
    )
    assert amazon["seller_feedback_rating"]["label"] == "Note d’évaluation du vendeur"
    assert tmall["abnormal_logistics_rate"]["note"].startswith(
        "Commandes expédiées par le vendeur passées dans la période"
    )
    assert amazon["seller_feedback_rating"]["note"].startswith("Note moyenne (1 à 5 étoiles)")
    chinese = scorecard(api, "tmall", "zh-hans")
    assert chinese["abnormal_logistics_rate"]["label"] == "物流进度异常率"
    assert chinese["average_shipping_time"]["note"].startswith("统计期内被揽收的卖家发货订单")
    english = scorecard(api, "tmall", "en")
    assert english["abnormal_logistics_rate"]["label"] == "Abnormal logistics progress rate"
