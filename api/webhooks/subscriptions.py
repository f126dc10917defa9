"""Creating webhook subscriptions within the per-client limit, and deleting them safely.

Every event of a client's marketplaces becomes one delivery per subscription, so a client with
hundreds of subscriptions would multiply the work of every case change: a client may hold at
most ``API_WEBHOOK_MAX_SUBSCRIPTIONS`` (default 20), active or not. Deleting one frees its slot.

Deleting a subscription deletes its deliveries and their attempts, while the worker may be
recording an attempt of one of them. Both lock the delivery rows before touching attempts
(``lock_deliveries`` below, on every deletion path: API, admin, a deleted client's cascade), so
the deletion waits for the attempt being recorded (and deletes it too) instead of failing at
commit on a row that appeared meanwhile.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import ApiClient, WebhookDelivery, WebhookSubscription

LIMIT_CODE = "too_many_subscriptions"


def subscription_limit() -> int:
    return int(settings.API_WEBHOOK_MAX_SUBSCRIPTIONS)


def limit_refusal(client_id: int, *, adding: int) -> str:
    """Why ``adding`` more subscriptions would pass the client's limit, or ""."""
    limit = subscription_limit()
    held = WebhookSubscription.objects.filter(client_id=client_id).count()
    if held + adding <= limit:
        return ""
    return _(
        "A client may have at most %(limit)s webhook subscriptions and this one has %(held)s. "
        "Delete one you no longer use (or subscribe one URL to several event types) first."
    ) % {"limit": limit, "held": held}


class SubscriptionLimitReached(Exception):
    """Raised by ``webhook_subscription_create``; ``message`` is for people."""

    code = LIMIT_CODE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def webhook_subscription_create(*, client: ApiClient, **fields: Any) -> WebhookSubscription:
    """Subscribe a URL of ``client``; raises ``SubscriptionLimitReached`` past the limit.

    The client's row is locked while counting, so two requests racing for the last slot cannot
    both get it. Only the client's own rows are locked: no other client's write waits."""
    with transaction.atomic():
        ApiClient.objects.select_for_update().filter(pk=client.pk).values_list("pk").first()
        refusal = limit_refusal(client.pk, adding=1)
        if refusal:
            raise SubscriptionLimitReached(refusal)
        return WebhookSubscription.objects.create(client=client, **fields)


def lock_deliveries(sender: Any, instance: WebhookSubscription, **kwargs: Any) -> None:
    """``pre_delete`` receiver of ``WebhookSubscription``: lock its deliveries (in id order,
    as the worker locks one at a time: no deadlock) before Django deletes their attempts."""
    list(
        WebhookDelivery.objects.select_for_update()
        .filter(subscription_id=instance.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
