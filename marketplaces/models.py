"""Marketplaces: the rules and the calendar each case is worked under."""

from __future__ import annotations

import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not a known time zone (use a name such as Europe/Paris)."),
            params={"value": value},
            code="unknown_time_zone",
        ) from exc


def validate_country(value: str) -> None:
    import holidays

    if value.upper() not in holidays.list_supported_countries():
        raise ValidationError(
            _("No public-holiday calendar is known for country %(value)s."),
            params={"value": value},
            code="unknown_country",
        )


class FirstResponseUnit(models.TextChoices):
    SECONDS = "seconds", _("seconds")
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class ResponseCounting(models.TextChoices):
    # The clock runs all the time: weekends and holidays included (Amazon).
    CALENDAR_TIME = "calendar_time", _("calendar time")
    # The clock only runs on working days (whole days): 48 business hours from a Friday 15:00
    # end on the Tuesday 15:00 (Cdiscount).
    BUSINESS_HOURS = "business_hours", _("business hours")
    # Day 1 is the first working day after receipt; due at the end of day N (Faire).
    BUSINESS_DAYS = "business_days", _("business days")


class Channel(models.TextChoices):
    CHAT = "chat", _("chat")
    EMAIL = "email", _("e-mail")
    PORTAL = "portal", _("seller portal")
    NONE = "none", _("none (the marketplace answers)")


class ResponseScope(models.TextChoices):
    """Which received messages run a response clock."""

    # Every message of the counterpart needs its own answer in time (Amazon).
    EVERY_MESSAGE = "every_message", _("every message")
    # Only the message that opens a conversation is timed (Faire: a retailer's first message).
    FIRST_MESSAGE = "first_message", _("first message of a conversation only")


class ResponseFrom(models.TextChoices):
    """Whose messages the seller must answer."""

    # Customers and retailers (and the platform's own questions).
    COUNTERPARTS = "counterparts", _("customers, retailers and the platform")
    # The marketplace answers customers itself; the seller only answers its questions (Spartoo).
    PLATFORM_ONLY = "platform_only", _("the platform's own questions only")


class Mediation(models.TextChoices):
    SELLER_HANDLES = "seller_handles", _("seller handles")
    PLATFORM_MEDIATES = "platform_mediates", _("platform mediates")
    PLATFORM_HANDLES = "platform_handles", _("platform handles")


class Marketplace(models.Model):
    """A sales channel with its own calendar, deadlines and customer-service rules."""

    code = models.SlugField(
        _("code"),
        max_length=32,
        unique=True,
        help_text=_("Stable identifier used by integrations and commands, e.g. tmall."),
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    calendar_country = models.CharField(
        _("calendar country"),
        max_length=2,
        validators=[validate_country],
        help_text=_("ISO country code whose public holidays apply, e.g. CN or FR."),
    )
    home_country = models.CharField(
        _("home country"),
        max_length=2,
        blank=True,
        help_text=_(
            "Orders shipped elsewhere are international; empty means the calendar country."
        ),
    )
    cross_border = models.BooleanField(
        _("cross-border marketplace"),
        default=False,
        help_text=_("Every order ships internationally (e.g. Tmall Global)."),
    )
    calendar_subdivision = models.CharField(
        _("calendar subdivision"),
        max_length=10,
        blank=True,
        help_text=_("Optional region with its own holidays, e.g. 57 for Moselle."),
    )
    resolution_business_days = models.PositiveSmallIntegerField(
        _("resolution business days"),
        default=15,
        help_text=_("Business days to reship or refund once a claim is confirmed."),
    )
    evidence_wait_business_days = models.PositiveSmallIntegerField(
        _("evidence wait (business days)"),
        default=5,
        help_text=_("How long a customer has to send photos or videos once asked."),
    )
    at_risk_business_days = models.PositiveSmallIntegerField(
        _("at risk within (business days)"),
        default=2,
        help_text=_("A deadline this close is shown as at risk."),
    )
    first_response_amount = models.PositiveIntegerField(
        _("first response within"),
        null=True,
        blank=True,
        help_text=_("Leave empty when the seller does not answer customers on this channel."),
    )
    first_response_unit = models.CharField(
        _("first response unit"),
        max_length=16,
        choices=FirstResponseUnit.choices,
        default=FirstResponseUnit.HOURS,
    )
    first_response_counting = models.CharField(
        _("first response counting"),
        max_length=16,
        choices=ResponseCounting.choices,
        default=ResponseCounting.CALENDAR_TIME,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    mediation = models.CharField(
        _("mediation"),
        max_length=20,
        choices=Mediation.choices,
        default=Mediation.SELLER_HANDLES,
    )
    attachments_allowed = models.BooleanField(_("attachments allowed in messages"), default=True)
    html_allowed = models.BooleanField(_("HTML allowed in messages"), default=True)
    # -- conversations (docs/domain.md §8) --------------------------------------------------------
    response_scope = models.CharField(
        _("messages timed"),
        max_length=16,
        choices=ResponseScope.choices,
        default=ResponseScope.EVERY_MESSAGE,
        help_text=_("Every received message runs its own response clock, or only the first one."),
    )
    response_from = models.CharField(
        _("messages to answer"),
        max_length=16,
        choices=ResponseFrom.choices,
        default=ResponseFrom.COUNTERPARTS,
        help_text=_("Where the marketplace answers customers itself, only its own questions."),
    )
    response_goal_seconds = models.PositiveIntegerField(
        _("best-score answer within (seconds)"),
        null=True,
        blank=True,
        help_text=_(
            "An answer this fast scores best (Tmall: 30 s); the clock is at risk from here. "
            "Empty: at risk once the share below of the time allowed is used."
        ),
    )
    response_at_risk_percent = models.PositiveSmallIntegerField(
        _("message clock at risk from (percent of the time allowed)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    seller_may_write_first = models.BooleanField(
        _("the seller may start a conversation"),
        default=True,
        help_text=_("Off: the marketplace takes only replies to the counterpart's messages."),
    )
    max_message_length = models.PositiveIntegerField(
        _("longest message (characters)"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    send_replies_by_email = models.BooleanField(
        _("the system e-mails replies itself"),
        default=False,
        help_text=_(
            "Replies go to the counterpart's relay address through the configured e-mail "
            "backend (Amazon's buyer-seller messages) instead of waiting for a connector."
        ),
    )
    # -- decision clocks on cases (assumptions where the marketplace publishes none) ---------
    evidence_review_business_days = models.PositiveSmallIntegerField(
        _("evidence review within (business days)"),
        null=True,
        blank=True,
        help_text=_("Time to review the evidence of a case under review. Empty: no clock."),
    )
    refund_decision_business_days = models.PositiveSmallIntegerField(
        _("refund decision within (business days)"),
        null=True,
        blank=True,
        help_text=_("Time to decide a customer's refund request. Empty: no clock."),
    )
    return_response_hours = models.PositiveSmallIntegerField(
        _("return request answer within (hours)"),
        null=True,
        blank=True,
        help_text=_("Calendar hours, weekends included (Amazon: 48). Empty: no clock."),
    )
    # -- carrier tracking (``cases.services.tracking``): each rule can be switched off -------
    tracking_opens_customs_cases = models.BooleanField(
        _("a customs hold opens a customs-delay case"),
        default=True,
        help_text=_("Once per shipment, and the clearance steps are e-mailed to the customer."),
    )
    tracking_clears_customs_cases = models.BooleanField(
        _("customs clearance moves the customs-delay case to cleared"), default=True
    )
    tracking_delivers_customs_cases = models.BooleanField(
        _("delivery moves the customs-delay case to delivered"), default=True
    )
    tracking_ships_late_cases = models.BooleanField(
        _("the first carrier scan moves a late-shipment case to shipped"), default=True
    )
    tracking_confirms_interceptions = models.BooleanField(
        _("returned to sender marks a requested interception intercepted"), default=True
    )
    tracking_flags_lost_parcels = models.BooleanField(
        _("a lost parcel flags its order for a missing-item case"),
        default=True,
        help_text=_("Staff decide whether to open the case; the order is marked lost."),
    )
    # -- dispute packs (``cases.packs``) ----------------------------------------------------
    pack_max_embedded_video_mb = models.PositiveIntegerField(
        _("largest video put in a dispute pack (MB)"),
        default=100,
        help_text=_(
            "A larger video is listed in the pack by its SHA-256 instead of being included "
            "(assumption: what the marketplace's dispute form accepts)."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    # A fresh value whenever the calendar's inputs change; calendar caches are keyed on it. Not a
    # counter: a value given out in a transaction that rolled back must never come back.
    calendar_version = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("marketplace")
        verbose_name_plural = _("marketplaces")

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        unit, counting = self.first_response_unit, self.first_response_counting
        if counting == ResponseCounting.BUSINESS_DAYS and unit != FirstResponseUnit.DAYS:
            errors["first_response_unit"] = ValidationError(
                _("Business-day counting needs the unit 'days'."), code="unit_mismatch"
            )
        if counting == ResponseCounting.BUSINESS_HOURS and unit == FirstResponseUnit.DAYS:
            errors["first_response_unit"] = ValidationError(
                _("Business-hour counting needs seconds, minutes or hours."),
                code="unit_mismatch",
            )
        if self.calendar_country:
            self.calendar_country = self.calendar_country.upper()
        if self.home_country:
            self.home_country = self.home_country.upper()
        if errors:
            raise ValidationError(errors)


class CalendarExceptionKind(models.TextChoices):
    CLOSED = "closed", _("closed (not a working day)")
    WORKING = "working", _("extra working day")


class CalendarException(models.Model):
    """A day the seller itself closes (warehouse closed) or opens (extra working day)."""

    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.CASCADE, related_name="calendar_exceptions"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarExceptionKind.choices)
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "date"], name="calendar_exception_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"
