"""``python manage.py pack_verify FILE.zip``: is this the dispute pack the system produced?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from packs.verify import pack_verify


class Command(BaseCommand):
    help = (
        "Say whether a dispute pack is the one the system produced (its SHA-256 is in the "
        "case's audit trail) and, if not, which file changed. Exit status 1 when it is not."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="the pack (a ZIP)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        verdict = pack_verify(data)
        if verdict.produced:
            self.stdout.write(self.style.SUCCESS(verdict.summary))
            return
        self.stdout.write(self.style.ERROR(verdict.summary))
        for name in verdict.changed:
            self.stdout.write(f"changed: {name}")
        for name in verdict.missing:
            self.stdout.write(f"missing: {name}")
        for name in verdict.added:
            self.stdout.write(f"added: {name}")
        if not verdict.manifest_known:
            self.stdout.write("changed: manifest.json")
        raise SystemExit(1)
