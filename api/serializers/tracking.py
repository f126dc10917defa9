"""Carrier scans and shipments, as integrations send them (``POST /api/v1/tracking-events/``,
``POST /api/v1/shipments/``, and the ``shipments`` of an order in the order import)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.models import Shipment, TrackingEvent
from cases.services.tracking import EVENT_FIELDS, MAX_BATCH

from ..fields import ApiModelSerializer, MarketplaceCodeField
from .base import InputSerializer


class ShipmentOfOrderSerializer(InputSerializer):
    """A parcel of the order: the carrier and its tracking number (unique per carrier)."""

    carrier = serializers.CharField(max_length=64, help_text="The carrier, e.g. SF Express.")
    tracking_number = serializers.CharField(max_length=64)


class ShipmentSerializer(ShipmentOfOrderSerializer):
    """A parcel of an order already imported, named by marketplace and order id."""

    marketplace = MarketplaceCodeField()
    order = serializers.CharField(max_length=100, help_text="The order's id on the marketplace.")


class _BatchListSerializer(serializers.ListSerializer):
    what = "items"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages.update(
            {
                "max_length": _(
                    "Send at most {max_length} %(what)s a request; split the list into several "
                    "requests."
                )
                % {"what": self.what},
                "empty": _("The list is empty: send at least one."),
                "not_a_list": _("Send a JSON list, one object per item (received {input_type})."),
            }
        )


class TrackingEventListSerializer(_BatchListSerializer):
    what = "events"


class ShipmentListSerializer(_BatchListSerializer):
    what = "shipments"


class TrackingEventSerializer(ApiModelSerializer):
    """One scan of a parcel, in the normalised vocabulary of ``status``; identified by
    (carrier, tracking_number, carrier_event_id): sending it again changes nothing."""

    class Meta:
        model = TrackingEvent
        fields = EVENT_FIELDS
        extra_kwargs = {
            "carrier_event_id": {"help_text": "The carrier's own id of this scan."},
            "occurred_at": {
                "help_text": "When the scan happened, with its offset; not later than now."
            },
            "raw_text": {"help_text": "The carrier's text of the scan, as it gave it."},
        }
        # Replays are expected: the service tells a replay from a conflict, not DRF.
        validators: list[Any] = []
        list_serializer_class = TrackingEventListSerializer


_TEXT_FIELDS = frozenset(EVENT_FIELDS) - {"occurred_at"}
_REQUIRED = frozenset({"carrier", "tracking_number", "carrier_event_id", "status", "occurred_at"})


def plain_scans(data: Any) -> list[dict[str, Any]] | None:
    """The scans of a well-formed body, read without DRF (a 5,000-scan list spends most of its
    time in per-field serializer calls otherwise), or None when anything is unusual: then the
    serializer reads it and words every problem as for any other body. Values are only parsed
    here; the service checks them all (lengths, statuses, times) either way."""
    if not isinstance(data, list) or not data or len(data) > MAX_BATCH:
        return None
    out = []
    for item in data:
        if not isinstance(item, dict) or not _REQUIRED <= item.keys() <= set(EVENT_FIELDS):
            return None
        texts = [item[name] for name in item.keys() & _TEXT_FIELDS]
        if not all(isinstance(text, str) and "\x00" not in text for text in texts):
            return None
        raw = item["occurred_at"]
        if not isinstance(raw, str):
            return None
        try:
            moment = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        out.append({**item, "occurred_at": moment})
    return out


def tracking_batch_serializer(data: Any, context: dict[str, Any]) -> TrackingEventListSerializer:
    return TrackingEventSerializer(  # type: ignore[call-arg, return-value]  # many=True: the list
        data=data, many=True, allow_empty=False, max_length=MAX_BATCH, context=context
    )


def shipment_batch_serializer(data: Any, context: dict[str, Any]) -> ShipmentListSerializer:
    child = ShipmentSerializer(context=context)
    return ShipmentListSerializer(
        child=child, data=data, allow_empty=False, max_length=MAX_BATCH, context=context
    )


class TrackingBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Events in the request.")
    created = serializers.IntegerField(help_text="Events recorded now.")
    unchanged = serializers.IntegerField(help_text="Events received before (replays).")
    matched = serializers.IntegerField(help_text="New events of a known shipment: rules applied.")
    unmatched = serializers.IntegerField(
        help_text="New events of a tracking number no shipment has yet: kept, and matched when "
        "the shipment arrives."
    )
    cases_changed = serializers.IntegerField(help_text="Cases the events moved or annotated.")


class ShipmentBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField(help_text="New shipments.")
    unchanged = serializers.IntegerField(help_text="Shipments the order had already.")
    events_matched = serializers.IntegerField(
        help_text="Events received before their shipment, matched now (their rules applied)."
    )
    cases_changed = serializers.IntegerField()


class ShipmentReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ("carrier", "tracking_number", "lost_at", "created_at")
