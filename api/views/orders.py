"""Orders: bulk upsert (up to 10,000 a request, one transaction) and list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Order
from cases.services.orders_bulk import order_bulk_upsert

from ..filters import ApiFilterBackend, OrderFilter
from ..pagination import KeysetPagination
from ..parsers import LimitedJSONParser
from ..serializers.orders import OrderBatchResultSerializer, OrderSerializer, order_batch_validated
from ..throttling import BulkImportThrottle, ClientRateThrottle
from .base import ApiGenericViewSet


class OrderViewSet(mixins.ListModelMixin, ApiGenericViewSet):
    """Orders of the client's marketplaces."""

    serializer_class = OrderSerializer
    pagination_class = KeysetPagination
    filter_backends = [ApiFilterBackend]
    filterset_class = OrderFilter
    ordering_fields = ("placed_at", "updated_at")
    default_ordering = "-placed_at"
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ClientRateThrottle, BulkImportThrottle]

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no client
            return Order.objects.none()
        return Order.objects.filter(marketplace_id__in=self.marketplace_ids)

    @extend_schema(summary="List orders")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Import orders (create or update, up to 10,000)",
        description="A JSON list of orders, upserted by (marketplace, external_id) in one "
        "transaction. Fields left out of an existing order keep their value; a new order needs "
        "`placed_at`. If any item is invalid nothing is written and the problem lists every "
        "error with the item's `index` and `field`. Changing an order's promised ship date or "
        "shipment time recomputes the deadlines of its open late-shipment cases.",
        request=OrderSerializer(many=True),
        responses={200: OrderBatchResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = order_batch_validated(request.data, self.get_serializer_context())
        result = order_bulk_upsert(items=items)
        return Response(OrderBatchResultSerializer(result).data)
