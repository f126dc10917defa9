"""The background jobs' part of a customer's personal data: where clearance reminders went."""

from __future__ import annotations

from typing import Any

from cases.personal_data import Subject

from .models import ClearanceReminder


def export(subject: Subject) -> list[dict[str, Any]]:
    rows = (
        ClearanceReminder.objects.filter(case_id__in=subject.case_ids)
        .order_by("pk")
        .values("case__reference", "recipient", "language", "status", "sent_at")
    )
    return [dict(row) for row in rows]


def erase(subject: Subject) -> int:
    return ClearanceReminder.objects.filter(case_id__in=subject.case_ids).update(recipient="")
