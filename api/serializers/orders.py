"""Orders, read and written. Built from the model and ``cases.services.orders.ORDER_FIELDS``: a
field added to orders there is accepted and shown here without changing this file."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import PLAUSIBLE_DATES, Order
from cases.services.orders import ORDER_FIELDS
from cases.services.orders_bulk import MAX_BATCH

from ..fields import ApiModelSerializer, MarketplaceCodeField
from .tracking import ShipmentOfOrderSerializer


class OrderListSerializer(serializers.ListSerializer):
    default_error_messages = {
        **serializers.ListSerializer.default_error_messages,
        "max_length": _(
            "Send at most {max_length} orders a request; split the list into several requests."
        ),
        "empty": _("The list is empty: send at least one order."),
        "not_a_list": _(
            "Send a JSON list of orders, one object per order (received {input_type})."
        ),
    }


class OrderSerializer(ApiModelSerializer):
    """An order on a marketplace, identified by (marketplace, external_id)."""

    marketplace = MarketplaceCodeField()
    shipments = ShipmentOfOrderSerializer(
        many=True,
        required=False,
        write_only=True,
        help_text="The order's parcels (carrier, tracking number): carrier scans received "
        "before for them are matched now.",
    )

    class Meta:
        model = Order
        fields: tuple[str, ...] = (
            "marketplace",
            "external_id",
            *ORDER_FIELDS,
            "shipments",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = ("created_at", "updated_at")
        # Upserts by (marketplace, external_id): an existing pair is an update, not an error.
        validators: list[Any] = []
        list_serializer_class = OrderListSerializer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The batch is partial (fields left out keep their value) but the key is always needed.
        missing = {
            name: [serializers.ErrorDetail(str(_("This field is required.")), code="required")]
            for name in ("marketplace", "external_id")
            if name not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class _Slow(Exception):
    """A value the light reader does not vouch for: DRF's fields read the list instead."""


_DECIMAL_TEXT = re.compile(r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$")


def _light_reader(field: serializers.Field) -> Callable[[Any], Any]:  # noqa: C901
    """A converter giving what ``field.run_validation`` gives for the plain, valid values an
    integration sends (an ISO time with its offset, a code among the choices, a short string),
    and raising ``_Slow`` for anything else, invalid or merely unusual. It never refuses: the
    refusals, and their words, stay DRF's."""
    nullable = field.allow_null
    if isinstance(field, MarketplaceCodeField):
        marketplaces = field.context.get("marketplaces", {})

        def marketplace(value: Any) -> Any:
            found = marketplaces.get(value) if type(value) is str else None
            if found is None:
                raise _Slow
            return found

        return marketplace
    if isinstance(field, serializers.DateTimeField):
        tz = field.timezone if hasattr(field, "timezone") else field.default_timezone()

        def moment(value: Any) -> Any:
            if value is None and nullable:
                return None
            if type(value) is not str:
                raise _Slow
            try:
                parsed = dt.datetime.fromisoformat(value)  # what parse_datetime tries first
            except ValueError:
                raise _Slow from None
            if parsed.tzinfo is None or tz is None:
                raise _Slow
            return parsed.astimezone(tz)

        return moment
    if isinstance(field, serializers.DateField):

        def day(value: Any) -> Any:
            if value is None and nullable:
                return None
            if type(value) is not str or len(value) != 10:
                raise _Slow
            try:
                parsed = dt.date.fromisoformat(value)
            except ValueError:
                raise _Slow from None
            if not PLAUSIBLE_DATES[0] <= parsed <= PLAUSIBLE_DATES[1]:
                raise _Slow
            return parsed

        return day
    if isinstance(field, serializers.ChoiceField):
        values = dict(field.choice_strings_to_values)
        if field.allow_blank:
            values[""] = ""

        def choice(value: Any) -> Any:
            if type(value) is not str or value not in values:
                raise _Slow
            return values[value]

        return choice
    if isinstance(field, serializers.BooleanField):

        def flag(value: Any) -> Any:
            if value is True or value is False or (value is None and nullable):
                return value
            raise _Slow

        return flag
    if isinstance(field, serializers.DecimalField) and field.decimal_places == 2:
        # Up to 10 digits before the point and 2 after: within max_digits 12, never negative.
        assert field.max_digits is not None and field.max_digits >= 12  # noqa: S101
        cents = Decimal("0.01")

        def amount(value: Any) -> Any:
            if type(value) is not str or not _DECIMAL_TEXT.match(value):
                raise _Slow
            return Decimal(value).quantize(cents)

        return amount
    if type(field) is serializers.CharField and field.trim_whitespace:
        longest = field.max_length or 0
        blank = field.allow_blank

        def text(value: Any) -> Any:
            if (
                type(value) is not str
                or len(value) > longest
                or (not value and not blank)
                or (value and (value[0].isspace() or value[-1].isspace()))
                or "\x00" in value
                or not (value.isascii() or _no_surrogates(value))
            ):
                raise _Slow
            return value

        return text
    # Anything else (an e-mail address, a type met for the first time): DRF's own field.
    return field.run_validation


def _no_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _light_read(data: Any, context: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The validated items of a list of orders in which every item is plainly valid, or None:
    then the list goes through ``order_batch_serializer`` for its errors, in DRF's words.

    The same values as the serializer's (``tests/api/test_orders_light_read.py``), at a tenth of
    its cost: DRF's per-item and per-field machinery is most of a 10,000-order import."""
    if type(data) is not list or not 0 < len(data) <= MAX_BATCH:
        return None
    serializer = OrderSerializer(context=context)
    fields = serializer.fields
    writable = {name: field for name, field in fields.items() if not field.read_only}
    readers = {name: _light_reader(field) for name, field in writable.items()}
    out = []
    try:
        for item in data:
            if type(item) is not dict or "marketplace" not in item or "external_id" not in item:
                return None
            out.append({name: readers[name](value) for name, value in item.items()})
    except (_Slow, KeyError, serializers.ValidationError, TypeError, OverflowError):
        # An unknown field (KeyError), a value DRF refuses or words differently: DRF reads.
        return None
    return out


def order_batch_validated(data: Any, context: dict[str, Any]) -> list[dict[str, Any]]:
    """What ``POST /api/v1/orders/`` validates, item by item: read lightly when every item is
    plainly valid, else by the serializer, whose ``ValidationError`` lists every problem."""
    light = _light_read(data, context)
    if light is not None:
        return light
    serializer = order_batch_serializer(data, context)
    serializer.is_valid(raise_exception=True)
    return list(serializer.validated_data)


def order_batch_serializer(data: Any, context: dict[str, Any]) -> OrderListSerializer:
    """The serializer of ``POST /api/v1/orders/``: a list of up to 10,000 orders; fields left
    out of an existing order keep their value (only new orders need ``placed_at``)."""
    return OrderSerializer(  # type: ignore[call-arg, return-value]  # many=True: the list
        data=data,
        many=True,
        partial=True,
        allow_empty=False,
        max_length=MAX_BATCH,
        context=context,
    )


class OrderBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Orders in the request.")
    created = serializers.IntegerField(help_text="New orders.")
    updated = serializers.IntegerField(help_text="Existing orders with at least one change.")
    unchanged = serializers.IntegerField(help_text="Existing orders sent with no change.")
    cases_recomputed = serializers.IntegerField(
        help_text="Open cases whose deadlines moved with their order's ship dates."
    )
