"""The deadline sweep: marks each running clock of each open case at risk or overdue, once.

For every open case whose earliest running deadline is close enough to be at risk, every
running clock (``cases.services.active_deadlines``) is judged with
``cases.services.deadline_status``. A clock at risk or overdue is recorded once per (case,
clock, level, due time) as a ``DeadlineAlert`` together with a ``deadline_at_risk`` /
``deadline_missed`` case event (which the API turns into webhook events), in one transaction;
nothing else is written, so cases whose status did not change cost no write. Then the
assignee (or the team) gets one e-mail listing their new alerts.

Safe to re-run after a crash: alerts already recorded are skipped (and a unique constraint
stops an overlapping run), alerts recorded but not yet notified are notified by the next run.
Queries are bounded: per batch of cases one select and one look-up of existing alerts, then two
inserts per new alert.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format

from cases.actors import Actor
from cases.choices import Door
from cases.deadlines import DeadlineStatus, active_deadlines, deadline_status, due_horizon
from cases.events import DeadlineAtRisk, DeadlineMissed
from cases.kernel import CaseAction, PendingEvent, case_actions_batch
from cases.models import Case
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from .message_alerts import message_alerts_run
from .models import AlertLevel, Clock, DeadlineAlert
from .notify import NoticeLine, case_url, send_claimed

logger = logging.getLogger(__name__)
SWEEP_ACTOR = Actor.system("deadline sweep")
BATCH = 500
# The late-shipment escalation tells people what to do about the supplier clocks.
ESCALATION_CLOCKS = frozenset({Clock.SUPPLIER_CONTACT, Clock.SUPPLIER_SWITCH})
_LEVEL_OF = {DeadlineStatus.AT_RISK: AlertLevel.AT_RISK, DeadlineStatus.OVERDUE: AlertLevel.OVERDUE}
_EVENT_OF: dict[str, type[DeadlineAtRisk] | type[DeadlineMissed]] = {
    AlertLevel.AT_RISK: DeadlineAtRisk,
    AlertLevel.OVERDUE: DeadlineMissed,
}


@dataclass
class SweepResult:
    cases_checked: int = 0
    alerts_created: int = 0
    emails_sent: int = 0


def at_risk_horizon(marketplace: Marketplace, at: dt.datetime) -> dt.datetime:
    """The (exclusive) latest due time that can be at risk at ``at``."""
    return due_horizon(marketplace, at=at, business_days=marketplace.at_risk_business_days)


def deadline_sweep_run(*, at: dt.datetime | None = None, batch_size: int = BATCH) -> SweepResult:
    """Record and notify every new at-risk or overdue clock of every open case."""
    at = at or timezone.now()
    result = SweepResult()
    for marketplace in Marketplace.objects.filter(is_active=True).order_by("pk"):
        horizon = at_risk_horizon(marketplace, at)
        candidates = (
            Case.objects.open()
            .filter(marketplace=marketplace, next_due_at__lt=horizon)
            .select_related("order")
            .order_by("pk")
        )
        last_pk = 0
        while True:
            batch = list(candidates.filter(pk__gt=last_pk)[:batch_size])
            if not batch:
                break
            last_pk = batch[-1].pk
            result.cases_checked += len(batch)
            result.alerts_created += _record_batch(batch, marketplace, at)
    result.emails_sent = notify_deadline_alerts(at=at)
    result.alerts_created += message_alerts_run(at=at)[0]  # message clocks: jobs/message_alerts.py
    logger.info(
        "Deadline sweep: %s cases checked, %s new alerts, %s e-mails",
        result.cases_checked,
        result.alerts_created,
        result.emails_sent,
    )
    return result


Finding = tuple[str, str, dt.datetime, int]  # clock, level, due at, business days left


def _record_batch(batch: list[Case], marketplace: Marketplace, at: dt.datetime) -> int:
    findings: dict[int, list[Finding]] = {}
    for case in batch:
        case.marketplace = marketplace  # one object for the batch: no query per case
        for clock, due_at in active_deadlines(case).items():
            state = deadline_status(due_at, at=at, marketplace=marketplace)
            level = _LEVEL_OF.get(state.status)
            if level is not None:
                findings.setdefault(case.pk, []).append(
                    (clock, level, due_at, state.business_days_left)
                )
    if not findings:
        return 0
    seen = _alerts_of(list(findings))
    new = {
        case_id: [f for f in found if (case_id, f[0], f[1], f[2]) not in seen]
        for case_id, found in findings.items()
    }
    new = {case_id: found for case_id, found in new.items() if found}
    if not new:
        return 0
    created = 0
    recorded: set[tuple[int, str, str, dt.datetime]] = set()

    def prepare(cases: list[Case]) -> None:
        # Under the lock: an overlapping sweep may have recorded some meanwhile.
        recorded.clear()
        recorded.update(_alerts_of([case.pk for case in cases]))

    def record(act: CaseAction) -> None:
        nonlocal created
        for clock, level, due_at, days_left in new.get(act.case.pk, []):
            if (act.case.pk, clock, level, due_at) in recorded:
                continue
            pending = act.event(
                _EVENT_OF[level](
                    clock=clock, due_at=due_at.isoformat(), business_days_left=days_left
                ),
                # A missed deadline happened when it passed; a risk when it is seen.
                occurred_at=due_at if level == AlertLevel.OVERDUE else at,
            )

            # Defaults bind this finding's values (the loop goes on); ``pending.row`` is read
            # when the callback runs, once the event is written.
            def write_alert(
                clock: str = clock,
                level: str = level,
                due_at: dt.datetime = due_at,
                pending: PendingEvent = pending,
            ) -> None:
                DeadlineAlert.objects.create(
                    case_id=act.case.pk,
                    clock=clock,
                    level=level,
                    due_at=due_at,
                    detected_at=at,
                    event=pending.row,
                )

            act.after_write(write_alert)
            created += 1

    case_actions_batch(new, record, actor=SWEEP_ACTOR, door=Door.JOB, prepare=prepare, now=at)
    return created


def _alerts_of(case_ids: list[int]) -> set[tuple[int, str, str, dt.datetime]]:
    return set(
        DeadlineAlert.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "clock", "level", "due_at"
        )
    )


def _alert_line(alert: DeadlineAlert) -> NoticeLine | None:
    if alert.clock in ESCALATION_CLOCKS:
        return None
    case = alert.case
    tz = calendar_for(case.marketplace).tz
    due = date_format(alert.due_at.astimezone(tz), "Y-m-d H:i")
    if alert.level == AlertLevel.OVERDUE:
        text = f"{alert.get_clock_display()} deadline missed: was due {due} ({tz.key})"
    else:
        text = f"{alert.get_clock_display()} deadline at risk: due {due} ({tz.key})"
    return NoticeLine(
        reference=case.reference,
        marketplace=case.marketplace.name,
        kind=case.get_kind_display(),
        text=text,
        url=case_url(case),
    )


def notify_deadline_alerts(*, at: dt.datetime | None = None) -> int:
    """E-mail every alert not notified yet (also those a crashed run left); returns e-mails."""
    return send_claimed(
        DeadlineAlert.objects.all(),
        at=at or timezone.now(),
        line=_alert_line,
        subject=lambda n: f"[aftersales] {n} deadline(s) need your attention",
        template="jobs/email/deadline_alerts",
    )
