"""The workspace speaks English, French and Simplified Chinese."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import open_case

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Work queues", "My overdue cases", "Open the dashboard"]),
        ("fr", ["Files de travail", "Mes dossiers en retard", "Ouvrir le tableau de bord"]),
        ("zh-hans", ["工作队列", "我的逾期工单", "打开仪表板"]),
    ],
)
def test_home_page_in_each_language(agent_client, language, expected):
    html = agent_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in expected:
        assert text in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Ce que vous pouvez faire maintenant", "Preuves", "Historique", "Échéances"]),
        ("zh-hans", ["您现在可以执行的操作", "证据", "时间线", "截止时间"]),
    ],
)
def test_case_page_in_each_language(agent_client, language, expected):
    case = open_case("damaged_item", actor=SYSTEM)
    html = agent_client.get(
        f"/admin/cases/case/{case.pk}/change/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    for text in expected:
        assert text in html


def test_the_language_switch_sets_the_language(agent_client):
    response = agent_client.post(
        "/admin/workspace/dashboard/language/", {"language": "fr", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert "Files de travail" in agent_client.get("/admin/").content.decode()


ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["fr", "zh_Hans"]


def untranslated(po: Path, *, sources: tuple[str, ...] = ()) -> list[str]:
    """msgids of ``po`` without a translation (only those from ``sources`` files if given)."""
    missing = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = block.splitlines()
        refs = " ".join(line for line in lines if line.startswith("#:"))
        if sources and not any(f" {source}:" in f" {refs[3:]}" for source in sources):
            continue
        if any(line.startswith("#~") for line in lines):
            continue
        text = "\n".join(line for line in lines if not line.startswith("#"))
        msgid = re.search(r'^msgid "(.*)"', text, re.M)
        if not msgid or (msgid.group(1) == "" and "\nmsgid_plural" not in text and refs == ""):
            continue
        strings = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', text + "\n", re.M)
        if not strings or any(not "".join(re.findall(r'"(.*)"', s)) for s in strings):
            missing.append(msgid.group(1) or text.split("\n")[1])
    return missing


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("app", ["workspace", "marketplaces"])
def test_every_text_of_the_workspace_is_translated(app, language):
    po = ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po"
    assert untranslated(po) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_labels_the_admin_shows_from_cases_are_translated(language):
    po = ROOT / "cases" / "locale" / language / "LC_MESSAGES" / "django.po"
    missing = untranslated(
        po, sources=("admin.py", "choices.py", "workflows.py", "models.py", "services/cases.py")
    )
    assert missing == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) not installed")
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("app", ["workspace", "marketplaces"])
def test_compiled_catalogs_are_up_to_date(app, language, tmp_path):
    folder = ROOT / app / "locale" / language / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(folder / "django.po")], check=True)
    assert fresh.read_bytes() == (folder / "django.mo").read_bytes(), f"compile {app}"


def test_model_and_transition_labels_in_chinese(agent_client):
    case = open_case("damaged_item", actor=SYSTEM)
    html = agent_client.get("/admin/cases/case/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "商品损坏" in html  # the kind
    assert "新建" in html  # the state
    page = agent_client.get(
        f"/admin/cases/case/{case.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "请求证据" in page  # a transition button
