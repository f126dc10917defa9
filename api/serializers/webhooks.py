"""Webhook subscriptions and deliveries as clients manage and inspect them."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from ..fields import ApiChoiceField, ApiModelSerializer
from ..models import (
    ALL_EVENTS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
)

EVENT_CHOICES = [ALL_EVENTS, *WebhookEventType.values]


def check_url(url: str) -> str:
    """http(s) only; a literal private address or localhost only where allowed (development)."""
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - parsing the host may fail too ("http://[::1")
    except ValueError as exc:
        raise serializers.ValidationError(_("This is not a valid URL.")) from exc
    if parts.scheme not in {"http", "https"}:
        raise serializers.ValidationError(_("Use an http or https URL."))
    if parts.username or parts.password:
        raise serializers.ValidationError(
            _("Do not put credentials in the URL: verify our signature instead.")
        )
    if settings.API_WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return url
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        raise serializers.ValidationError(_("The URL must reach a public address."))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked again when each request is sent
    if not address.is_global:
        raise serializers.ValidationError(_("The URL must reach a public address."))
    return url


def _url_validator(url: str) -> None:
    check_url(url)


class WebhookSubscriptionSerializer(ApiModelSerializer):
    url = serializers.URLField(max_length=500, validators=[_url_validator])
    event_types = serializers.ListField(
        child=ApiChoiceField(choices=EVENT_CHOICES),
        min_length=1,
        help_text='Event types to receive, or ["*"] for all of them.',
    )

    class Meta:
        model = WebhookSubscription
        fields: tuple[str, ...] = (
            "id",
            "url",
            "event_types",
            "is_active",
            "description",
            "created_at",
        )
        read_only_fields: tuple[str, ...] = ("id", "created_at")

    def validate_event_types(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))  # without repeats, in the order given


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_...): shown now and by rotate-secret only.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields: tuple[str, ...] = (*WebhookSubscriptionSerializer.Meta.fields, "secret")
        read_only_fields: tuple[str, ...] = (
            *WebhookSubscriptionSerializer.Meta.read_only_fields,
            "secret",
        )


class WebhookAttemptSerializer(ApiModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields: tuple[str, ...] = (
            "number",
            "replay",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "response_excerpt",
            "outcome",
        )
        read_only_fields: tuple[str, ...] = fields


class WebhookDeliverySerializer(ApiModelSerializer):
    event_id = serializers.UUIDField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields: tuple[str, ...] = (
            "id",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "retry_until",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "replayed_at",
            "created_at",
            "payload",
            "attempts",
        )
        read_only_fields: tuple[str, ...] = fields
