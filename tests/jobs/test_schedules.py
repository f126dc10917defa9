"""`setup_schedules` installs the worker's schedules and can run again without harm."""

import datetime as dt

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from jobs import schedules

pytestmark = pytest.mark.django_db
NAMES = {
    "Deadline sweep": ("jobs.tasks.sweep_deadlines", "I", 5),
    "Late-shipment escalation": ("jobs.tasks.escalate_late_shipments", "I", 15),
    "Evidence reminders": ("intake.tasks.send_evidence_reminders", "I", 15),
    "Scorecard daily facts": ("scorecards.tasks.refresh_facts", "I", 1),
    "Scorecard snapshots": ("scorecards.tasks.take_daily_snapshots", "D", None),
    "Quarterly scorecard report": ("scorecards.tasks.send_quarterly_reports", "D", None),
}


def test_schedules_are_installed_once_and_keep_their_next_run(capsys):
    call_command("setup_schedules")
    installed = {
        s.name: (s.func, s.schedule_type, s.minutes)
        for s in Schedule.objects.filter(name__in=NAMES)
    }
    assert installed == NAMES
    others = Schedule.objects.exclude(name__in=NAMES).count()  # other apps' schedules
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    Schedule.objects.filter(name="Scorecard snapshots").update(next_run=later)
    capsys.readouterr()

    call_command("setup_schedules")

    assert Schedule.objects.count() == len(NAMES) + others
    assert Schedule.objects.get(name="Scorecard snapshots").next_run == later
    assert capsys.readouterr().out.count("unchanged") == len(NAMES)


def test_a_changed_interval_is_updated(settings):
    call_command("setup_schedules")
    settings.DEADLINE_SWEEP_MINUTES = 2
    assert ("Deadline sweep", "updated (minutes)") in schedules.schedules_install()
    assert Schedule.objects.get(name="Deadline sweep").minutes == 2


def test_a_task_that_does_not_exist_is_not_scheduled(monkeypatch):
    planned = schedules.planned()
    monkeypatch.setattr(
        schedules,
        "planned",
        lambda: [*planned, schedules.Planned("Ghost", "nowhere.tasks.ghost", Schedule.DAILY)],
    )
    report = dict(schedules.schedules_install())
    assert report["Ghost"] == "skipped: nowhere.tasks.ghost does not exist"
    assert not Schedule.objects.filter(name="Ghost").exists()


def test_every_scheduled_task_is_importable():
    for func, _type, _minutes in NAMES.values():
        assert schedules.task_exists(func), func
