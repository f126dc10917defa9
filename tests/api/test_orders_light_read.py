"""The order import's light reader gives what DRF's serializer gives, and hands every list it
does not vouch for to the serializer, whose errors are then those the API always gave."""

import pytest
from rest_framework.exceptions import ValidationError

from api.serializers.orders import _light_read, order_batch_serializer, order_batch_validated
from marketplaces.models import Marketplace

pytestmark = pytest.mark.django_db


@pytest.fixture
def context():
    marketplaces = {m.code: m for m in Marketplace.objects.filter(code__in=["tmall", "amazon_fr"])}
    return {"marketplaces": marketplaces, "marketplace_codes": {}}


def serializer_data(items, context):
    serializer = order_batch_serializer(items, context)
    serializer.is_valid(raise_exception=True)
    return [dict(item) for item in serializer.validated_data]


VALID = [
    {
        "marketplace": "tmall",
        "external_id": "T-1",
        "placed_at": "2026-01-05T10:00:00+08:00",
        "customer_name": "王芳",
        "customer_email": "wang@example.com",
        "total": "99.9",
        "currency": "CNY",
        "promised_ship_date": "2026-01-07",
        "shipped_at": None,
        "tracking_valid": None,
        "parcel_lost": False,
        "cancelled_by": "",
        "shipping_scope": "international",
    },
    {
        "marketplace": "amazon_fr",
        "external_id": "A-1",
        "placed_at": "2026-01-05T10:00:00Z",
        "delivered_at": "2026-01-09T10:00:00.250-03:30",
        "total": "0",
        "destination_country": "FR",
        "fulfilled_by": "marketplace",
        "cancellation_controllable": True,
        "customer_name": "",
    },
]

# Plainly valid for DRF but unusual (the light reader passes them on), or invalid.
UNUSUAL_OR_INVALID = [
    {"total": 12},
    {"total": 12.5},
    {"total": " 7.00 "},
    {"total": "-1"},
    {"total": "1e3"},
    {"customer_name": "  padded  "},
    {"customer_name": "x" * 201},
    {"placed_at": "2026-01-05T10:00:00"},
    {"placed_at": " 2026-01-05T10:00:00Z"},
    {"placed_at": "yesterday"},
    {"placed_at": "0001-01-01T00:00:00+01:00"},
    {"promised_ship_date": "2026-1-7"},
    {"promised_ship_date": "1900-01-01"},
    {"shipping_scope": "galactic"},
    {"cancelled_by": None},
    {"parcel_lost": "true"},
    {"parcel_lost": None},
    {"customer_email": "not an address"},
    {"domestic": False},
    {"created_at": "2026-01-05T10:00:00Z"},
    {"marketplace": "jd"},
    {"customer_name": "bad\x00"},
    {"customer_name": "\ud800"},
]


def test_light_read_equals_the_serializer_on_valid_items(context):
    light = _light_read(VALID, context)
    assert light is not None
    assert light == serializer_data(VALID, context)


@pytest.mark.parametrize("change", UNUSUAL_OR_INVALID, ids=lambda c: repr(c)[:40])
def test_unusual_or_invalid_values_go_through_the_serializer(context, change):
    items = [VALID[0], {**VALID[1], **change}]
    assert _light_read(items, context) is None
    try:
        expected = serializer_data(items, context)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as caught:
            order_batch_validated(items, context)
        assert caught.value.detail == exc.detail  # the same errors, in the same words
    else:
        assert order_batch_validated(items, context) == expected


@pytest.mark.parametrize("body", [[], {}, "orders", [1], [None], [{"marketplace": "tmall"}]])
def test_malformed_lists_go_through_the_serializer(context, body):
    assert _light_read(body, context) is None
    with pytest.raises(ValidationError) as caught:
        order_batch_validated(body, context)
    with pytest.raises(ValidationError) as expected:
        serializer_data(body, context)
    assert caught.value.detail == expected.value.detail
