"""API clients and their keys, idempotency keys, webhook subscriptions and the webhook outbox.

An API client is an integration (a marketplace connector, the seller's ERP). It belongs to one or
more marketplaces and sees and touches only those. Its key is shown once and stored hashed.

Webhooks work as an outbox: when a case event is recorded, ONE row saying "event E happened"
(``WebhookEvent``) is written in the same transaction, with no reference to any subscription, so
that nothing a client does to its subscriptions can make another client's write fail. After the
commit, a django-q2 task (and a periodic catch-up, should the queue lose it) *expands* the event
into one ``WebhookDelivery`` per subscription active at that moment, sends them, logs every
attempt (``WebhookAttempt``) and retries on network errors and 5xx answers with exponential
backoff for at least 24 hours.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseEvent
from cases.rows import ModelColumns, fetch
from cases.workflows import (
    SUPERVISE_PLATFORM_RULING,
    SUPERVISE_REJECT_CLAIM,
    SUPERVISE_REJECT_REFUND,
    SUPERVISE_WITHDRAW,
)
from marketplaces.models import Marketplace

from . import keys

# The supervisor rights a client may be given, each a permission the case engine checks.
CLIENT_PERMISSION_FIELDS = {
    "may_reject_claims": SUPERVISE_REJECT_CLAIM,
    "may_reject_refunds": SUPERVISE_REJECT_REFUND,
    "may_withdraw_cases": SUPERVISE_WITHDRAW,
    "may_record_platform_rulings": SUPERVISE_PLATFORM_RULING,
}


class ApiClientQuerySet(models.QuerySet):
    def active(self) -> ApiClientQuerySet:
        return self.filter(revoked_at__isnull=True)

    def with_marketplaces(self, *, key_prefix: str) -> ApiClient | None:
        """The client holding ``key_prefix`` with its marketplaces loaded, in one query: every
        API request authenticates, and through the ORM (the links joined to the client and the
        marketplace, compiled and built per request) this read cost more than a whole list
        page's query. The client joined to its links and their marketplaces, one row per
        marketplace (one row with no marketplace for a client that has none), read as model
        instances by ``cases.rows``.

        Nothing is cached between requests: a revoked key is refused at its next request."""
        client_columns, marketplace_columns = _client_columns()
        quote = connection.ops.quote_name
        links = quote(ApiClient.marketplaces.through._meta.db_table)
        rows = fetch(
            f"SELECT {client_columns.select()}, {marketplace_columns.select()} "
            f"FROM {quote(ApiClient._meta.db_table)} a "
            f"LEFT JOIN {links} l ON l.apiclient_id = a.id "
            f"LEFT JOIN {quote(Marketplace._meta.db_table)} m ON m.id = l.marketplace_id "
            f"WHERE a.key_prefix = %s ORDER BY {marketplace_columns.order_by()}, l.id",
            [key_prefix],
        )
        if not rows:
            return None
        client = client_columns.instance(rows[0])
        marketplaces = (marketplace_columns.build(row, client_columns.count) for row in rows)
        client.__dict__["_marketplaces_by_code"] = {m.code: m for m in marketplaces if m}
        return client


@functools.cache
def _client_columns() -> tuple[ModelColumns[ApiClient], ModelColumns[Marketplace]]:
    return ModelColumns(ApiClient, "a"), ModelColumns(Marketplace, "m")


class ApiClient(models.Model):
    """An integration allowed to call the REST API for the marketplaces it belongs to."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    marketplaces = models.ManyToManyField(
        Marketplace,
        related_name="api_clients",
        verbose_name=_("marketplaces"),
        help_text=_("The client sees and changes only the cases and orders of these."),
    )
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, editable=False)
    may_reject_claims = models.BooleanField(_("may reject claims"), default=False)
    may_reject_refunds = models.BooleanField(_("may reject refund requests"), default=False)
    may_withdraw_cases = models.BooleanField(_("may withdraw cases"), default=False)
    may_record_platform_rulings = models.BooleanField(
        _("may record platform rulings"), default=False
    )
    may_handle_personal_data = models.BooleanField(
        _("may export and erase personal data"),
        default=False,
        help_text=_("Customers' requests about their data (/api/v1/personal-data/)."),
    )
    throttle_rate = models.CharField(
        _("request rate limit"),
        max_length=20,
        blank=True,
        help_text=_("For example 600/min or 20/s. Empty: the default of the deployment."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF and Django treat ``request.user`` as authenticated when this is true.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset(
            perm for field, perm in CLIENT_PERMISSION_FIELDS.items() if getattr(self, field)
        )

    def marketplaces_by_code(self) -> dict[str, Marketplace]:
        """The client's marketplaces by code (one query, then kept on the instance)."""
        cached = self.__dict__.get("_marketplaces_by_code")
        if cached is None:
            cached = {m.code: m for m in self.marketplaces.all()}
            self.__dict__["_marketplaces_by_code"] = cached
        return cached

    def marketplace_ids(self) -> frozenset[int]:
        return frozenset(m.pk for m in self.marketplaces_by_code().values())

    def set_new_key(self) -> str:
        """Give the client a new key (the old one stops working once saved); returns the key,
        which is never stored and cannot be shown again."""
        key, prefix = keys.generate()
        self.key_prefix = prefix
        self.key_hash = keys.digest(key)
        return key

    def clean(self) -> None:
        if self.throttle_rate:
            from .throttling import parse_rate

            try:
                parse_rate(self.throttle_rate)
            except ValueError as exc:
                raise ValidationError({"throttle_rate": str(exc)}) from exc


class IdempotencyKey(models.Model):
    """A POST made with an ``Idempotency-Key`` header and the answer it got: the same key sent
    again by the same client replays the answer instead of doing the work twice."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="api_idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"


class WebhookEventType(models.TextChoices):
    """Events a client can subscribe to; values are part of the API contract."""

    CASE_CREATED = "case.created", _("Case created")
    CASE_TRANSITIONED = "case.transitioned", _("Case transitioned")
    EVIDENCE_ADDED = "evidence.added", _("Evidence added")
    REFUND_DECIDED = "refund.decided", _("Refund decided")
    DEADLINE_AT_RISK = "deadline.at_risk", _("Deadline at risk")
    DEADLINE_MISSED = "deadline.missed", _("Deadline missed")
    DEADLINES_CHANGED = "case.deadlines_changed", _("Case deadlines recomputed")
    # A reply entered the outbox: push connectors send it (``api.webhooks.messages``).
    MESSAGE_OUTBOUND = "message.outbound", _("Reply to send")
    # A carrier scan of a parcel of a known order (``api.webhooks.tracking``).
    TRACKING_EVENT = "tracking.event", _("Carrier tracking event")


ALL_EVENTS = "*"


def new_webhook_secret() -> str:
    """A signing secret in the Standard Webhooks format (``whsec_`` + base64 of 32 bytes)."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_event_types(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(
            _('Give a list of event types, or ["*"] for all of them.'), code="invalid"
        )
    allowed = {*WebhookEventType.values, ALL_EVENTS}
    unknown = [item for item in value if item not in allowed]
    if unknown:
        raise ValidationError(
            _("Unknown event types: %(unknown)s. Known: %(known)s."),
            params={
                "unknown": ", ".join(map(str, unknown)),
                "known": ", ".join(WebhookEventType.values),
            },
            code="invalid_choice",
        )


class WebhookSubscription(models.Model):
    """A URL of a client that receives some event types of the client's marketplaces."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(_("URL"), max_length=500)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        validators=[validate_event_types],
        help_text=_('A list such as ["case.created", "refund.decided"], or ["*"] for all.'),
    )
    secret = models.CharField(_("signing secret"), max_length=80, default=new_webhook_secret)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["client", "pk"]

    def __str__(self) -> str:
        return f"{self.client} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class WebhookEvent(models.Model):
    """One event as sent to receivers; ``event_id`` lets a receiver drop duplicates."""

    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(_("type"), max_length=32, choices=WebhookEventType.choices)
    # Empty for events about no case (a reply in a conversation filed on no case).
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    case_event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the worker turned the event into deliveries (empty: still in the outbox).
    expanded_at = models.DateTimeField(_("expanded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(expanded_at__isnull=True),
                name="api_webhook_event_unexpanded",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # not sent yet, or waiting for its next attempt
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")  # gave up: a 4xx answer, or retries ran out


class WebhookDelivery(models.Model):
    """Sending one event to one subscription, over as many attempts as it takes."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    # No database constraint: a worker expanding an event may write a delivery for a
    # subscription deleted a moment before, and a constraint checked at commit would then make
    # the deletion (or the expansion) fail. Deleting a subscription still deletes its
    # deliveries (Django's cascade); a delivery left without one is dropped when it is due.
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Retries stop once an attempt fails after this moment (first queued + the retry window).
    retry_until = models.DateTimeField(_("retry until"))
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replayed_at = models.DateTimeField(_("last replayed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="api_delivery_once_per_subscription"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="api_pending_delivery_has_next_attempt",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="api_delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.url} ({self.get_status_display()})"

    @classmethod
    def window(cls) -> dt.timedelta:
        from django.conf import settings

        return dt.timedelta(seconds=settings.API_WEBHOOK_RETRY_SECONDS)


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Failed, will retry")
    FAILED = "failed", _("Failed, gave up")


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(_("number"))
    replay = models.BooleanField(_("replay"), default=False)
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AttemptOutcome.choices)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="api_attempt_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.get_outcome_display()}"
