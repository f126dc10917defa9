"""Signal receivers of the jobs app. They hold no business rule: they route an event to a
background task, queued after the transaction commits (a rolled-back change queues nothing)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django_q.tasks import async_task

from cases.models import CaseEvent
from cases.signals import case_event_recorded


@receiver(case_event_recorded, dispatch_uid="jobs.queue_clearance_reminder")
def queue_clearance_reminder(*, event: CaseEvent, **kwargs: Any) -> None:
    if event.transition == "send_clearance_reminder":
        transaction.on_commit(partial(async_task, "jobs.tasks.send_clearance_reminder", event.pk))
