import pytest
from django.core.management import call_command

from cases.models import Case, CaseEvent, Evidence

pytestmark = pytest.mark.django_db


def test_load_demo_is_idempotent(capsys):
    call_command("load_demo", "--cases", "120")
    first = capsys.readouterr().out
    assert "Demo data: 120 cases created, 120 demo cases in all." in first
    counts = (Case.objects.count(), CaseEvent.objects.count(), Evidence.objects.count())
    call_command("load_demo", "--cases", "120")
    assert "Demo data: 0 cases created, 120 demo cases in all." in capsys.readouterr().out
    assert (Case.objects.count(), CaseEvent.objects.count(), Evidence.objects.count()) == counts
    # the first cases take the road to each state of each kind
    assert Case.objects.values("state").distinct().count() >= 10
    assert Evidence.objects.exists()


def test_demo_login_is_created_once(capsys, settings, tmp_path, monkeypatch):
    from aftersales.management.commands import demo_login

    monkeypatch.setattr(demo_login, "CREDENTIALS", tmp_path / "demo-login.txt")
    call_command("demo_login")
    first = capsys.readouterr().out.strip()
    call_command("demo_login")
    assert capsys.readouterr().out.strip() == first
    password = first.split(" / ")[1]
    from django.contrib.auth import authenticate
    from django.test import RequestFactory

    # a sign-in is checked against lockouts (django-axes), which needs the request
    request = RequestFactory().post("/admin/login/")
    assert authenticate(request, username="admin", password=password) is not None


def test_workflow_diagrams_cover_every_kind(capsys):
    call_command("workflow_diagrams")
    out = capsys.readouterr().out
    assert out.count("```mermaid") == 9
    assert "rejected --> escalated: escalate" in out


def test_admin_pages_open_for_staff(admin_client):
    call_command("load_demo", "--cases", "12")
    case = Case.objects.first()
    for url in [
        "/admin/",
        "/admin/cases/case/",
        f"/admin/cases/case/{case.pk}/change/",
        "/admin/cases/order/",
        "/admin/cases/caseevent/",
        "/admin/marketplaces/marketplace/",
        "/admin/cases/evidence/",
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no DEBUG, no SECRET_KEY
    result = subprocess.run(
        [sys.executable, str(root / "manage.py"), "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    # the development settings start with their own key
    env["DEBUG"] = "1"
    result = subprocess.run(
        [sys.executable, str(root / "manage.py"), "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_readme_shows_the_diagrams_the_table_generates(capsys):
    from pathlib import Path

    call_command("workflow_diagrams")
    generated = capsys.readouterr().out.strip()
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert generated in readme, "README diagrams are stale: run manage.py workflow_diagrams"
