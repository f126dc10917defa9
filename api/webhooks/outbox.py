"""The outbox: a case event becomes webhook delivery rows in the same transaction, and the
deliveries are queued only once that transaction commits (a rolled-back change sends nothing)."""

from __future__ import annotations

import functools
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import CaseEvent

from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription
from .events import EVENT_TYPES, payload_of

DELIVER_TASK = "api.tasks.deliver_webhook"


def record_webhook_event(sender: Any, event: CaseEvent, **kwargs: Any) -> None:
    """Receiver of ``cases.signals.case_event_recorded``: writes rows, queues on commit."""
    event_type = EVENT_TYPES.get(event.event_type)
    if event_type is None:
        return
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            is_active=True,
            client__revoked_at__isnull=True,
            client__marketplaces=event.case.marketplace_id,
        )
        if subscription.wants(event_type)
    ]
    if not subscriptions:
        return
    webhook_event = WebhookEvent(event_type=event_type, case=event.case, case_event=event)
    webhook_event.payload = payload_of(event, event_type, webhook_event.event_id)
    webhook_event.save()
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                event=webhook_event,
                subscription=subscription,
                next_attempt_at=now,
                retry_until=now + WebhookDelivery.window(),
                created_at=now,
            )
            for subscription in subscriptions
        ]
    )
    transaction.on_commit(functools.partial(enqueue, [d.pk for d in deliveries]))


def enqueue(delivery_ids: list[int]) -> None:
    from django_q.tasks import async_task

    for delivery_id in delivery_ids:
        async_task(DELIVER_TASK, delivery_id, task_name=f"webhook-delivery-{delivery_id}")
