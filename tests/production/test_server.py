"""``make serve``: gunicorn with several workers, the production settings, static files hashed
and compressed by WhiteNoise."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

import pytest

from .server import ROOT, gunicorn, manage, production_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("gunicorn") is None,
        reason="gunicorn is not installed (pip install -e .): production server test skipped",
    ),
]


@pytest.fixture
def served(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    with gunicorn(env, tmp_path, workers=2) as server:
        yield server


def test_gunicorn_serves_health_admin_and_hashed_static_files(served):
    # the process answers
    status, headers, body = served.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])

    # the admin login page, in production settings: no debug page, a CSP, no unhashed static
    status, headers, body = served.get("/admin/login/")
    html = body.decode()
    assert status == 200
    assert "Content-Security-Policy" in headers
    stylesheet = re.search(r'href="(/static/admin/css/base\.([0-9a-f]{12})\.css)"', html)
    assert stylesheet, html[:2000]
    assert "/static/admin/css/base.css" not in html

    # the hashed file, compressed for a client that accepts it, cached for ever
    status, headers, body = served.get(stylesheet.group(1), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]

    # an unknown page is Django's plain 404, not the debug page
    status, _headers, body = served.get("/no-such-page/")
    assert status == 404
    assert b"Traceback" not in body and b"DEBUG = True" not in body

    # several workers answered (the master and at least two booted workers)
    output = served.output()
    assert output.count("Booting worker") >= 2, output[-2000:]
    # every line gunicorn and the application wrote is one JSON object
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    access = [json.loads(line) for line in lines if '"gunicorn.access"' in line]
    assert {entry["path"] for entry in access} >= {"/healthz", "/admin/login/"}
    assert all(re.fullmatch(r"[0-9a-f]{32}", entry["request_id"]) for entry in access)


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    env.pop("SECRET_KEY")
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr
