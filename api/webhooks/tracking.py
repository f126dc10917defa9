"""``tracking.event``: a carrier scan of a parcel of a known order (``cases.signals.
tracking_events_recorded``, sent when scans are matched to their shipment: at once, or when the
shipment arrives). One event per scan for the subscribers of the order's marketplace; deliveries
and retries are the case events' (``WebhookDelivery``, ``api.tasks.deliver_webhook``)."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import TrackingEvent

from ..models import WebhookDelivery, WebhookEvent, WebhookEventType, WebhookSubscription
from .events import _when
from .outbox import enqueue

CHUNK = 1_000


def _marketplace_id(event: TrackingEvent) -> int:
    if event.shipment is None:
        raise ValueError("only a matched scan has a webhook: its shipment says whose it is")
    return event.shipment.order.marketplace_id


def tracking_payload(event: TrackingEvent, webhook_event: WebhookEvent) -> dict[str, Any]:
    if event.shipment is None:
        raise ValueError("only a matched scan has a webhook: its shipment says whose it is")
    order = event.shipment.order
    return {
        "id": str(webhook_event.event_id),
        "type": WebhookEventType.TRACKING_EVENT.value,
        "created_at": _when(webhook_event.created_at),
        "data": {
            "order": {"marketplace": order.marketplace.code, "external_id": order.external_id},
            "tracking_event": {
                "carrier": event.carrier,
                "tracking_number": event.tracking_number,
                "carrier_event_id": event.carrier_event_id,
                "status": event.status,
                "occurred_at": _when(event.occurred_at),
                "location": event.location,
                "raw_text": event.raw_text,
            },
        },
    }


def record_tracking_webhooks(sender: Any, event_ids: list[int], **kwargs: Any) -> None:
    """One webhook event per scan for the live subscriptions of its order's marketplace that
    want ``tracking.event``; nothing (and one query) when nobody listens."""
    event_type = WebhookEventType.TRACKING_EVENT
    by_marketplace: dict[int, list[WebhookSubscription]] = defaultdict(list)
    for subscription in WebhookSubscription.objects.filter(
        is_active=True, client__revoked_at__isnull=True
    ).prefetch_related("client__marketplaces"):
        if subscription.wants(event_type):
            for marketplace in subscription.client.marketplaces.all():
                by_marketplace[marketplace.pk].append(subscription)
    if not by_marketplace:
        return
    now = timezone.now()
    ids = sorted(event_ids)
    for start in range(0, len(ids), CHUNK):
        events = list(
            TrackingEvent.objects.select_related("shipment__order__marketplace").filter(
                pk__in=ids[start : start + CHUNK],
                shipment__order__marketplace_id__in=list(by_marketplace),
            )
        )
        if not events:
            continue
        rows = []
        for event in events:
            row = WebhookEvent(event_type=event_type, created_at=now, expanded_at=now)
            row.payload = tracking_payload(event, row)
            rows.append((event, row))
        WebhookEvent.objects.bulk_create([row for _event, row in rows])
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event=row,
                    subscription=subscription,
                    next_attempt_at=now,
                    retry_until=now + WebhookDelivery.window(),
                    created_at=now,
                )
                for event, row in rows
                for subscription in by_marketplace[_marketplace_id(event)]
            ]
        )
        transaction.on_commit(functools.partial(enqueue, [d.pk for d in deliveries]))
