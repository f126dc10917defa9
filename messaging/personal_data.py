"""The message log's part of a customer's personal data (``cases.personal_data``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from cases.personal_data import ERASED, Subject

from .models import Message


def _messages(subject: Subject) -> Any:
    return Message.objects.filter(
        Q(order_id__in=subject.order_ids) | Q(case_id__in=subject.case_ids)
    ).order_by("sent_at", "pk")


def export(subject: Subject) -> list[dict[str, Any]]:
    return list(
        _messages(subject).values(
            "external_id",
            "conversation_id",
            "direction",
            "counterpart",
            "channel",
            "sent_at",
            "received_at",
            "subject",
            "body",
        )
    )


def erase(subject: Subject) -> int:
    """Subjects and bodies are replaced; the rest (times, directions) feeds the metrics."""
    return _messages(subject).update(subject=ERASED, body=ERASED)
