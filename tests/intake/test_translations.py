"""The visitor-facing texts are translated (fr, zh-hans) and the compiled catalogs are shipped
up to date."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["fr", "zh_Hans"]
# In cases/, what a customer or partner can read: refusals of files and of links, checklists,
# who a request is for.
CUSTOMER_FACING = ("media.py", "services/evidence_requests.py", "services/evidence.py")


def entries(po: Path) -> list[tuple[str, str, str]]:
    """(source references, msgid, first msgstr) of every entry of a .po file."""
    found = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        refs = " ".join(line for line in block.splitlines() if line.startswith("#:"))
        parts = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid_plural|msgid|msgstr(?:\[0\])?)\s+(".*")$', line)
            if match:
                key = match.group(1).replace("[0]", "")
                parts[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                parts[key] += ast.literal_eval(line)
            elif line.startswith("msgstr[") and key:
                key = None
        if parts.get("msgid"):
            found.append((refs, parts["msgid"], parts.get("msgstr", "")))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_of_the_intake_is_translated(language):
    po = ROOT / "intake" / "locale" / language / "LC_MESSAGES" / "django.po"

    missing = [msgid for _refs, msgid, msgstr in entries(po) if not msgstr]

    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_facing_texts_of_the_cases_app_are_translated(language):
    po = ROOT / "cases" / "locale" / language / "LC_MESSAGES" / "django.po"

    facing = [(r, m, s) for r, m, s in entries(po) if any(f in r for f in CUSTOMER_FACING)]
    missing = [msgid for _refs, msgid, msgstr in facing if not msgstr]

    assert len(facing) > 30
    assert missing == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) not installed")
@pytest.mark.parametrize("app", ["intake", "cases"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogs_match_their_sources(app, language, tmp_path):
    folder = ROOT / app / "locale" / language / "LC_MESSAGES"
    fresh = tmp_path / "django.mo"

    subprocess.run(["msgfmt", "-o", str(fresh), str(folder / "django.po")], check=True)

    assert fresh.read_bytes() == (folder / "django.mo").read_bytes(), (
        f"run compilemessages in {app}/"
    )
