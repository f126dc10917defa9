"""Evidence integrity: every stored file read back and its SHA-256 compared with the digest
recorded when it was stored (``Evidence.stored_sha256``). What ``manage.py evidence_verify``
runs, alone or after a restore from backup (README, "Backups").

The original a customer sent is not kept (its GPS and device data are stripped before storing),
so its recorded SHA-256 (``Evidence.sha256``) identifies it but cannot be recomputed; the stored
copy is what a backup must bring back byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .models import Evidence, evidence_storage

CHUNK = 1024 * 1024


def stream_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return stream_sha256(handle)


@dataclass(frozen=True)
class EvidenceProblem:
    evidence_id: int
    case_reference: str
    file_name: str
    problem: str  # "missing" | "changed" | "unreadable"
    detail: str = ""


@dataclass
class EvidenceVerification:
    checked: int = 0
    ok: int = 0
    # Stored before digests of the stored copy were recorded: checked for presence only.
    unrecorded: int = 0
    recorded: int = 0  # digests recorded by this run (``record_missing``)
    problems: list[EvidenceProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


def _files() -> Iterator[tuple[int, str, str, str]]:
    # Erased evidence (personal data) keeps its row but not its file.
    rows = (
        Evidence.objects.filter(erased_at__isnull=True)
        .exclude(file="")
        .order_by("pk")
        .values_list("pk", "case__reference", "file", "stored_sha256")
    )
    yield from rows.iterator(chunk_size=2000)


def evidence_verify(
    *, record_missing: bool = False, progress: Callable[[int], None] | None = None
) -> EvidenceVerification:
    """Read every evidence file from the evidence storage (local folder or object storage) and
    compare it with its recorded digest. ``record_missing`` records the digest of files that
    have none (once, after the upgrade that added it); nothing else is written."""
    result = EvidenceVerification()
    for pk, reference, name, recorded in _files():
        result.checked += 1
        try:
            with evidence_storage.open(name, "rb") as handle:
                actual = stream_sha256(handle)
        except FileNotFoundError:
            result.problems.append(EvidenceProblem(pk, reference, name, "missing"))
            continue
        except OSError as exc:
            result.problems.append(EvidenceProblem(pk, reference, name, "unreadable", str(exc)))
            continue
        if not recorded:
            result.unrecorded += 1
            if record_missing:
                # Not a change of the case (no version, no event): the digest of its stored file.
                Evidence.objects.filter(pk=pk, stored_sha256="").update(stored_sha256=actual)
                result.recorded += 1
        elif actual != recorded:
            result.problems.append(
                EvidenceProblem(
                    pk, reference, name, "changed", f"expected {recorded}, found {actual}"
                )
            )
            continue
        result.ok += 1
        if progress is not None and result.checked % 1000 == 0:
            progress(result.checked)
    return result
