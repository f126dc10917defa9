"""A real worker: `python manage.py qcluster` in another process, on the ORM broker, runs the
deadline sweep from its schedule.

The worker is another process, so it cannot see the test's in-memory SQLite database: on
SQLite the test migrates a database file of its own; on PostgreSQL it points the worker at the
test database (committed data: transactional test).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
SETUP = """
import datetime as dt
from django.utils import timezone
from django_q.models import Schedule
from cases.actors import Actor
from cases.choices import Door
from cases.services import case_open, order_upsert
from jobs.schedules import schedules_install
from marketplaces.models import Marketplace

now = timezone.now()
amazon = Marketplace.objects.get(code="amazon_fr")
order, _ = order_upsert(marketplace=amazon, external_id="WORKER-1",
                        placed_at=now - dt.timedelta(days=3))
case_open(marketplace=amazon, order=order, kind="damaged_item", door=Door.COMMAND,
          actor=Actor.system("worker test"), opened_at=now - dt.timedelta(days=2))
print(schedules_install())
Schedule.objects.exclude(name="Deadline sweep").update(next_run=now + dt.timedelta(days=1))
Schedule.objects.filter(name="Deadline sweep").update(next_run=now - dt.timedelta(seconds=1))
"""
PROBE = """
from django_q.models import Schedule, Success
from jobs.models import DeadlineAlert
runs = Success.objects.filter(func="jobs.tasks.sweep_deadlines").count()
alerts = DeadlineAlert.objects.filter(case__order__external_id="WORKER-1",
                                      clock="response", level="overdue").count()
schedule = Schedule.objects.get(name="Deadline sweep")
print("PROBE", runs, alerts, schedule.task or "-", schedule.next_run.isoformat())
"""


def _database_url(tmp_path: Path) -> str:
    if connection.vendor == "postgresql":
        # The server of DATABASE_URL, the test database on it.
        url = urlsplit(os.environ["DATABASE_URL"])
        return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    return f"sqlite:///{tmp_path / 'worker.sqlite3'}"


def _manage(env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_qcluster_runs_the_scheduled_deadline_sweep(tmp_path, transactional_db):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(tmp_path),
        "Q_WORKERS": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("Q_SYNC", None)
    if connection.vendor != "postgresql":
        _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "shell", "-c", SETUP)

    log = (tmp_path / "qcluster.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the cluster and its workers stop together
    )
    probe = ""
    try:
        deadline = time.monotonic() + 150  # the scheduler looks every 30 s
        while time.monotonic() < deadline:
            time.sleep(5)
            assert worker.poll() is None, (tmp_path / "qcluster.log").read_text()[-3000:]
            probe = _manage(env, "shell", "-c", PROBE).strip().splitlines()[-1]
            runs, alerts = probe.split()[1:3]
            if runs != "0" and alerts != "0":
                break
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()

    _, runs, alerts, task_id, _next_run = probe.split()
    output = (tmp_path / "qcluster.log").read_text()
    # the worker ran the schedule once, its task succeeded and recorded the overdue answer
    assert (runs, alerts) == ("1", "1"), output[-3000:]
    assert task_id != "-"
    assert "Deadline sweep" in output or "sweep_deadlines" in output
