"""The API's part of a customer's personal data: copies of it in webhook events (their
payloads repeat file names and addresses) and in stored answers of idempotent requests."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from cases.personal_data import ERASED, Subject

from .models import IdempotencyKey, WebhookEvent

# Keys of a webhook event's ``data.event.data`` that hold personal data.
PERSONAL_KEYS = ("name", "to")


def export(subject: Subject) -> list[dict[str, Any]]:
    return []  # copies of what the export already holds


def erase(subject: Subject) -> int:
    changed = 0
    for event in WebhookEvent.objects.filter(case_id__in=subject.case_ids).only("payload"):
        data = event.payload.get("data", {}).get("event", {}).get("data", {})
        keys = [key for key in PERSONAL_KEYS if data.get(key)]
        if keys:
            for key in keys:
                data[key] = ERASED
            WebhookEvent.objects.filter(pk=event.pk).update(payload=event.payload)
            changed += 1
    # Stored answers (kept 24 h for retries) that quote the customer are forgotten now.
    quoting = Q(pk__in=[])
    for value in (*subject.emails, *subject.names):
        quoting |= Q(response_body__icontains=value)
    deleted, _ = IdempotencyKey.objects.filter(quoting).delete()
    return changed + deleted
