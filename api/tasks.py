"""Background tasks of the API (django-q2). Thin and idempotent: each loads rows and calls the
delivery or cleanup code; running one twice does no harm."""

from __future__ import annotations

import logging

from django.utils import timezone

from . import idempotency
from .webhooks.delivery import delivery_attempt, due_delivery_ids
from .webhooks.outbox import enqueue, outbox_drain, outbox_expand

logger = logging.getLogger(__name__)

SCHEDULES = {
    # name: (function, minutes between runs)
    # Also the catch-up of the outbox: events whose expansion task the queue lost.
    "api: retry due webhook deliveries": ("api.tasks.deliver_due_webhooks", 1),
    "api: forget expired idempotency keys": ("api.tasks.purge_idempotency_keys", 60),
}


def expand_webhook_events(event_ids: list[int]) -> int:
    """Turn outbox events into deliveries (queued after the commit); returns how many new
    deliveries. Events already expanded (by the catch-up) are skipped."""
    return len(outbox_expand(event_ids=event_ids)[1])


def deliver_webhook(delivery_id: int) -> str:
    """One attempt of one delivery (does nothing if it is not due or another worker has it)."""
    attempt = delivery_attempt(delivery_id)
    return attempt.outcome if attempt is not None else "not due"


def deliver_due_webhooks() -> int:
    """Expand what is left in the outbox, then queue every delivery whose next attempt is due
    (retries, and any first attempt whose task was lost); returns how many were queued."""
    outbox_drain()
    ids = due_delivery_ids(now=timezone.now())
    enqueue(ids)
    if ids:
        logger.info("Queued %s due webhook deliveries", len(ids))
    return len(ids)


def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


def ensure_schedules(*, using: str = "default") -> None:
    """Create the periodic jobs above if they are missing (idempotent; run after migrate)."""
    from django_q.models import Schedule

    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.using(using).get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes},
        )
