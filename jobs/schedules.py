"""The schedules of the background worker, installed by ``python manage.py setup_schedules``."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class Planned:
    name: str
    func: str  # dotted path of the task
    schedule_type: str
    minutes: int | None = None
    # When the first run happens (UTC); None: at once.
    first_run_at_utc: dt.time | None = None


def planned() -> list[Planned]:
    return [
        Planned(
            "Deadline sweep",
            "jobs.tasks.sweep_deadlines",
            Schedule.MINUTES,
            minutes=settings.DEADLINE_SWEEP_MINUTES,
        ),
        Planned(
            "Late-shipment escalation",
            "jobs.tasks.escalate_late_shipments",
            Schedule.MINUTES,
            minutes=15,
        ),
        Planned(
            "Evidence reminders",
            "intake.tasks.send_evidence_reminders",
            Schedule.MINUTES,
            minutes=15,
        ),
        Planned(
            # Recomputes the days marked by the database triggers and the days that settled.
            "Scorecard daily facts",
            "scorecards.tasks.refresh_facts",
            Schedule.MINUTES,
            minutes=1,
        ),
        Planned(
            "Scorecard snapshots",
            "scorecards.tasks.take_daily_snapshots",
            Schedule.DAILY,
            first_run_at_utc=dt.time(0, 30),
        ),
        Planned(
            # Daily; the task sends each marketplace's report when the last is 90 days old.
            "Quarterly scorecard report",
            "scorecards.tasks.send_quarterly_reports",
            Schedule.DAILY,
            first_run_at_utc=dt.time(6, 0),
        ),
    ]


def task_exists(dotted: str) -> bool:
    module, _, name = dotted.rpartition(".")
    try:
        return callable(getattr(importlib.import_module(module), name, None))
    except ImportError:
        return False


def _first_run(plan: Planned, now: dt.datetime) -> dt.datetime:
    if plan.first_run_at_utc is None:
        return now
    first = dt.datetime.combine(now.date(), plan.first_run_at_utc, tzinfo=dt.UTC)
    return first if first > now else first + dt.timedelta(days=1)


def schedules_install(*, now: dt.datetime | None = None) -> list[tuple[str, str]]:
    """Create or update each planned schedule by name; returns (name, what happened).

    Idempotent: a schedule that exists keeps its next run (a restart does not re-run a daily
    job); a task that does not exist is skipped, never scheduled to fail.
    """
    now = now or timezone.now()
    report = []
    for plan in planned():
        if not task_exists(plan.func):
            report.append((plan.name, f"skipped: {plan.func} does not exist"))
            continue
        wanted = {
            "func": plan.func,
            "schedule_type": plan.schedule_type,
            "minutes": plan.minutes,
            "repeats": -1,
        }
        schedule = Schedule.objects.filter(name=plan.name).first()
        if schedule is None:
            Schedule.objects.create(name=plan.name, next_run=_first_run(plan, now), **wanted)
            report.append((plan.name, "created"))
            continue
        changed = [key for key, value in wanted.items() if getattr(schedule, key) != value]
        if changed:
            for key in changed:
                setattr(schedule, key, wanted[key])
            schedule.save(update_fields=changed)
            report.append((plan.name, f"updated ({', '.join(changed)})"))
        else:
            report.append((plan.name, "unchanged"))
    return report
