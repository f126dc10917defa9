"""PostgreSQL stopped during a burst of requests against the production server (gunicorn, two
workers): every door answers 503 with Retry-After while it is down (a problem on the API, a
plain translated page elsewhere), nothing is half-written, and the first requests after it is
back work, retries included.

The cluster is the test's own (``tests/production/postgres.py``), not the suite's server, so it
can be stopped; the test runs in the PostgreSQL stage of ``scripts/test``.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest

from .postgres import cluster, postgres_bin
from .server import gunicorn, manage, production_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL binaries not installed"),
]

SETUP = """
import json
from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_superuser("boss", password="pw-outage-boss-1")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"session": session.session_key}))
"""
PROBE = """
import json
from django.db.models import Count
from cases.models import Case
rows = list(Case.objects.annotate(n=Count("events")).values_list("external_id", "version", "n"))
print(json.dumps(rows))
"""


def call(base, method, path, *, key=None, body=None, headers=None, cookie=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if key:
        request.add_header("Authorization", f"Token {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if cookie:
        request.add_header("Cookie", cookie)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
    )
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_postgres_stopped_during_a_burst(tmp_path):
    with cluster() as pg:
        env = production_env(
            tmp_path,
            pg.url,
            DATABASE_CONN_MAX_AGE="60",  # kept connections die with the server: health checks
            API_THROTTLE_RATE="100000/min",
            OUTAGE_RETRY_AFTER_SECONDS="2",
        )
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        session = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])["session"]
        key = manage(env, "create_api_client", "erp", "--marketplaces", "tmall").split()[-1]
        cookie = f"sessionid={session}"
        with gunicorn(env, tmp_path, workers=2) as server:
            base = server.url
            placed = (dt.datetime.now(dt.UTC) - dt.timedelta(days=20)).isoformat()
            orders = [
                {"marketplace": "tmall", "external_id": f"TM-{i}", "placed_at": placed}
                for i in range(40)
            ]
            status, _h, body = call(base, "POST", "/api/v1/orders/", key=key, body=orders)
            assert status == 200, body
            opened = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()

            def claim(external_id: str, order: str) -> dict:
                return {
                    "marketplace": "tmall",
                    "order": order,
                    "kind": "damaged_item",
                    "external_id": external_id,
                    "opened_at": opened,
                }

            # a customer's upload link, for the form door
            status, _h, body = call(
                base, "POST", "/api/v1/cases/", key=key, body=claim("FORM-1", "TM-0")
            )
            assert status == 201, body
            reference = json.loads(body)["reference"]
            status, _h, body = call(
                base,
                "POST",
                f"/api/v1/cases/{reference}/transitions/",
                key=key,
                body={"transition": "request_evidence"},
            )
            assert status == 200, body
            form_path = urlsplit(json.loads(body)["evidence_requests"][0]["url"]).path
            assert call(base, "GET", form_path)[0] == 200
            assert call(base, "GET", "/admin/cases/case/", cookie=cookie)[0] == 200

            # the burst: creations, lists, the admin list, the upload form, each client in turn
            answers: list[tuple[str, int, dict, bytes, float]] = []
            created: dict[str, tuple[str, dict]] = {}  # external id -> key and body, to retry
            lock = threading.Lock()
            stop = threading.Event()

            def client(number: int) -> None:
                turn = 0
                while not stop.is_set():
                    turn += 1
                    door = ("create", "list", "admin", "form")[turn % 4]
                    if door == "create":
                        external_id = f"BURST-{number}-{turn}"
                        idem = uuid.uuid4().hex
                        body = claim(external_id, f"TM-{(number * 7 + turn) % 40}")
                        with lock:
                            created[external_id] = (idem, body)
                        answer = call(
                            base,
                            "POST",
                            "/api/v1/cases/",
                            key=key,
                            body=body,
                            headers={"Idempotency-Key": idem},
                        )
                    elif door == "list":
                        answer = call(base, "GET", "/api/v1/cases/?marketplace=tmall", key=key)
                    elif door == "admin":
                        answer = call(base, "GET", "/admin/cases/case/", cookie=cookie)
                    else:
                        answer = call(base, "GET", form_path, headers={"Accept-Language": "fr"})
                    with lock:
                        answers.append((door, *answer, time.monotonic()))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            time.sleep(2)
            down_at = time.monotonic()
            pg.stop("fast")
            time.sleep(1)
            ready_status, ready_headers, ready_body = call(base, "GET", "/readyz")
            time.sleep(2)
            pg.start()
            up_at = time.monotonic()
            time.sleep(3)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

            # while it was down, /readyz said so and named the database
            assert ready_status == 503
            assert "Retry-After" in ready_headers
            assert json.loads(ready_body)["failed"] == ["database"]

            # every answer was a success or a 503 with Retry-After: no 500, no traceback
            statuses = Counter((door, status) for door, status, *_ in answers)
            assert {status for _door, status in statuses} <= {200, 201, 503}, statuses
            outage = [a for a in answers if a[1] == 503]
            assert {door for door, *_ in outage} == {"create", "list", "admin", "form"}, statuses
            for door, _status, headers, body, _at in outage:
                assert headers["Retry-After"] == "2"
                assert b"Traceback" not in body
                if door in {"create", "list"}:
                    problem = json.loads(body)
                    assert headers["Content-Type"] == "application/problem+json"
                    assert problem["code"] == "service_unavailable"
                    assert problem["request_id"] == headers["X-Request-ID"]
                else:
                    assert headers["Content-Type"].startswith("text/html")
                    page = body.decode()
                    assert ("Briefly unavailable" in page) or ("Momentanément" in page)
                    if door == "form":
                        assert "Momentanément indisponible" in page
            # 503s only while it was down (plus the requests in flight when it came back)
            assert all(down_at - 0.5 <= at <= up_at + 5 for *_x, at in outage)

            # the first requests after it came back work, on every door
            assert call(base, "GET", "/readyz")[0] == 200
            assert call(base, "GET", "/api/v1/cases/?marketplace=tmall", key=key)[0] == 200
            assert call(base, "GET", "/admin/cases/case/", cookie=cookie)[0] == 200
            assert call(base, "GET", form_path)[0] == 200

            # a creation refused with 503 is retried with its Idempotency-Key: it is created once
            for external_id, (idem, sent) in created.items():
                status, _h, body = call(
                    base,
                    "POST",
                    "/api/v1/cases/",
                    key=key,
                    body=sent,
                    headers={"Idempotency-Key": idem},
                )
                assert status == 201, (external_id, status, body[:300])

        # nothing half-written: every case has its opening event and a version to match, and each
        # creation the clients sent exists once
        rows = json.loads(manage(env, "shell", "-c", PROBE).strip().splitlines()[-1])
        by_id = Counter(external_id for external_id, _version, _events in rows)
        assert all(count == 1 for count in by_id.values())
        assert set(created) <= set(by_id)
        for external_id, version, events in rows:
            assert events >= 1, external_id
            if external_id.startswith("BURST-"):
                assert (version, events) == (1, 1), external_id
        # the server logged the outage as warnings, not tracebacks
        output = server.output()
        assert "Database unavailable" in output
        assert "Traceback" not in output, output[-3000:]
