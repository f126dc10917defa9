"""Load test of the production server: gunicorn (``gunicorn.conf.py``, DEBUG off) and N concurrent
API clients, each working its own damaged-item claims the way an integration does: list the
cases, read one, move one a step (request evidence, upload the customer's photo, start the
review, confirm, reship, mark reshipped, close). Prints throughput, p50/p95/p99 per operation and
overall, and the errors (any answer that is not 2xx). Issue 11's targets: at least 150 requests a
second, p95 at most 100 ms, no error.

    scripts/with-postgres .venv/bin/python bench/load.py                 # PostgreSQL (production)
    scripts/with-postgres .venv/bin/python bench/load.py --clients 16 --seconds 60 --workers 5
    .venv/bin/python bench/load.py                                       # SQLite file (one writer)
    .venv/bin/python bench/load.py --url https://staging.example --key as_...  # a running server

Without ``--url`` it starts its own server on a free port against DATABASE_URL (which it migrates;
without one, a SQLite file in a temporary folder), creates an API client and the orders and cases
it needs (not measured), runs the load, and stops the server. The server's access log (JSON
lines) is kept in the temporary folder it names.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = [
    "request_evidence",
    "upload",
    "start_review",
    "confirm",
    "start_reship",
    "mark_reshipped",
    "close",
]
SECRET = "load-bench-" + "Zq8mW3xK7pL2vN9rT4yB" * 3


# -- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(folder: Path, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SETTINGS", "DEBUG"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "aftersales.settings",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or SECRET,
            "DATABASE_URL": os.environ.get("DATABASE_URL")
            or f"sqlite:///{folder / 'load.sqlite3'}",
            "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
            "MEDIA_ROOT": str(folder / "media"),
            "STATIC_ROOT": str(folder / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "API_THROTTLE_RATE": "1000000/min",  # the load is one client: measure the server
            "WEB_CONCURRENCY": str(workers),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def start_server(env: dict[str, str], folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "aftersales.wsgi"],
        cwd=ROOT,
        env={**env, "BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit((folder / "gunicorn.log").read_text()[-3000:])
        try:
            if Http(url, "").request("GET", "/healthz")[0] == 200:
                return process, url
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer /healthz within 60 s")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


# -- the clients ----------------------------------------------------------------------------------


class Http:
    """One request per connection, as gunicorn's sync workers serve them."""

    def __init__(self, base: str, key: str) -> None:
        parts = urlsplit(base)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.key = key

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        connection = kind(self.host, self.port, timeout=60)
        headers = {"Authorization": f"Token {self.key}"} if self.key else {}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, data: object = None) -> tuple[int, object]:
        body = json.dumps(data).encode() if data is not None else None
        status, content = self.request(method, path, body, "application/json" if body else "")
        return status, json.loads(content) if content else None


def photo(seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (160, 120), tuple(rng.randint(0, 255) for _ in range(3)))
    for _ in range(40):
        x, y = rng.randint(0, 159), rng.randint(0, 119)
        image.putpixel((x, y), tuple(rng.randint(0, 255) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\ncustomer\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def prepare(http_: Http, marketplace: str, clients: int, per_client: int) -> list[list[str]]:
    """Orders and open claims for every client (not measured); returns each client's cases."""
    run = uuid.uuid4().hex[:6]
    placed = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    opened = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    total = clients * per_client
    for start in range(0, total, 1000):
        orders = [
            {"marketplace": marketplace, "external_id": f"LOAD-{run}-{i}", "placed_at": placed}
            for i in range(start, min(total, start + 1000))
        ]
        status, body = http_.json("POST", "/api/v1/orders/", orders)
        if status != 200:
            sys.exit(f"order import failed: {status} {body}")
    owned: list[list[str]] = [[] for _ in range(clients)]
    lock = threading.Lock()

    def open_cases(number: int) -> None:
        for i in range(number * per_client, (number + 1) * per_client):
            status, body = http_.json(
                "POST",
                "/api/v1/cases/",
                {
                    "marketplace": marketplace,
                    "order": f"LOAD-{run}-{i}",
                    "kind": "damaged_item",
                    "external_id": f"LOAD-{run}-{i}",
                    "opened_at": opened,
                },
            )
            if status != 201:
                sys.exit(f"case creation failed: {status} {body}")
            with lock:
                owned[number].append(body["reference"])  # type: ignore[index]

    threads = [threading.Thread(target=open_cases, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return owned


@dataclass
class Results:
    durations: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, status: int, body: bytes) -> None:
        with self.lock:
            self.durations[op].append(seconds)
            if not 200 <= status < 300:
                self.errors[op].append(f"{status} {body[:200].decode(errors='replace')}")


def client(number: int, http_: Http, cases: list[str], stop: threading.Event, out: Results) -> None:
    """List, read, read, step, in turn; a step moves the client's current case along the
    pipeline (its own cases: no two clients change one case)."""
    picture = photo(number)
    position = dict.fromkeys(cases, 0)
    current = 0
    turn = 0
    rng = random.Random(number)
    while not stop.is_set():
        turn += 1
        kind = ("list", "detail", "step", "detail")[turn % 4]
        if kind == "list":
            path, method, body, ctype, op = (
                "/api/v1/cases/?state=awaiting_evidence",
                "GET",
                None,
                "",
                "list",
            )
        elif kind == "detail":
            reference = rng.choice(cases)
            path, method, body, ctype, op = f"/api/v1/cases/{reference}/", "GET", None, "", "detail"
        else:
            if current >= len(cases):
                continue  # every case closed: only reads from now on
            reference = cases[current]
            step = PIPELINE[position[reference]]
            if step == "upload":
                body, ctype = multipart(f"photo-{reference}.jpg", picture)
                path, method, op = f"/api/v1/cases/{reference}/evidence/", "POST", "upload"
            else:
                body = json.dumps({"transition": step}).encode()
                path, method, ctype, op = (
                    f"/api/v1/cases/{reference}/transitions/",
                    "POST",
                    "application/json",
                    "transition",
                )
            position[reference] += 1
            if position[reference] == len(PIPELINE):
                current += 1
        start = time.perf_counter()
        try:
            status, content = http_.request(method, path, body, ctype)
        except OSError as exc:
            status, content = 0, str(exc).encode()
        out.record(op, time.perf_counter() - start, status, content)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: Results, seconds: float, header: dict[str, object]) -> dict[str, object]:
    every = [value for values in results.durations.values() for value in values]
    errors = sum(len(values) for values in results.errors.values())
    print(" ".join(f"{k}={v}" for k, v in header.items()))
    print(
        f"{'operation':<12}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}"
    )
    rows = {**{op: results.durations[op] for op in sorted(results.durations)}, "all": every}
    summary: dict[str, object] = {**header}
    for op, values in rows.items():
        if not values:
            continue
        errs = errors if op == "all" else len(results.errors.get(op, []))
        figures = {
            "requests": len(values),
            "rps": round(len(values) / seconds, 1),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "errors": errs,
        }
        summary[op] = figures
        print(
            f"{op:<12}{figures['requests']:>10}{figures['rps']:>9}{figures['p50_ms']:>9}"
            f"{figures['p95_ms']:>9}{figures['p99_ms']:>9}{errs:>8}"
        )
    for op, messages in results.errors.items():
        for message in messages[:3]:
            print(f"error ({op}): {message}")
    target = every and len(every) / seconds >= 150 and percentile(every, 0.95) <= 0.100
    print(
        "targets (issue 11: >= 150 req/s, p95 <= 100 ms, 0 errors): "
        + ("met" if target and not errors else "NOT met")
    )
    print("json: " + json.dumps(summary))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the measured run")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: default)")
    parser.add_argument("--cases", type=int, default=30, help="cases each client works")
    parser.add_argument("--marketplace", default="tmall")
    parser.add_argument("--url", default="", help="a running server (then --key is needed)")
    parser.add_argument("--key", default="", help="an API key for --url")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="aftersales-load-"))
    process = None
    try:
        if options.url:
            url, key = options.url.rstrip("/"), options.key
            database, workers = "remote", "remote"
        else:
            workers = options.workers or min((os.cpu_count() or 1) * 2 + 1, 8)
            env = server_env(folder, workers)
            database = env["DATABASE_URL"].split(":", 1)[0]
            manage(env, "migrate", "--noinput", "-v0")
            key = manage(
                env,
                "create_api_client",
                f"load-{folder.name}",
                "--marketplaces",
                options.marketplace,
            ).split()[-1]
            process, url = start_server(env, folder)
        http_ = Http(url, key)
        owned = prepare(http_, options.marketplace, options.clients, options.cases)
        results = Results()
        stop = threading.Event()
        threads = [
            threading.Thread(target=client, args=(n, http_, owned[n], stop, results))
            for n in range(options.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(options.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        report(
            results,
            elapsed,
            {
                "server": "gunicorn" if process else url,
                "workers": workers,
                "database": database,
                "clients": options.clients,
                "seconds": round(elapsed, 1),
                "cpus": os.cpu_count(),
            },
        )
        if process and options.keep:
            print(f"server log (JSON lines): {folder / 'gunicorn.log'}")
    finally:
        if process is not None:
            stop_server(process)
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
