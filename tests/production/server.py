"""The production server as the tests run it: real gunicorn processes, production settings
(DEBUG off), static files collected and served by WhiteNoise, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "production-test-" + "k7Qz9vX2mB4nR8tY1wE6" * 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_SETTINGS", "DEBUG", "REDIS_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
            "DEBUG": "0",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "STATIC_ROOT": str(tmp_path / "static"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
            "Q_SYNC": "1",  # tasks queued by a write run in the web process: no worker here
        }
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], tmp_path: Path, *, workers: int = 2) -> Iterator[Server]:
    """Start ``gunicorn --config gunicorn.conf.py aftersales.wsgi`` as ``make serve`` does, wait
    for ``/healthz``, stop it (and its workers) on exit."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    env = {**env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "aftersales.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, server.output()[-3000:]
            try:
                if server.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
