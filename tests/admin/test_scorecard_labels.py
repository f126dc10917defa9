"""The admin's scorecard policies show the seed metrics' labels and notes in the staff member's
language (French here), translated when the page is drawn."""

from __future__ import annotations

import html

import pytest

from scorecards.models import MetricPolicy

pytestmark = pytest.mark.django_db


def test_the_policy_pages_show_the_seed_metrics_in_french(admin_client):
    policy = MetricPolicy.objects.get(marketplace__code="tmall", metric="abnormal_logistics_rate")

    page = admin_client.get(
        f"/admin/scorecards/metricpolicy/{policy.pk}/change/", HTTP_ACCEPT_LANGUAGE="fr"
    )
    listing = admin_client.get(
        f"/admin/scorecards/metricpolicy/?marketplace__id__exact={policy.marketplace_id}",
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    text = html.unescape(page.content.decode())
    assert "Commandes expédiées par le vendeur passées dans la période" in text
    assert "Taux de progression logistique anormale" in text  # the metric's choice
    shown = html.unescape(listing.content.decode())
    assert "Délai moyen d’expédition" in shown
    assert "Average shipping time" not in shown
