"""The message clocks in the deadline sweep: each received message whose answer is at risk or
overdue is recorded once (``messaging.models.MessageAlert``, unique per message, level and due
time) and its conversation's assignee (or the team) is told in one digest e-mail.

Set-based: one INSERT ... SELECT-shaped pass per level (the candidates come from the partial
index on unanswered clocks, existing alerts are skipped by the unique constraint), then the
notices go through ``jobs.notify.send_claimed`` like the case deadlines' (claimed before
sending, released on failure). Only conversations still worked are alerted (not done, not
spam); a clock answered meanwhile is no longer a candidate. Safe to re-run.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format

from cases.team import team_emails
from marketplaces.calendars import calendar_for
from messaging.models import OPEN_STATUSES, AlertLevel, Message, MessageAlert

from .notify import NoticeLine, send_claimed

logger = logging.getLogger(__name__)
CHUNK = 2000
# Clocks that ran out longer ago than this are history, not alerts (a first run on old data).
LOOKBACK = dt.timedelta(days=30)


def _candidates(level: str, at: dt.datetime):
    clocks = Message.objects.filter(
        answered_at__isnull=True,
        response_due_at__isnull=False,
        needs_response=True,
        conversation__status__in=OPEN_STATUSES,
    )
    if level == AlertLevel.OVERDUE:
        clocks = clocks.filter(response_due_at__lt=at, response_due_at__gte=at - LOOKBACK)
    else:
        clocks = clocks.filter(response_at_risk_at__lte=at, response_due_at__gte=at)
    seen = MessageAlert.objects.filter(level=level).values("message_id")
    return clocks.exclude(pk__in=seen).values_list("pk", "conversation_id", "response_due_at")


def message_alerts_record(*, at: dt.datetime) -> int:
    """Record every new at-risk or overdue message clock; returns how many were new."""
    created = 0
    for level in (AlertLevel.AT_RISK, AlertLevel.OVERDUE):
        rows = list(_candidates(level, at)[:50_000])
        for start in range(0, len(rows), CHUNK):
            alerts = MessageAlert.objects.bulk_create(
                [
                    MessageAlert(
                        message_id=pk,
                        conversation_id=conversation_id,
                        level=level,
                        due_at=due_at,
                        detected_at=at,
                    )
                    for pk, conversation_id, due_at in rows[start : start + CHUNK]
                ],
                ignore_conflicts=True,  # an overlapping run recorded some meanwhile
            )
            created += len(alerts)
    return created


def _recipients(alert: MessageAlert, team: list[str]) -> tuple[str, ...]:
    assignee = alert.conversation.assignee
    if assignee is not None and assignee.is_active and assignee.email:
        return (assignee.email,)
    return tuple(team)


def _url(alert: MessageAlert) -> str:
    base = getattr(settings, "INTAKE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    try:
        return base + reverse("admin:messaging_conversation_change", args=[alert.conversation_id])
    except NoReverseMatch:
        return base + reverse("admin:index")


def _line(alert: MessageAlert) -> NoticeLine:
    conversation = alert.conversation
    tz = calendar_for(conversation.marketplace).tz
    due = date_format(alert.due_at.astimezone(tz), "Y-m-d H:i")
    if alert.level == AlertLevel.OVERDUE:
        text = f"Answer overdue: was due {due} ({tz.key})"
    else:
        text = f"Answer at risk: due {due} ({tz.key})"
    return NoticeLine(
        reference=str(conversation)[:80],
        marketplace=conversation.marketplace.name,
        kind=conversation.get_counterpart_display(),
        text=text,
        url=_url(alert),
    )


def message_alerts_run(*, at: dt.datetime | None = None) -> tuple[int, int]:
    """The sweep's message step: record new alerts, e-mail them; returns (alerts, e-mails)."""
    at = at or timezone.now()
    created = message_alerts_record(at=at)
    team = team_emails()
    sent = send_claimed(
        MessageAlert.objects.all(),
        at=at,
        line=_line,
        subject=lambda n: f"[aftersales] {n} message(s) to answer in time",
        template="jobs/email/deadline_alerts",
        related=("conversation__assignee", "conversation__marketplace"),
        recipients=lambda alert, _team: _recipients(alert, team),
    )
    logger.info("Message clocks: %s new alerts, %s e-mails", created, sent)
    return created, sent


__all__ = ["message_alerts_record", "message_alerts_run"]
