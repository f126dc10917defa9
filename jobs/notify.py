"""Telling staff: who hears about a case, and sending each notice once.

A notice row (``DeadlineAlert``, ``LateShipmentNotice``) is *claimed* before its e-mail goes
(``notified_at`` set with a claim token, in one UPDATE): two overlapping runs never send the
same notice twice. If sending fails, the claim is released and the next run tries again; a
claim left by a run that died before recording its e-mail is released after ``CLAIM_TTL`` (the
notice may then go twice, rather than never). Each
recipient gets one e-mail per run listing all their notices (a digest), not one per case.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import Case
from cases.team import team_emails

logger = logging.getLogger(__name__)
CLAIM_PREFIX = "claimed:"
# A run claims, sends and records within seconds; a claim older than this was left by a crash.
CLAIM_TTL = dt.timedelta(minutes=30)


def recipients_for(case: Case, team: list[str]) -> tuple[str, ...]:
    """The assignee when the case has one who can be reached, else the team."""
    assignee = case.assignee
    if assignee is not None and assignee.is_active and assignee.email:
        return (assignee.email,)
    return tuple(team)


def case_url(case: Case) -> str:
    base = settings.INTAKE_PUBLIC_URL.rstrip("/")
    return base + reverse("admin:cases_case_change", args=[case.pk])


@dataclass(frozen=True)
class NoticeLine:
    """One line of a digest e-mail."""

    reference: str
    marketplace: str
    kind: str
    text: str
    url: str


def send_claimed(
    queryset: models.QuerySet,
    *,
    at: dt.datetime,
    line: Callable[[models.Model], NoticeLine | None],
    subject: Callable[[int], str],
    template: str,
    related: tuple[str, ...] = ("case__assignee", "case__marketplace"),
    recipients: Callable[[models.Model, list[str]], tuple[str, ...]] | None = None,
) -> int:
    """Claim the unnotified rows of ``queryset`` (they have ``case``, ``notified_at`` and
    ``notified_to``), send one digest per recipient, record who was told; returns e-mails sent.

    ``line`` gives the row's digest line, or None for a row that needs no e-mail (it is still
    marked notified). Rows about something else than a case (a message clock) name what to
    load (``related``) and who hears of them (``recipients(row, team)``).
    """
    token = f"{CLAIM_PREFIX}{uuid.uuid4().hex}"
    model = queryset.model
    model.objects.filter(
        notified_to__startswith=CLAIM_PREFIX, notified_at__lt=at - CLAIM_TTL
    ).update(notified_at=None, notified_to="")
    ids = list(queryset.filter(notified_at__isnull=True).values_list("pk", flat=True)[:5000])
    if not ids:
        return 0
    model.objects.filter(pk__in=ids, notified_at__isnull=True).update(
        notified_at=at, notified_to=token
    )
    claimed = list(model.objects.filter(notified_to=token).select_related(*related).order_by("pk"))
    team = team_emails()
    groups: dict[tuple[str, ...], list[tuple[models.Model, NoticeLine]]] = defaultdict(list)
    silent = []
    for row in claimed:
        entry = line(row)
        if entry is None:
            silent.append(row.pk)
            continue
        to = recipients(row, team) if recipients else recipients_for(row.case, team)
        groups[to].append((row, entry))
    if silent:
        model.objects.filter(pk__in=silent).update(notified_to="")
    sent = 0
    for recipients, entries in groups.items():
        pks = [row.pk for row, _ in entries]
        if not recipients:
            logger.warning("No one to notify about %s %s (no team e-mail)", model.__name__, pks)
            model.objects.filter(pk__in=pks).update(notified_to="(nobody: no e-mail address)")
            continue
        context = {"lines": [entry for _, entry in entries], "count": len(entries)}
        message = EmailMultiAlternatives(
            subject=subject(len(entries)),
            body=render_to_string(f"{template}.txt", context),
            to=list(recipients),
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        try:
            message.send()
        except Exception:
            # Release the claim: the next run sends these again.
            logger.exception("Notification to %s failed", ", ".join(recipients))
            model.objects.filter(pk__in=pks).update(notified_at=None, notified_to="")
            continue
        model.objects.filter(pk__in=pks).update(notified_to=", ".join(recipients))
        sent += 1
    return sent
