from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The REST API for integrations (marketplace connectors, ERPs) and its webhooks."""

    name = "api"
    verbose_name = _("REST API and webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from cases.signals import case_event_recorded

        from .models import WebhookSubscription
        from .webhooks.outbox import record_webhook_event
        from .webhooks.subscriptions import lock_deliveries

        case_event_recorded.connect(record_webhook_event, dispatch_uid="api_webhook_outbox")

        from messaging.signals import outbound_queued

        from .webhooks.messages import record_outbound_webhook

        outbound_queued.connect(record_outbound_webhook, dispatch_uid="api_webhook_outbound")
        from cases.signals import tracking_events_recorded

        from .webhooks.tracking import record_tracking_webhooks

        tracking_events_recorded.connect(
            record_tracking_webhooks, dispatch_uid="api_webhook_tracking"
        )
        from cases.personal_data import register_part

        from . import personal_data

        register_part("api_copies", export=personal_data.export, erase=personal_data.erase)
        pre_delete.connect(
            lock_deliveries, sender=WebhookSubscription, dispatch_uid="api_lock_deliveries"
        )
        post_migrate.connect(_ensure_schedules, sender=self, dispatch_uid="api_schedules")


def _ensure_schedules(*, using: str = "default", **kwargs: Any) -> None:
    """The periodic jobs of the API (retrying webhook deliveries, forgetting old idempotency
    keys) exist after every ``migrate``, so a new deployment needs no extra command."""
    from .tasks import ensure_schedules

    ensure_schedules(using=using)
