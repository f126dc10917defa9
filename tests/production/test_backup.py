"""Backup and restore (README, "Backups"): ``scripts/backup`` dumps the database and copies the
evidence; ``scripts/restore`` loads them into a fresh PostgreSQL database and folder and runs
``evidence_verify``, which passes, then finds a single changed byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .postgres import cluster, postgres_bin
from .server import ROOT, manage, production_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL binaries not installed"),
]

SETUP = """
import datetime as dt, json
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from cases.actors import Actor
from cases.choices import Door
from cases.demo_media import make_photo
from cases.services import case_open, evidence_add, order_upsert
from marketplaces.models import Marketplace
actor = Actor.system("backup test")
tmall = Marketplace.objects.get(code="tmall")
now = timezone.now()
names = []
for i in range(3):
    order, _ = order_upsert(marketplace=tmall, external_id=f"TM-B{i}",
                            placed_at=now - dt.timedelta(days=5))
    case, _ = case_open(marketplace=tmall, order=order, kind="damaged_item", actor=actor,
                     door=Door.COMMAND, opened_at=now - dt.timedelta(days=1))
    for j in range(2):
        photo = make_photo(f"backup-{i}-{j}", seed=i * 10 + j, size=(80, 60))
        added = evidence_add(case=case, upload=SimpleUploadedFile(f"p{j}.jpg", photo),
                             source="customer", actor=actor, door=Door.COMMAND)
        names.append(added.evidence.file.name)
print(json.dumps(names))
"""


def script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_backup_restore_into_a_fresh_database_and_verify(tmp_path):
    with cluster() as pg:
        source = production_env(tmp_path / "source", pg.url)
        manage(source, "migrate", "--noinput", "-v0")
        names = json.loads(manage(source, "shell", "-c", SETUP).strip().splitlines()[-1])
        assert len(names) == 6

        # back up
        backup = tmp_path / "backup"
        done = script("backup", str(backup), env=source)
        assert done.returncode == 0, done.stderr
        assert (backup / "database.dump").stat().st_size > 0
        assert all((backup / "evidence" / name).is_file() for name in names)  # and previews

        # restore into a fresh database and an empty folder
        subprocess.run(
            [str(pg.bin / "createdb"), "-h", str(pg.folder), "-U", "aftersales", "restored"],
            check=True,
            timeout=60,
        )
        restored_media = tmp_path / "restored" / "media"
        restored = production_env(
            tmp_path / "restored",
            pg.url.replace("/aftersales?", "/restored?"),
            MEDIA_ROOT=str(restored_media),
        )
        done = script("restore", str(backup), env=restored)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "6 evidence files checked: 6 intact, 0 with problems." in done.stdout

        # the restored database is the source's: same cases, same audit trail
        count = (
            "from cases.models import Case, CaseEvent, Evidence; "
            "print(Case.objects.count(), CaseEvent.objects.count(), Evidence.objects.count())"
        )
        assert manage(restored, "shell", "-c", count) == manage(source, "shell", "-c", count)

        # one changed byte in the restored copy is found, and named
        victim = restored_media / "evidence" / names[4]
        data = bytearray(victim.read_bytes())
        data[-10] ^= 0xFF
        victim.write_bytes(bytes(data))
        done = subprocess.run(
            [str(Path(ROOT / ".venv/bin/python")), "manage.py", "evidence_verify"],
            cwd=ROOT,
            env=restored,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1
        assert "CHANGED: evidence" in done.stdout and names[4] in done.stdout
        assert "6 evidence files checked: 5 intact, 1 with problems." in done.stderr
