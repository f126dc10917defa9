"""Telling staff: who hears about a case, and sending each notice once.

A notice row (``DeadlineAlert``, ``LateShipmentNotice``) is *claimed* before its e-mail goes
(``notified_at`` set with the run's claim token, in one UPDATE): two overlapping runs never send
the same notice twice. If sending fails, the claim is released and the next run tries again.
Each recipient gets one e-mail per run listing all their notices (a digest), not one per case.

A run that dies must not keep its claims: each run holds a ``NoticeClaim`` (its token, its
worker ``host:pid``, a lease of ``CLAIM_LEASE``, renewed before every e-mail, well under the
deadline sweep's period), deletes it and releases what it did not send when it ends, even on an
error. When a worker is killed outright, the next run on any machine releases the claims of a
run whose lease has passed, or at once those of a run whose process no longer exists on its own
machine: they are sent within one sweep period of a worker being back. (A claim is released
only once its run is known dead or silent past its lease, so a notice may go twice, after a
send stuck for longer than the lease, rather than never.)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import Case
from cases.team import team_emails

from .models import NoticeClaim

logger = logging.getLogger(__name__)
CLAIM_PREFIX = "claimed:"
# A run renews its lease before each e-mail; one e-mail takes seconds. Shorter than the
# deadline sweep's period (5 min), so a dead run's claims are free by the next sweep.
CLAIM_LEASE = dt.timedelta(minutes=2)
# Notices claimed (and e-mailed, one digest per recipient) at a time.
NOTICE_BATCH = 5000
# A notice model: a row with ``notified_at`` and ``notified_to`` (and ``case``, unless the
# sender says who hears of it).
NoticeT = TypeVar("NoticeT", bound=models.Model)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(worker: str) -> bool:
    """Whether ``worker`` (host:pid) is a process of this machine that no longer runs."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, under another user
        return False
    return False


def release_dead_claims(model: type[models.Model], *, at: dt.datetime) -> int:
    """Release the claims on ``model`` of runs that died (lease passed, or process gone from
    this machine); returns how many notices were released."""
    dead = [
        claim.pk
        for claim in NoticeClaim.objects.filter(lease_until__gte=at)
        if _process_gone(claim.worker)
    ]
    live = NoticeClaim.objects.filter(lease_until__gte=at).exclude(pk__in=dead)
    released = (
        model._default_manager.filter(notified_to__startswith=CLAIM_PREFIX)
        .exclude(notified_to__in=live.values("token"))
        .update(notified_at=None, notified_to="")
    )
    if released:
        logger.warning("Released %s %s claims left by runs that died", released, model.__name__)
    NoticeClaim.objects.filter(models.Q(lease_until__lt=at) | models.Q(pk__in=dead)).delete()
    return released


class _Lease:
    """This run's ``NoticeClaim``, on the run's clock (``at`` plus the time spent)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self.started = time.monotonic()
        self.token = f"{CLAIM_PREFIX}{uuid.uuid4().hex}"
        self.row = NoticeClaim.objects.create(
            token=self.token,
            worker=worker_identity(),
            started_at=at,
            lease_until=at + CLAIM_LEASE,
        )

    def renew(self) -> None:
        elapsed = dt.timedelta(seconds=time.monotonic() - self.started)
        NoticeClaim.objects.filter(pk=self.row.pk).update(
            lease_until=self.at + elapsed + CLAIM_LEASE
        )

    def end(self, model: type[models.Model]) -> None:
        model._default_manager.filter(notified_to=self.token).update(
            notified_at=None, notified_to=""
        )
        NoticeClaim.objects.filter(pk=self.row.pk).delete()


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


def _case_recipients(row: models.Model, team: list[str]) -> tuple[str, ...]:
    """Who hears of a notice about a case (a row with ``case``)."""
    case = getattr(row, "case", None)
    if not isinstance(case, Case):
        raise TypeError(f"{type(row).__name__} has no case: send_claimed needs recipients=")
    return recipients_for(case, team)


def send_claimed(
    queryset: models.QuerySet[NoticeT],
    *,
    at: dt.datetime,
    line: Callable[[NoticeT], NoticeLine | None],
    subject: Callable[[int], str],
    template: str,
    related: tuple[str, ...] = ("case__assignee", "case__marketplace"),
    recipients: Callable[[NoticeT, list[str]], tuple[str, ...]] | None = None,
) -> int:
    """Claim the unnotified rows of ``queryset`` (they have ``case``, ``notified_at`` and
    ``notified_to``), send one digest per recipient, record who was told; returns e-mails sent.

    ``line`` gives the row's digest line, or None for a row that needs no e-mail (it is still
    marked notified). Rows about something else than a case (a message clock) name what to
    load (``related``) and who hears of them (``recipients(row, team)``).
    """
    model = queryset.model
    release_dead_claims(model, at=at)
    pending = queryset.filter(notified_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    lease: _Lease | None = None
    sent = last = 0
    try:
        # Every row waiting, batch after batch, in one run: a burst of 70,000 alerts is told
        # by this run, each row claimed once and marked once, not 5,000 a run over 14 runs.
        # A row whose e-mail failed is released and left to the next run (ids only go up).
        while ids := list(pending.filter(pk__gt=last)[:NOTICE_BATCH]):
            last = ids[-1]
            lease = lease or _Lease(at)
            sent += _send(
                model,
                ids,
                lease,
                at=at,
                line=line,
                subject=subject,
                template=template,
                related=related,
                recipients=recipients or _case_recipients,
            )
    finally:
        # What this run claimed and did not send is free again at once, whatever happened.
        if lease is not None:
            lease.end(model)
    return sent


def _send(
    model: type[NoticeT],
    ids: list[int],
    lease: _Lease,
    *,
    at: dt.datetime,
    line: Callable[[NoticeT], NoticeLine | None],
    subject: Callable[[int], str],
    template: str,
    related: tuple[str, ...],
    recipients: Callable[[NoticeT, list[str]], tuple[str, ...]],
) -> int:
    token = lease.token
    model._default_manager.filter(pk__in=ids, notified_at__isnull=True).update(
        notified_at=at, notified_to=token
    )
    claimed = list(
        model._default_manager.filter(notified_to=token).select_related(*related).order_by("pk")
    )
    team = team_emails()
    groups: dict[tuple[str, ...], list[tuple[NoticeT, NoticeLine]]] = defaultdict(list)
    silent = []
    for row in claimed:
        entry = line(row)
        if entry is None:
            silent.append(row.pk)
            continue
        to = recipients(row, team)
        groups[to].append((row, entry))
    if silent:
        model._default_manager.filter(pk__in=silent).update(notified_to="")
    sent = 0
    for addresses, entries in groups.items():
        pks = [row.pk for row, _ in entries]
        if not addresses:
            logger.warning("No one to notify about %s %s (no team e-mail)", model.__name__, pks)
            model._default_manager.filter(pk__in=pks).update(
                notified_to="(nobody: no e-mail address)"
            )
            continue
        context = {"lines": [entry for _, entry in entries], "count": len(entries)}
        message = EmailMultiAlternatives(
            subject=subject(len(entries)),
            body=render_to_string(f"{template}.txt", context),
            to=list(addresses),
        )
        message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
        lease.renew()
        try:
            message.send()
        except Exception:
            # Release the claim: the next run sends these again.
            logger.exception("Notification to %s failed", ", ".join(addresses))
            model._default_manager.filter(pk__in=pks).update(notified_at=None, notified_to="")
            continue
        model._default_manager.filter(pk__in=pks).update(notified_to=", ".join(addresses))
        sent += 1
    return sent
