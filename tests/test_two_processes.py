"""Several machines, as production runs: two web processes and two django-q2 clusters
(``manage.py qcluster``) with the production settings, on one PostgreSQL and one Redis.

* every scheduled job runs once per period, though both clusters run the scheduler;
* rate limits are shared: a client's requests split across both web processes count as one;
* a case changed from both web processes at once keeps its lock and version semantics: with the
  same ``If-Match`` one write wins and the other gets 409, never a lost update; without it both
  writes are applied, one after the other.

The web processes are gunicorn when it is installed, else Django's ``runserver``; either way with
``DEBUG`` off and the settings read from the environment, as in production.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection
from django.utils import timezone

from tests.api.test_live import Http
from tests.servers import free_port, wait_for_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
# django-q2's guard loop runs the scheduler every 30 seconds of its life.
SCHEDULER_EVERY = 30


def _database_url() -> str:
    """DATABASE_URL naming the test database (the one pytest-django created)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


class System:
    """The processes, their logs, and an HTTP client per web process."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.web_urls: list[str] = []

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((name, process))
        return process

    def start_web(self, name: str) -> None:
        port = free_port()
        if importlib.util.find_spec("gunicorn"):
            command = [sys.executable, "-m", "gunicorn", "aftersales.wsgi:application"]
            command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"]
        else:
            command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"]
            command += ["--noreload", "--skip-checks"]
        process = self.start(name, command)
        self.web_urls.append(f"http://127.0.0.1:{port}")
        self._ports = [*getattr(self, "_ports", []), (port, process)]

    def wait_ready(self) -> None:
        for port, process in self._ports:
            try:
                wait_for_port(port, timeout=60, process=process)
            except RuntimeError as error:
                name = next(n for n, p in self.processes if p is process)
                raise RuntimeError(f"{name}: {error}\n{self.log(name)[-3000:]}") from error

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for _name, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _name, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def system(transactional_db, redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "two-processes-" + "k" * 40),
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "outbox"),
        "Q_WORKERS": "1",
        "API_INVALID_KEY_LIMIT": "6",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_CACHE_URL", "REDIS_BROKER_URL", "Q_SYNC", "PYTEST_XDIST_WORKER"):
        env.pop(name, None)
    running = System(tmp_path, env)
    try:
        yield running
    finally:
        running.stop()


def _due_schedules() -> dict[str, dt.datetime]:
    """Every schedule installed (``setup_schedules`` and the ones the apps create after
    migrating) and due now; returns name -> next run before."""
    from django_q.models import Schedule

    from jobs.schedules import schedules_install

    schedules_install()
    past = timezone.now() - dt.timedelta(minutes=1)
    Schedule.objects.update(next_run=past)
    return dict(Schedule.objects.values_list("name", "next_run"))


def _burst(calls: list, workers: int = 4) -> list:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def _avoid_window_edge(seconds: int) -> None:
    """Fixed-window counts: do not start a burst in the last 3 s of a window."""
    if time.time() % seconds > seconds - 3:
        time.sleep(4)


def test_two_web_processes_and_two_workers_share_one_system(system):
    from django_q.models import Schedule, Task

    from api.models import ApiClient
    from cases.actors import Actor
    from cases.models import Case, CaseEvent
    from jobs.schedules import planned
    from tests.api.conftest import make_client
    from tests.factories import open_case

    # given data written here, committed, and every schedule due
    started = time.monotonic()
    _client, key = make_client("erp", ["tmall"])
    _limited, limited_key = make_client("limited", ["tmall"], throttle_rate="10/h")
    case = open_case("damaged_item", actor=Actor.system("tests"))
    before = _due_schedules()
    names = sorted(before)
    assert {plan.name for plan in planned()} <= set(names)

    # when two web processes and two clusters start
    system.start_web("web1")
    system.start_web("web2")
    for n in (1, 2):
        system.start(f"worker{n}", [sys.executable, "manage.py", "qcluster"])
    clusters_started = time.monotonic()
    system.wait_ready()
    web = [Http(url, key) for url in system.web_urls]
    limited = [Http(url, limited_key) for url in system.web_urls]
    for http in web:
        assert http.json("GET", "/api/v1/marketplaces/")[0] == 200

    # then a rate limit counts the requests of both processes together: 10 an hour, 16 sent,
    # 8 to each process, 4 at a time
    _avoid_window_edge(3600)
    statuses = _burst(
        [
            (lambda http=limited[n % 2]: http.call("GET", "/api/v1/marketplaces/")[0])
            for n in range(16)
        ]
    )
    assert sorted(statuses) == [200] * 10 + [429] * 6, statuses

    # and a case written from both processes with the same If-Match: one wins, one gets 409
    path = f"/api/v1/cases/{case.reference}/"
    for round_ in range(10):
        status, headers, _body = web[0].call("GET", path)
        assert status == 200
        etag = headers["ETag"]
        version = Case.objects.get(pk=case.pk).version
        barrier = threading.Barrier(2)

        def patch(http: Http, text: str, etag: str = etag, barrier=barrier) -> tuple[int, str]:
            barrier.wait()
            status, body = http.json(
                "PATCH", path, {"description": text}, headers={"If-Match": etag}
            )
            return status, body.get("code", "")

        answers = _burst(
            [
                lambda r=round_: patch(web[0], f"round {r} from web1"),
                lambda r=round_: patch(web[1], f"round {r} from web2"),
            ],
            workers=2,
        )
        assert sorted(answers) == [(200, ""), (409, "case_changed")], answers
        after = Case.objects.get(pk=case.pk)
        assert after.version == version + 1
        assert after.description in {f"round {round_} from web1", f"round {round_} from web2"}

    # and without If-Match both writes are applied, one after the other (no lost update)
    events_before = CaseEvent.objects.filter(case=case).count()
    version = Case.objects.get(pk=case.pk).version
    barrier = threading.Barrier(2)

    def unconditional(http: Http, priority: str) -> int:
        barrier.wait()
        return http.json("PATCH", path, {"priority": priority})[0]

    answers = _burst(
        [lambda: unconditional(web[0], "high"), lambda: unconditional(web[1], "low")], workers=2
    )
    assert answers == [200, 200]
    assert Case.objects.get(pk=case.pk).version == version + 2
    assert CaseEvent.objects.filter(case=case).count() == events_before + 2

    # and every scheduled job ran exactly once, though both clusters ran the scheduler
    deadline = clusters_started + SCHEDULER_EVERY + 25
    while time.monotonic() < deadline:
        done = set(Task.objects.filter(group__in=names).values_list("group", flat=True))
        if done >= set(names):
            break
        time.sleep(0.5)
    # past the first scheduler pass of both clusters
    time.sleep(max(0.0, clusters_started + SCHEDULER_EVERY + 3 - time.monotonic()))
    for n in (1, 2):
        assert "running" in system.log(f"worker{n}"), system.log(f"worker{n}")[-2000:]
    runs = {
        name: list(Task.objects.filter(group=name).values_list("success", flat=True))
        for name in names
    }
    assert runs == {name: [True] for name in names}, (
        runs,
        system.log("worker1")[-3000:],
        system.log("worker2")[-3000:],
    )
    created = [
        line
        for n in (1, 2)
        for line in system.log(f"worker{n}").splitlines()
        if "from schedule" in line and "created task" in line
    ]
    assert len(created) == len(names), created
    now = timezone.now()
    for name, next_run in Schedule.objects.filter(name__in=names).values_list("name", "next_run"):
        assert next_run > now, name  # the next period, not this one again
        assert next_run > before[name]

    # and invalid keys sent to both processes count together (6 allowed, then 429 on both)
    bad = [Http(url, "as_nothing.notakey") for url in system.web_urls]
    statuses = _burst(
        [(lambda http=bad[n % 2]: http.call("GET", "/api/v1/cases/")[0]) for n in range(10)],
        workers=1,
    )
    assert statuses == [401] * 6 + [429] * 4, statuses
    assert ApiClient.objects.count() == 2
    assert time.monotonic() - started < 90
