"""``manage.py evidence_verify``: read every evidence file back and compare it with the SHA-256
recorded when it was stored (``cases.integrity``). Exit status 1 when a file is missing,
unreadable or changed; run it after every restore (README, "Backups").

    evidence_verify                    # check everything, list the problems
    evidence_verify --record-missing   # also record digests of files stored before they were
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cases.integrity import evidence_verify


class Command(BaseCommand):
    help = (
        "Check every evidence file against its recorded SHA-256; list missing and changed "
        "files; exit status 1 if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--record-missing",
            action="store_true",
            help="record the digest of files stored before digests were recorded",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = evidence_verify(
            record_missing=options["record_missing"],
            progress=lambda n: self.stderr.write(f"{n} files checked..."),
        )
        for problem in result.problems:
            detail = f" ({problem.detail})" if problem.detail else ""
            self.stdout.write(
                f"{problem.problem.upper()}: evidence {problem.evidence_id} of case "
                f"{problem.case_reference}: {problem.file_name}{detail}"
            )
        summary = (
            f"{result.checked} evidence files checked: {result.ok} intact, "
            f"{len(result.problems)} with problems"
        )
        if result.unrecorded:
            summary += f"; {result.unrecorded} had no recorded digest" + (
                f" ({result.recorded} recorded now)"
                if result.recorded
                else " (present; run with --record-missing to record them)"
            )
        if result.clean:
            self.stdout.write(self.style.SUCCESS(summary + "."))
            return
        self.stderr.write(self.style.ERROR(summary + "."))
        raise SystemExit(1)
