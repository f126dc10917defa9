"""``message.outbound``: a reply entered the outbox (``messaging.signals.outbound_queued``,
sent once the reply's transaction committed). Subscribers of the reply's marketplace get one
event, with the reply as ``GET /api/v1/outbox/{id}/`` shows it; they report it sent or failed
through ``POST /api/v1/outbox/{id}/sent/`` or ``.../failed/``. Deliveries and retries are the
case events' (``WebhookDelivery``, ``api.tasks.deliver_webhook``)."""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.utils import timezone

from messaging.models import OutboundMessage

from ..models import WebhookDelivery, WebhookEvent, WebhookEventType, WebhookSubscription
from .events import _when
from .outbox import enqueue


def record_outbound_webhook(sender: Any, outbound: OutboundMessage, **kwargs: Any) -> None:
    if outbound.by_email:  # the system sends it itself: nothing for connectors to do
        return
    event_type = WebhookEventType.MESSAGE_OUTBOUND
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            is_active=True,
            client__revoked_at__isnull=True,
            client__marketplaces=outbound.marketplace_id,
        )
        if subscription.wants(event_type)
    ]
    if not subscriptions:
        return
    from ..serializers.outbox import OutboundMessageSerializer

    outbound = (
        OutboundMessage.objects.select_related(
            "conversation__order", "conversation__case", "marketplace"
        )
        .prefetch_related("attachments")
        .get(pk=outbound.pk)
    )
    codes = {outbound.marketplace_id: outbound.marketplace.code}
    with transaction.atomic():
        # Its deliveries are written here, so it never waits in the outbox: the outbox worker
        # expands only case events, and would otherwise deliver this one a second time.
        event = WebhookEvent(
            event_type=event_type, case=outbound.conversation.case, expanded_at=timezone.now()
        )
        event.payload = {
            "id": str(event.event_id),
            "type": event_type,
            "created_at": _when(timezone.now()),
            "data": {
                "outbound": OutboundMessageSerializer(
                    outbound, context={"marketplace_codes": codes}
                ).data
            },
        }
        event.save()
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    event=event,
                    subscription=subscription,
                    next_attempt_at=now,
                    retry_until=now + WebhookDelivery.window(),
                    created_at=now,
                )
                for subscription in subscriptions
            ]
        )
        transaction.on_commit(functools.partial(enqueue, [d.pk for d in deliveries]))
