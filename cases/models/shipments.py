"""Shipments (the parcels of an order, by carrier and tracking number) and the carrier's tracking
events. Events are kept even when their tracking number is not known yet: they are matched when
the shipment arrives (``cases.services.tracking``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import TrackingStatus
from .cases import Case
from .orders import Order


class Shipment(models.Model):
    """One parcel of an order, as the carrier knows it (carrier, tracking number)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=64)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    # The customs-delay case a customs hold opened (or found) for this parcel: one per shipment.
    customs_case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customs-delay case"),
    )
    # When the carrier declared the parcel lost: the order is flagged, staff decide on a case.
    lost_at = models.DateTimeField(_("declared lost at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_unique_tracking"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(models.Model):
    """One scan of a parcel reported by its carrier, in the normalised vocabulary. Written once
    (the carrier's event id makes a replay harmless); ``shipment`` is filled when known."""

    carrier = models.CharField(_("carrier"), max_length=64)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    carrier_event_id = models.CharField(_("carrier's event id"), max_length=128)
    status = models.CharField(_("status"), max_length=24, choices=TrackingStatus.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    raw_text = models.TextField(_("carrier's text"), blank=True)
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("shipment"),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # The import that wrote the row: after an INSERT ... ON CONFLICT DO NOTHING it tells which
    # rows this import brought (and so whose rules it must apply), even under concurrency.
    import_batch = models.UUIDField(default=uuid.uuid4, editable=False, db_index=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["occurred_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number", "carrier_event_id"],
                name="tracking_event_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TrackingStatus.values), name="tracking_event_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["shipment", "occurred_at"], name="tracking_event_shipment"),
            # Events waiting for their shipment, found when it arrives.
            models.Index(
                fields=["carrier", "tracking_number"],
                condition=Q(shipment__isnull=True),
                name="tracking_event_unmatched",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number} {self.status} {self.occurred_at:%Y-%m-%d}"
