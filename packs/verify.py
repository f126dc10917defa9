"""Checking a dispute pack: is it the one the system produced, and if not, what changed.

A pack whose SHA-256 is in a case's audit trail (``pack_produced``) is the one the system
produced, byte for byte. Otherwise each file is checked against ``manifest.json``, and the
manifest itself against the SHA-256 recorded with it (a manifest edited to match an edited
file is caught there)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from cases.choices import EventType
from cases.models import CaseEvent

from .build import MANIFEST


@dataclass
class Verdict:
    produced: bool  # byte for byte the pack the system produced
    case: str = ""
    produced_at: str = ""
    changed: list[str] = field(default_factory=list)  # files whose SHA-256 differs
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    manifest_known: bool = False
    problem: str = ""

    @property
    def summary(self) -> str:
        if self.produced:
            return _("This is the pack the system produced for case %(case)s on %(at)s.") % {
                "case": self.case,
                "at": self.produced_at,
            }
        if self.problem:
            return self.problem
        parts = [_("This is NOT the pack the system produced.")]
        if not self.manifest_known:
            parts.append(_("manifest.json is not one the system wrote (it was changed)."))
        if self.changed:
            parts.append(_("Changed: %(files)s.") % {"files": ", ".join(self.changed)})
        if self.missing:
            parts.append(_("Missing: %(files)s.") % {"files": ", ".join(self.missing)})
        if self.added:
            parts.append(_("Added: %(files)s.") % {"files": ", ".join(self.added)})
        if self.manifest_known and not (self.changed or self.missing or self.added):
            parts.append(_("Its files match the manifest: only the ZIP itself was rewritten."))
        return " ".join(parts)


def _recorded(**lookup: str) -> CaseEvent | None:
    return (
        CaseEvent.objects.select_related("case")
        .filter(event_type=EventType.PACK_PRODUCED, **{f"data__{k}": v for k, v in lookup.items()})
        .first()
    )


def pack_verify(data: bytes) -> Verdict:
    """The verdict on the pack ``data`` (a ZIP's bytes)."""
    event = _recorded(sha256=hashlib.sha256(data).hexdigest())
    if event is not None:
        return Verdict(
            produced=True,
            case=event.case.reference,
            produced_at=event.recorded_at.isoformat(),
            manifest_known=True,
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        manifest_bytes = archive.read(MANIFEST)
        manifest = json.loads(manifest_bytes)
        listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        return Verdict(
            produced=False,
            problem=_("This is not a dispute pack: not a ZIP with a readable manifest.json."),
        )
    verdict = Verdict(produced=False, case=str(manifest.get("case", "")))
    verdict.manifest_known = (
        _recorded(manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest()) is not None
    )
    for path, sha in sorted(listed.items()):
        if path not in names:
            verdict.missing.append(path)
        elif hashlib.sha256(archive.read(path)).hexdigest() != sha:
            verdict.changed.append(path)
    verdict.added = sorted(names - set(listed) - {MANIFEST})
    return verdict
