"""Orders: the marketplace orders cases are about, and the rules every door checks on them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplaces.models import Marketplace

from ..choices import (
    CancellationReason,
    ClaimOutcome,
    FulfilmentChannel,
    OrderCanceller,
    ShippingScope,
)

CUSTOMER_LANGUAGES = [("en", "English"), ("fr", "Français"), ("zh-hans", "简体中文")]

# Dates an order or a query may name: wide enough for any real history and plan, narrow enough
# that deadline arithmetic never leaves the calendar (year 1 to 9999).
PLAUSIBLE_DATES = (dt.date(1970, 1, 1), dt.date(2100, 12, 31))


# Times of things that happened, never in the future (a promised date is a forecast).
HAPPENED_TIME_FIELDS = (
    "placed_at",
    "shipped_at",
    "picked_up_at",
    "delivered_at",
    "last_tracking_event_at",
    "accepted_at",
    "cancelled_at",
    "a_to_z_claim_at",
    "chargeback_at",
    "negative_feedback_at",
)


def shipping_scope_for(marketplace: Marketplace, destination_country: str) -> ShippingScope:
    """Domestic when the parcel stays in the marketplace's home country; a cross-border
    marketplace ships internationally whatever the address says."""
    if marketplace.cross_border:
        return ShippingScope.INTERNATIONAL
    home = (marketplace.home_country or marketplace.calendar_country or "").upper()
    if destination_country and home and destination_country.upper() != home:
        return ShippingScope.INTERNATIONAL
    return ShippingScope.DOMESTIC


class Order(models.Model):
    """A marketplace order that one or more cases are about."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(_("order id on the marketplace"), max_length=100)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    customer_email = models.EmailField(_("customer e-mail"), blank=True)
    customer_language = models.CharField(
        _("customer language"), max_length=10, choices=CUSTOMER_LANGUAGES, default="en"
    )
    placed_at = models.DateTimeField(_("placed at"))
    promised_ship_date = models.DateField(_("promised ship date"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up by the carrier at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # The latest carrier scan: Tmall's abnormal-logistics rate flags a parcel with no scan for
    # too long (filled from the carrier's tracking events).
    last_tracking_event_at = models.DateTimeField(_("last carrier scan at"), null=True, blank=True)
    destination_country = models.CharField(_("destination country"), max_length=2, blank=True)
    shipping_scope = models.CharField(
        _("shipping scope"),
        max_length=16,
        choices=ShippingScope.choices,
        default=ShippingScope.DOMESTIC,
    )
    total = models.DecimalField(
        _("total"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    # What the marketplace scorecards read (Amazon account health, Faire, Tmall logistics).
    accepted_at = models.DateTimeField(
        _("accepted by the seller at"),
        null=True,
        blank=True,
        help_text=_("When the seller accepted the order (Faire); empty where orders need none."),
    )
    fulfilled_by = models.CharField(
        _("fulfilled by"),
        max_length=16,
        choices=FulfilmentChannel.choices,
        default=FulfilmentChannel.SELLER,
        help_text=_("Orders the marketplace ships itself are left out of shipping metrics."),
    )
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    tracking_valid = models.BooleanField(
        _("tracking valid"),
        null=True,
        blank=True,
        help_text=_(
            "The marketplace's verdict on the tracking number; when empty, a tracking number "
            "with a carrier scan (picked up) counts as valid."
        ),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(
        _("cancelled by"), max_length=16, choices=OrderCanceller.choices, blank=True
    )
    cancellation_reason = models.CharField(
        _("cancellation reason"), max_length=32, choices=CancellationReason.choices, blank=True
    )
    cancellation_controllable = models.BooleanField(
        _("cancellation controllable by the seller"),
        null=True,
        blank=True,
        help_text=_(
            "Leave empty to decide from the reason: wrong price, out of stock, lead time and "
            "expiry always count; too small an order, a destination not served or another "
            "reason of the seller count once the order was accepted."
        ),
    )
    a_to_z_claim_at = models.DateTimeField(
        _("guarantee claim at"),
        null=True,
        blank=True,
        help_text=_("When the customer filed an A-to-z Guarantee (or similar) claim."),
    )
    a_to_z_claim_outcome = models.CharField(
        _("guarantee claim outcome"), max_length=20, choices=ClaimOutcome.choices, blank=True
    )
    chargeback_at = models.DateTimeField(_("chargeback at"), null=True, blank=True)
    negative_feedback_at = models.DateTimeField(
        _("negative feedback at"),
        null=True,
        blank=True,
        help_text=_("When the customer left negative seller feedback (1 or 2 stars)."),
    )
    parcel_lost = models.BooleanField(
        _("parcel lost or stolen"),
        default=False,
        help_text=_("The whole parcel was lost or stolen in transit."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="order_unique_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["marketplace", "placed_at"], name="order_mkt_placed"),
            models.Index(fields=["marketplace", "promised_ship_date"], name="order_mkt_promised"),
            models.Index(fields=["marketplace", "shipped_at"], name="order_mkt_shipped"),
            models.Index(fields=["marketplace", "delivered_at"], name="order_mkt_delivered"),
            # Tmall's abnormal-logistics clock (the last scan, or the pickup, plus the silence
            # allowed): a scorecard finds the orders it flipped since the facts were computed.
            models.Index(
                F("marketplace"),
                Coalesce("last_tracking_event_at", "picked_up_at"),
                name="order_mkt_last_scan",
            ),
            # The admin's search (workspace.search): an order id or an e-mail pasted by an agent.
            # (On PostgreSQL a trigram index on the customer name is added by migration
            # 0005_workspace_indexes, outside the model state: it needs the pg_trgm extension.)
            models.Index(fields=["external_id"], name="order_external_id"),
            models.Index(Upper("customer_email"), name="order_email_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.marketplace.code}:{self.external_id}"

    @property
    def is_domestic(self) -> bool:
        return self.shipping_scope == ShippingScope.DOMESTIC

    def clean(self) -> None:
        errors = self.rule_errors(now=timezone.now())
        if errors:
            raise ValidationError(errors)

    def rule_errors(self, *, now: dt.datetime) -> dict[str, Any]:
        """Every rule an order must meet, by field; the single path, the bulk import, the admin
        and the API all check an order through ``full_clean``, which calls this."""
        errors: dict[str, Any] = {}
        for name in HAPPENED_TIME_FIELDS:
            moment = getattr(self, name)
            if isinstance(moment, dt.datetime) and timezone.is_aware(moment) and moment > now:
                errors[name] = ValidationError(
                    _("%(moment)s is in the future; give the time it really happened.")
                    % {"moment": moment.isoformat()},
                    code="occurred_in_future",
                )
        cancellation = (self.cancelled_by, self.cancellation_reason)
        if self.cancelled_at is None and any(cancellation):
            errors["cancelled_at"] = _("Give the time of the cancellation.")
        if self.cancelled_at is not None and self.placed_at and self.cancelled_at < self.placed_at:
            errors["cancelled_at"] = _("An order cannot be cancelled before it was placed.")
        if self.a_to_z_claim_outcome and self.a_to_z_claim_at is None:
            errors["a_to_z_claim_at"] = _("Give the time the claim was filed.")
        if self.shipped_at and self.placed_at and self.shipped_at < self.placed_at:
            errors["shipped_at"] = _("An order cannot ship before it was placed.")
        if self.promised_ship_date is not None and not (
            PLAUSIBLE_DATES[0] <= self.promised_ship_date <= PLAUSIBLE_DATES[1]
        ):
            # Deadlines are counted from it: a date near year 9999 would overflow.
            errors["promised_ship_date"] = _("Give a date between %(first)s and %(last)s.") % {
                "first": PLAUSIBLE_DATES[0],
                "last": PLAUSIBLE_DATES[1],
            }
        return errors

    def derive_shipping_scope(self) -> None:
        """Set ``shipping_scope`` from the destination: an order leaving the marketplace's home
        country is international (a cross-border marketplace such as Tmall Global: always)."""
        self.shipping_scope = shipping_scope_for(self.marketplace, self.destination_country)

    def late_since(self, days: int) -> dt.datetime | None:
        """The moment the order becomes ``days`` calendar days late (marketplace's midnight)."""
        if self.promised_ship_date is None:
            return None
        day = self.promised_ship_date + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.marketplace.tz).astimezone(dt.UTC)
