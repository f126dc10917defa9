"""Sending webhook deliveries: one attempt at a time, logged, retried with exponential backoff.

An attempt first *claims* its delivery with one conditional UPDATE (pending, due, not claimed by
another worker: the claim pushes ``next_attempt_at`` a few minutes ahead), so a delivery queued
twice (the first enqueue and the periodic sweep) is never sent twice at once, and a worker that
dies mid-attempt leaves a delivery the sweep picks up again once the claim lapses.

Retries: network errors, timeouts, 408, 429 and 5xx answers are retried after 30 s, 1 min,
2 min... doubling up to 4 h (each ±10 %; a longer ``Retry-After`` is honoured), as long as the
attempt happened before ``retry_until`` (queued + 24 h by default): a delivery is retried for at
least 24 hours. Other answers (3xx, 4xx) fail at once: the receiver said no.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from ..models import AttemptOutcome, DeliveryStatus, WebhookAttempt, WebhookDelivery
from . import signing

CLAIM = dt.timedelta(minutes=5)
RETRYABLE_STATUSES = {408, 425, 429}
USER_AGENT = "aftersales-webhooks/1"
EXCERPT_BYTES = 1000


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    error: str
    excerpt: str
    retry_after: int | None
    duration_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A receiver's redirect is not followed: the signed request goes where it was subscribed.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect())


def backoff(attempt_number: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """Wait after the ``attempt_number``-th failed attempt (1-based)."""
    base = settings.API_WEBHOOK_BACKOFF_BASE_SECONDS
    cap = settings.API_WEBHOOK_BACKOFF_MAX_SECONDS
    seconds = min(base * 2 ** (attempt_number - 1), cap)
    jitter = (rng or random).uniform(0.9, 1.1)
    return dt.timedelta(seconds=seconds * jitter)


def address_refusal(url: str) -> str:
    """Why ``url`` may not be called (it resolves to a loopback, private or link-local
    address: a client must not make this server probe its own network), or ""."""
    if settings.API_WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return ""  # the request itself will fail and be retried: DNS may be back later
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return f"{host} resolves to {address}, a non-public address"
    return ""


def post(url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
    # Subscription URLs are refused unless http(s) when saved (serializers.webhooks).
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    started = time.monotonic()
    status: int | None = None
    error = excerpt = ""
    retry_after: int | None = None
    try:
        with _opener.open(request, timeout=settings.API_WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:  # an answer, just not a 2xx one
        status = exc.code
        retry_after = _seconds(exc.headers.get("Retry-After"))
        try:
            excerpt = exc.read(EXCERPT_BYTES).decode("utf-8", "replace")
        except OSError:
            excerpt = ""
        finally:
            exc.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        error = f"{type(reason).__name__}: {reason}"[:1000]
    duration_ms = int((time.monotonic() - started) * 1000)
    return HttpResult(status, error, excerpt, retry_after, duration_ms)


def _seconds(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value else None
    except ValueError:
        return None


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(
        delivery.event.payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + CLAIM)
    )


def delivery_attempt(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookAttempt | None:
    """Make the next attempt of a due delivery; None if it is not due (or another worker has
    it). ``now`` is the scheduling clock (tests move it forward instead of sleeping)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = (
        WebhookDelivery.objects.select_related("event", "subscription")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        # Its subscription was deleted while the event was being expanded (the delivery has
        # no database constraint on it, see the model): nobody to send it to.
        WebhookDelivery.objects.filter(pk=delivery_id).delete()
        return None
    subscription = delivery.subscription
    body = body_of(delivery)
    number = delivery.attempt_count + 1
    refusal = address_refusal(subscription.url) if subscription.is_active else "subscription off"
    if refusal:
        result = HttpResult(None, refusal, "", None, 0)
    else:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Aftersales-Event-Type": delivery.event.event_type,
            "Aftersales-Delivery": str(delivery.pk),
            "Aftersales-Attempt": str(number),
            **signing.signed_headers(
                subscription.secret, msg_id=str(delivery.event.event_id), body=body
            ),
        }
        result = post(subscription.url, body, headers)
    return _record(delivery, number, now, result, permanent=bool(refusal))


def _record(
    delivery: WebhookDelivery,
    number: int,
    now: dt.datetime,
    result: HttpResult,
    *,
    permanent: bool,
) -> WebhookAttempt | None:
    status = result.status
    delivered = status is not None and 200 <= status < 300
    retryable = not permanent and (status is None or status >= 500 or status in RETRYABLE_STATUSES)
    if delivered:
        outcome = AttemptOutcome.DELIVERED
    elif retryable and now < delivery.retry_until:
        outcome = AttemptOutcome.RETRY
    else:
        outcome = AttemptOutcome.FAILED
    with transaction.atomic():
        # Locked first, as a deletion of its subscription locks it (``subscriptions``): if it
        # was deleted while the request was out, there is nothing left to record.
        if not WebhookDelivery.objects.select_for_update().filter(pk=delivery.pk).exists():
            return None
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            replay=delivery.replayed_at is not None,
            started_at=now,
            duration_ms=result.duration_ms,
            status_code=status,
            error=result.error,
            response_excerpt=result.excerpt,
            outcome=outcome,
        )
        delivery.attempt_count = number
        delivery.last_attempt_at = now
        delivery.last_status_code = status
        delivery.last_error = result.error or ("" if delivered else f"HTTP {status}")
        if outcome == AttemptOutcome.DELIVERED:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif outcome == AttemptOutcome.RETRY:
            wait = backoff(number)
            if result.retry_after:
                wait = max(
                    wait,
                    dt.timedelta(
                        seconds=min(result.retry_after, settings.API_WEBHOOK_BACKOFF_MAX_SECONDS)
                    ),
                )
            delivery.next_attempt_at = now + wait
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        delivery.save(
            update_fields=[
                "attempt_count",
                "last_attempt_at",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return attempt


def due_delivery_ids(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt is due, oldest first."""
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now or timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_replay(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> None:
    """Send a delivery again (from the admin or the API), with the same event id, whatever
    its status; a fresh retry window starts. Queued after the transaction commits."""
    from .outbox import enqueue

    now = now or timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retry_until=now + WebhookDelivery.window(),
            replayed_at=now,
            delivered_at=None,
        )
        transaction.on_commit(lambda: enqueue([delivery.pk]))
    delivery.refresh_from_db()
