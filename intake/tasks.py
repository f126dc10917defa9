"""Background tasks of the evidence intake (django-q2).

``send_evidence_reminders`` takes no arguments: it is run on a schedule (the
``setup_schedules`` command); every run reminds each customer whose request is due within
``INTAKE_REMINDER_BEFORE`` once (``EvidenceRequest.reminder_sent_at``), so runs may overlap or
repeat harmlessly. ``send_evidence_link`` e-mails the link of a new customer request once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.models import EvidenceRequest
from cases.services.evidence_requests import (
    MESSAGE_LINK,
    MESSAGE_REMINDER,
    evidence_request_send_message,
    reminders_due,
)

from .emails import sender

logger = logging.getLogger(__name__)
BATCH = 500


def reminder_before() -> dt.timedelta:
    before: dt.timedelta = settings.INTAKE_REMINDER_BEFORE
    return before


def send_evidence_reminders() -> int:
    """E-mail one reminder to each customer whose evidence is due soon; returns how many."""
    at = timezone.now()
    sent = 0
    for evidence_request in reminders_due(at=at, before=reminder_before())[:BATCH]:
        try:
            if evidence_request_send_message(
                evidence_request=evidence_request,
                kind=MESSAGE_REMINDER,
                send=sender(MESSAGE_REMINDER),
                actor=Actor.system("evidence reminders"),
                door=Door.JOB,
            ):
                sent += 1
        except Exception:  # one bad address must not stop the others; retried next run
            logger.exception("Evidence reminder for request %s failed", evidence_request.pk)
    logger.info("Evidence reminders sent: %s", sent)
    return sent


def send_evidence_link(evidence_request_id: int) -> bool:
    """E-mail the upload link of a new customer request (once; not for a link already gone,
    e.g. a request imported with its history)."""
    evidence_request = (
        EvidenceRequest.objects.select_related("case__order", "case__marketplace")
        .filter(pk=evidence_request_id)
        .first()
    )
    if evidence_request is None or not _usable(evidence_request):
        return False
    return evidence_request_send_message(
        evidence_request=evidence_request,
        kind=MESSAGE_LINK,
        send=sender(MESSAGE_LINK),
        actor=Actor.system("evidence link e-mail"),
        door=Door.JOB,
    )


def _usable(evidence_request: EvidenceRequest) -> bool:
    return (
        evidence_request.revoked_at is None
        and evidence_request.case.is_open
        and timezone.now() <= evidence_request.due_at
    )
