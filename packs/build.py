"""Producing a dispute pack: a ZIP holding ``summary.pdf``, the evidence files as stored
(metadata removed) and ``manifest.json``, which lists the SHA-256 of every other file of the
ZIP and of every original upload. The pack's own SHA-256 (and the manifest's) is recorded in the
case's audit trail through the kernel (a typed ``pack_produced`` event), so that ``pack_verify``
can tell later whether a pack is the one the system produced, and if not, which file changed.

A video larger than the marketplace's ``pack_max_embedded_video_mb`` is not put in the ZIP: the
manifest and the PDF name it by its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from django.utils import timezone, translation

from cases.actors import Actor
from cases.choices import Door, MediaType
from cases.events import PackProduced
from cases.kernel import case_action
from cases.models import Case, Evidence, evidence_storage

from .contents import pack_contents
from .pdf import summary_pdf

FORMAT = "aftersales-dispute-pack/1"
MANIFEST = "manifest.json"
SUMMARY = "summary.pdf"
LANGUAGES = ("en", "fr", "zh-hans")


@dataclass(frozen=True)
class Pack:
    filename: str
    data: bytes
    sha256: str
    manifest_sha256: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(name: str | None) -> bytes | None:
    if not name:
        return None
    try:
        with evidence_storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def _evidence_path(evidence: Evidence) -> str:
    name = evidence.file.name or ""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
    return f"evidence/{evidence.pk:06d}-{evidence.media_type}.{suffix}"


def pack_build(
    *,
    case: Case | int,
    language: str,
    actor: Actor,
    door: Door,
    include_internal_notes: bool = False,
    at: dt.datetime | None = None,
) -> Pack:
    """Produce the dispute pack of ``case`` in ``language`` and record its SHA-256 in the
    case's audit trail; returns the ZIP. Internal notes are left out unless asked for."""
    language = language if language in LANGUAGES else "en"
    at = at or timezone.now()
    case_id = case if isinstance(case, int) else case.pk
    case_obj = Case.objects.select_related("marketplace").get(pk=case_id)
    pack_id = str(uuid.uuid4())
    limit = case_obj.marketplace.pack_max_embedded_video_mb * 1024 * 1024
    with translation.override(language):
        contents = pack_contents(
            case_obj, language=language, include_internal=include_internal_notes, at=at
        )
        files: dict[str, bytes] = {}
        entries: list[dict[str, Any]] = []
        thumbnails: dict[int, bytes] = {}
        for evidence in contents.evidence:
            stored = _read(evidence.file.name) if not evidence.erased_at else None
            entry: dict[str, Any] = {
                "id": evidence.pk,
                "media_type": evidence.media_type,
                "original_name": evidence.original_name,
                "uploaded_at": evidence.uploaded_at.isoformat(),
                "review_status": evidence.review_status,
                "sha256_original": evidence.sha256,
                "size_original": evidence.size_bytes,
                "sha256_stored": _sha256(stored) if stored is not None else None,
                "size_stored": len(stored) if stored is not None else None,
                "path": None,
                "erased": bool(evidence.erased_at) or stored is None,
            }
            too_big = evidence.media_type == MediaType.VIDEO and evidence.stored_size_bytes > limit
            if stored is not None and not too_big:
                entry["path"] = _evidence_path(evidence)
                files[entry["path"]] = stored
            if stored is not None:
                entry["erased"] = False
                entry["linked_by_hash"] = too_big
            thumb = _read(evidence.thumbnail.name) if evidence.thumbnail else None
            if thumb is None and evidence.media_type == MediaType.PHOTO and stored is not None:
                thumb = stored
            if thumb is not None:
                thumbnails[evidence.pk] = thumb
            entries.append(entry)
        files[SUMMARY] = summary_pdf(
            contents, pack_id=pack_id, evidence_entries=entries, thumbnails=thumbnails
        )
    manifest = {
        "format": FORMAT,
        "pack_id": pack_id,
        "case": case_obj.reference,
        "marketplace": case_obj.marketplace.code,
        "produced_at": at.isoformat(),
        "language": language,
        "internal_notes": include_internal_notes,
        "files": [
            {"path": path, "sha256": _sha256(data), "size": len(data)}
            for path, data in sorted(files.items())
        ],
        "evidence": entries,
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    data = _zip(files, manifest_bytes, at=at)
    pack = Pack(
        filename=f"{case_obj.reference}-pack-{language}.zip",
        data=data,
        sha256=_sha256(data),
        manifest_sha256=_sha256(manifest_bytes),
    )
    with case_action(case_id, actor=actor, door=door) as act:
        act.event(
            PackProduced(
                sha256=pack.sha256,
                manifest_sha256=pack.manifest_sha256,
                language=language,
                internal_notes=include_internal_notes,
                files=len(files),
            )
        )
    return pack


def _zip(files: dict[str, bytes], manifest: bytes, *, at: dt.datetime) -> bytes:
    out = io.BytesIO()
    stamp = at.astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(out, "w") as archive:
        for path, data in [(MANIFEST, manifest), *sorted(files.items())]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            # Media are compressed already; the PDF and the manifest shrink.
            info.compress_type = (
                zipfile.ZIP_STORED if path.startswith("evidence/") else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, data)
    return out.getvalue()
