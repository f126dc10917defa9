"""Fixtures of the API tests: clients with keys, and DRF test clients authenticated with them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import ApiClient
from marketplaces.models import Marketplace


@pytest.fixture(autouse=True)
def _api_settings(settings):
    # Tests run a loopback webhook receiver; production refuses private addresses.
    settings.API_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    yield
    cache.clear()


def make_client(name: str, marketplaces: list[str], **fields) -> tuple[ApiClient, str]:
    """An API client of ``marketplaces`` and its key."""
    client = ApiClient(name=name, **fields)
    key = client.set_new_key()
    client.save()
    client.marketplaces.set(Marketplace.objects.filter(code__in=marketplaces))
    return client, key


def http(key: str | None) -> APIClient:
    api = APIClient()
    if key:
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def tmall_client(db):
    """An ERP on Tmall and Amazon, without supervisor rights."""
    return make_client("erp", ["tmall", "amazon_fr"])


@pytest.fixture
def api(tmall_client) -> APIClient:
    return http(tmall_client[1])


@pytest.fixture
def supervisor_client(db):
    return make_client(
        "connector",
        ["tmall"],
        may_reject_claims=True,
        may_reject_refunds=True,
        may_withdraw_cases=True,
        may_record_platform_rulings=True,
    )


@pytest.fixture
def supervisor_api(supervisor_client) -> APIClient:
    return http(supervisor_client[1])


@pytest.fixture
def jd_api(db) -> APIClient:
    """A client of another marketplace (JD): sees nothing of Tmall's."""
    return http(make_client("jd-connector", ["jd"])[1])


def order(external_id: str, marketplace: str = "tmall", **fields):
    """An order made through the service (tests.factories.make_order cannot name its id)."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from cases.services import order_upsert

    values = {
        "customer_name": "Li Wei",
        "customer_email": "li.wei@example.com",
        "placed_at": timezone.now() - dt.timedelta(days=60),
        "promised_ship_date": (timezone.now() - dt.timedelta(days=50)).date(),
        "total": Decimal("120.00"),
        "currency": "CNY",
        **fields,
    }
    return order_upsert(
        marketplace=Marketplace.objects.get(code=marketplace), external_id=external_id, **values
    )[0]
