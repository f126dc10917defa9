"""Carrier tracking: scans (``POST /api/v1/tracking-events/``) and shipments
(``POST /api/v1/shipments/``), each a list imported all or nothing."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from cases.services.tracking import shipments_add_by_reference, tracking_events_import

from ..parsers import LimitedJSONParser
from ..serializers.tracking import (
    ShipmentBatchResultSerializer,
    ShipmentSerializer,
    TrackingBatchResultSerializer,
    TrackingEventSerializer,
    plain_scans,
    shipment_batch_serializer,
    tracking_batch_serializer,
)
from ..throttling import BulkImportThrottle, ClientRateThrottle
from .base import ApiGenericViewSet


class TrackingEventViewSet(ApiGenericViewSet):
    """Carrier scans of parcels."""

    serializer_class = TrackingEventSerializer
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ClientRateThrottle, BulkImportThrottle]

    @extend_schema(
        summary="Import carrier scans (up to 10,000)",
        description="A JSON list of scans, each identified by (carrier, tracking_number, "
        "carrier_event_id): sending one again changes nothing (the same id with another status "
        "or time is refused). All or nothing: if any item is invalid nothing is written and "
        "the problem lists every error with the item's `index` and `field`. A scan whose "
        "tracking number no shipment has is kept and matched when the shipment arrives "
        "(`POST /api/v1/shipments/` or the `shipments` of an order). Rules, per marketplace: "
        "`customs_hold` opens a customs_delay case (once per shipment) and e-mails the "
        "clearance steps; `customs_cleared` and `delivered` move it; the first scan ships an "
        "open late_shipment case; `returned_to_sender` marks a requested interception "
        "intercepted; `lost` flags the order. The order's `picked_up_at` and `delivered_at` "
        "come from the earliest pickup and delivery scans. Subscribers get `tracking.event`.",
        request=TrackingEventSerializer(many=True),
        responses={200: TrackingBatchResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = plain_scans(request.data)
        if items is None:
            serializer = tracking_batch_serializer(request.data, self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            items = serializer.validated_data
        result = tracking_events_import(items=items, marketplace_ids=self.marketplace_ids)
        return Response(TrackingBatchResultSerializer(result).data)


class ShipmentViewSet(ApiGenericViewSet):
    """Parcels of orders, by carrier and tracking number."""

    serializer_class = ShipmentSerializer
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ClientRateThrottle, BulkImportThrottle]

    @extend_schema(
        summary="Add shipments to orders (up to 10,000)",
        description="A JSON list of parcels, each naming its order by `marketplace` and "
        "`order` (the order's id on the marketplace). A tracking number belongs to one order "
        "per carrier. Scans received before for these tracking numbers are matched and their "
        "rules applied, at their own times. All or nothing, errors by `index`.",
        request=ShipmentSerializer(many=True),
        responses={200: ShipmentBatchResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = shipment_batch_serializer(request.data, self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        result = shipments_add_by_reference(items=serializer.validated_data)
        return Response(ShipmentBatchResultSerializer(result).data)
