"""Reactions of the intake to case events: only work queued after commit, no rules here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from cases.choices import Audience, EventType
from cases.models import CaseEvent

SEND_LINK_TASK = "intake.tasks.send_evidence_link"


def queue_link_email(*, event: CaseEvent, **kwargs: Any) -> None:
    """A new customer evidence request: e-mail its link once the transaction commits."""
    if event.event_type != EventType.EVIDENCE_REQUESTED:
        return
    if event.data.get("audience") != Audience.CUSTOMER:
        return
    if not settings.INTAKE_EMAIL_LINKS:
        return
    request_id = event.data.get("evidence_request")

    def queue() -> None:
        from django_q.tasks import async_task

        async_task(SEND_LINK_TASK, request_id, task_name=f"evidence-link-{request_id}")

    transaction.on_commit(queue)
