"""HTTPS by configuration: the documented production environment (``docs/production.env``)
passes ``check --deploy`` with no warning, and each variable reaches its setting."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from .server import ROOT

pytestmark = pytest.mark.slow


def documented_environment() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / "docs" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _sep, value = line.partition("=")
            values[name] = value
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    values["DATABASE_URL"] = values["DATABASE_URL"].replace("<password>", "pw")
    assert not any("<" in value for value in values.values()), values
    return values


def run(env_values: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env_values,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


SETTINGS_PROBE = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS", "INTAKE_PUBLIC_URL")}))
"""


def test_check_deploy_is_clean_with_the_documented_production_environment():
    done = run(documented_environment(), "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_each_https_variable_reaches_its_setting():
    done = run(documented_environment(), "shell", "-c", SETTINGS_PROBE)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": ["https://support.example.com"],
        "ALLOWED_HOSTS": ["support.example.com"],
        "INTAKE_PUBLIC_URL": "https://support.example.com",
    }


def test_without_the_https_variables_check_deploy_names_what_is_missing():
    values = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)}
    done = run(values, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stderr, warning


@pytest.mark.django_db
def test_behind_the_proxy_https_requests_get_hsts_and_others_a_redirect(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    plain = client.get("/admin/login/")
    assert plain.status_code == 301
    assert plain["Location"].startswith("https://")
    secure = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_admin_and_form_pages_send_the_content_security_policy(client, settings):
    for path in ("/admin/login/", "/e/not-a-real-link/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    # the API readers keep their own policy
    assert "cdn" not in client.get("/api/redoc/")["Content-Security-Policy"]
