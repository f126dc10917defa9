"""Orders, read and written. Built from the model and ``cases.services.orders.ORDER_FIELDS``: a
field added to orders there is accepted and shown here without changing this file."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import Order
from cases.services.orders import ORDER_FIELDS
from cases.services.orders_bulk import MAX_BATCH

from ..fields import ApiModelSerializer, MarketplaceCodeField


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

    class Meta:
        model = Order
        fields: tuple[str, ...] = (
            "marketplace",
            "external_id",
            *ORDER_FIELDS,
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
