"""A new order of the bulk import is checked by the same rules as ``full_clean`` (fields, then
``Order.rule_errors``), with the same errors, though most values skip ``Field.clean``."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Order
from cases.services.orders_bulk import _clean_new, order_bulk_upsert
from marketplaces.models import Marketplace

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
BASE = {
    "placed_at": NOW - dt.timedelta(days=3),
    "customer_name": "Wang Fang",
    "customer_email": "wang.fang+orders@mail.example.cn",
    "total": Decimal("99.90"),
    "currency": "CNY",
}
CASES = [
    {},
    {"customer_email": "not an address"},
    {"customer_email": "a..b@example.com"},
    {"customer_email": "émile@exemple.fr"},
    {"customer_email": "x" * 250 + "@example.com"},
    {"customer_name": "n" * 201},
    {"customer_name": "nul\x00"},
    {"currency": "EURO"},
    {"shipping_scope": "galactic"},
    {"customer_language": "de"},
    {"total": Decimal("-1")},
    {"total": Decimal("12345678901.00")},
    {"total": Decimal("1.005")},
    {"total": Decimal("1E+3")},
    {"total": Decimal("NaN")},
    {"placed_at": NOW + dt.timedelta(days=1)},
    {"shipped_at": NOW - dt.timedelta(days=5)},
    {"cancelled_by": "seller"},
    {"cancelled_by": "nobody", "cancelled_at": NOW - dt.timedelta(days=1)},
    {"cancelled_at": NOW - dt.timedelta(days=9)},
    {"a_to_z_claim_outcome": "granted"},
    {"promised_ship_date": dt.date(2300, 1, 1)},
    {"tracking_valid": None, "parcel_lost": True, "destination_country": "FR"},
    {"external_id": "E" * 101},
]


def full_clean_errors(order: Order) -> dict:
    try:
        order.full_clean(exclude=["marketplace"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize("change", CASES, ids=lambda c: repr(c)[:50])
def test_new_order_errors_equal_full_clean(change, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    marketplace = Marketplace.objects.get(code="tmall")
    given = {**BASE, **change}
    external_id = given.pop("external_id", "T-1")
    expected = full_clean_errors(Order(marketplace=marketplace, external_id=external_id, **given))
    order = Order(marketplace=marketplace, external_id=external_id, **given)
    try:
        _clean_new(order, given, [], now=NOW)
    except ValidationError as exc:
        assert exc.message_dict == expected
    else:
        assert expected == {}


def test_the_import_refuses_with_those_errors_and_writes_nothing():
    marketplace = Marketplace.objects.get(code="tmall")
    items = [
        {"marketplace": marketplace, "external_id": "OK-1", **BASE},
        {"marketplace": marketplace, "external_id": "BAD-1", **BASE, "customer_email": "nope"},
    ]
    with pytest.raises(Exception) as caught:
        order_bulk_upsert(items=items)
    errors = caught.value.details["errors"]
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [
        (1, "customer_email", "invalid")
    ]
    assert not Order.objects.filter(external_id__in=["OK-1", "BAD-1"]).exists()
