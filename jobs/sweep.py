"""The deadline sweep: marks each running clock of each open case at risk or overdue, once.

One query (``cases_with_new_findings``) finds the open cases with a running clock due before
their marketplace's at-risk horizon that has no alert yet: an anti-join, in the database, of
the clocks due soon against the alerts recorded. When nothing changed it finds nothing, and the
run writes nothing. The cases it finds are locked and judged clock by clock
(``cases.services.active_deadlines``, ``deadline_status``): a clock at risk or overdue is
recorded once per (case, clock, level, due time) as a ``DeadlineAlert`` together with a
``deadline_at_risk`` / ``deadline_missed`` case event (which the API turns into webhook
events), in one transaction per 500 cases. Then the assignee (or the team) gets one e-mail
listing their new alerts; every alert waiting is told in the same run (``jobs.notify``).

Safe to re-run after a crash: alerts already recorded are skipped (and a unique constraint
stops an overlapping run), alerts recorded but not yet notified are notified by the next run.
Queries are bounded: one to find, then per batch of cases one select, one look-up of existing
alerts, the kernel's writes and one insert of the batch's alerts."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format

from cases.actors import Actor
from cases.choices import CLOSED_STATES, CaseState, Door
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
    marketplaces = {m.pk: m for m in Marketplace.objects.filter(is_active=True).order_by("pk")}
    changed = cases_with_new_findings(marketplaces=list(marketplaces.values()), at=at)
    for marketplace_id, case_ids in sorted(changed.items()):
        marketplace = marketplaces[marketplace_id]
        for start in range(0, len(case_ids), batch_size):
            batch = list(
                Case.objects.filter(pk__in=case_ids[start : start + batch_size])
                .select_related("order")
                .order_by("pk")
            )
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


# The running clocks of ``cases.deadlines._running``, in SQL: (clock, its column, when it runs).
# ``tests/jobs/test_sweep_set_based.py`` holds them equal to ``active_deadlines``.
_CLOCKS_SQL = (
    ("response", "response_due_at", "first_responded_at IS NULL"),
    ("evidence", "evidence_due_at", f"state = '{CaseState.AWAITING_EVIDENCE}'"),
    ("resolution", "resolution_due_at", "resolved_at IS NULL"),
    ("supplier_contact", "supplier_contact_due_at", f"state = '{CaseState.NEW}'"),
    ("supplier_switch", "supplier_switch_due_at", f"state = '{CaseState.SUPPLIER_CONTACTED}'"),
    ("evidence_review", "review_due_at", f"state = '{CaseState.UNDER_REVIEW}'"),
    ("refund_decision", "refund_decision_due_at", "refund_awaiting_since IS NOT NULL"),
)


def cases_with_new_findings(
    *, marketplaces: list[Marketplace], at: dt.datetime
) -> dict[int, list[int]]:
    """The open cases (by marketplace id) with a running clock at risk or overdue at ``at``
    that has no alert yet: one query, an anti-join of the clocks due before each
    marketplace's at-risk horizon against the alerts recorded.

    When nothing changed it finds nothing, so a sweep over 1,000,000 open cases reads the
    cases due soon once, in the database, and writes nothing. A clock due before the horizon
    is at risk or overdue (``due_horizon`` cuts where ``deadline_status`` does); what it finds
    is judged again by ``_record_batch`` with ``deadline_status``, which has the last word.
    """
    if not marketplaces:
        return {}
    sql, params = new_findings_query(
        marketplaces=marketplaces, at=at, select="DISTINCT f.marketplace_id, f.id"
    )
    changed: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY f.marketplace_id, f.id", params)
        for marketplace_id, case_id in cursor.fetchall():
            changed.setdefault(marketplace_id, []).append(case_id)
    return changed


def new_findings_query(
    *, marketplaces: list[Marketplace], at: dt.datetime, select: str
) -> tuple[str, list[Any]]:
    """The SQL of ``cases_with_new_findings`` selecting ``select`` from ``f`` (``id``,
    ``marketplace_id``, ``clock``, ``due``) and ``level`` (what the alert's level would be),
    with its parameters (the benchmark replays it as its baseline)."""
    adapt = connection.ops.adapt_datetimefield_value
    horizons = [(m.pk, adapt(at_risk_horizon(m, at))) for m in marketplaces]
    scope = " OR ".join("(marketplace_id = %s AND next_due_at < %s)" for _ in horizons)
    horizon_of = " ".join("WHEN %s THEN %s" for _ in horizons)
    due_columns = ", ".join(column for _clock, column, _running in _CLOCKS_SQL)
    found = " UNION ALL ".join(
        f"SELECT id, marketplace_id, '{clock}' AS clock, {column} AS due FROM candidates "
        f"WHERE {running} AND {column} < horizon"
        for clock, column, running in _CLOCKS_SQL
    )
    closed = ", ".join(["%s"] * len(CLOSED_STATES))
    sql = (
        f"WITH candidates AS (SELECT id, marketplace_id, state, first_responded_at, "
        f"resolved_at, refund_awaiting_since, {due_columns}, "
        f"CASE marketplace_id {horizon_of} END AS horizon "
        f"FROM {Case._meta.db_table} WHERE state NOT IN ({closed}) AND ({scope})), "
        f"found AS ({found}), "
        "leveled AS (SELECT id, marketplace_id, clock, due, "
        "CASE WHEN due < %s THEN 'overdue' ELSE 'at_risk' END AS level FROM found) "
        f"SELECT {select} FROM leveled f WHERE NOT EXISTS ("
        f"SELECT 1 FROM {DeadlineAlert._meta.db_table} a WHERE a.case_id = f.id "
        "AND a.clock = f.clock AND a.due_at = f.due AND a.level = f.level)"
    )
    params = [
        *(value for pair in horizons for value in pair),
        *CLOSED_STATES,
        *(value for pair in horizons for value in pair),
        adapt(at),
    ]
    return sql, params


Finding = tuple[str, str, dt.datetime, int]  # clock, level, due at, business days left


def _record_batch(batch: list[Case], marketplace: Marketplace, at: dt.datetime) -> int:  # noqa: C901
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
    alerts: list[DeadlineAlert] = []
    last_of_chunk: list[int] = [0]

    def prepare(cases: list[Case]) -> None:
        # Under the lock: an overlapping sweep may have recorded some meanwhile.
        recorded.clear()
        recorded.update(_alerts_of([case.pk for case in cases]))
        last_of_chunk[0] = cases[-1].pk if cases else 0

    def write_alerts() -> None:
        # The chunk's alerts in one INSERT, in its transaction (after its events, which
        # they point to): a burst of 70,000 is 140 statements, not 70,000.
        DeadlineAlert.objects.bulk_create(alerts)
        alerts.clear()

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
                alerts.append(
                    DeadlineAlert(
                        case_id=act.case.pk,
                        clock=clock,
                        level=level,
                        due_at=due_at,
                        detected_at=at,
                        event=pending.row,
                    )
                )

            act.after_write(write_alert)
            created += 1
        if act.case.pk == last_of_chunk[0]:  # the chunk's last callback: after every alert's
            act.after_write(write_alerts)

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
