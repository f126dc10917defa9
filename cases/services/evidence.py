"""Evidence: every door (admin, upload form, API) adds files through ``evidence_add``.

A file is kept only if ``cases.media.inspect_media`` accepts it; what is kept is the
metadata-free copy under a random name in the private evidence storage, with the SHA-256 of
the original. A refused file leaves nothing on disk or in the database. The same file sent twice
to one case is recognised and not stored again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files import File
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events
from ..actors import Actor
from ..choices import Door, EvidenceSource, ReviewStatus
from ..errors import CaseRefused, ErrorCode, EvidenceRefused
from ..integrity import file_sha256
from ..kernel import case_action, check_not_future
from ..media import inspect_media, materialize
from ..models import Case, Evidence, EvidenceRequest, evidence_storage, evidence_upload_to

DERIVE_TASK = "cases.tasks.make_evidence_previews"


@dataclass(frozen=True)
class EvidenceAdded:
    evidence: Evidence
    duplicate: bool


def evidence_add(  # noqa: C901 (each branch is one rule of an upload, in the order checked)
    *,
    case: Case,
    upload: Any,
    source: EvidenceSource | str,
    actor: Actor,
    door: Door,
    request: EvidenceRequest | None = None,
    checklist_item: str = "",
    uploaded_at: dt.datetime | None = None,
    then: Callable[[], Any] | None = None,
    expected_version: int | None = None,
) -> EvidenceAdded:
    """Validate ``upload`` (a Django ``File``) and attach it to ``case``.

    ``uploaded_at`` is for imported history (default now; never in the future). ``then`` runs
    inside the same transaction once a new file is recorded (what the file completes, such as
    an evidence request): if it fails, neither the row nor the stored file remains.
    """
    if uploaded_at is not None:
        check_not_future(uploaded_at, field="uploaded_at", now=timezone.now())
        if uploaded_at < case.opened_at:
            raise EvidenceRefused(
                ErrorCode.OCCURRED_BEFORE_PREVIOUS,
                _("A file cannot arrive before the case was opened (%(when)s).")
                % {"when": case.opened_at.isoformat()},
                field="uploaded_at",
            )
    if not case.is_open:
        raise EvidenceRefused(
            ErrorCode.CASE_CLOSED,
            _("Case %(ref)s is closed and no longer takes evidence.") % {"ref": case.reference},
        )
    with materialize(upload) as raw:
        existing = Evidence.objects.filter(case=case, sha256=raw.sha256).first()
        if existing is not None:
            return EvidenceAdded(existing, duplicate=True)
        inspected = inspect_media(raw)
        stored_name = ""
        try:
            with case_action(
                case, actor=actor, door=door, expected_version=expected_version
            ) as act:
                locked = act.case
                # Checked again under the lock: the case may have closed, or the link been
                # revoked, while the file was being inspected.
                if not locked.is_open:
                    raise EvidenceRefused(
                        ErrorCode.CASE_CLOSED,
                        _("Case %(ref)s is closed and no longer takes evidence.")
                        % {"ref": locked.reference},
                    )
                if (
                    request is not None
                    and not EvidenceRequest.objects.select_for_update()
                    .filter(pk=request.pk, revoked_at__isnull=True)
                    .exists()
                ):
                    raise EvidenceRefused(
                        ErrorCode.INVALID_VALUE, _("This link has been withdrawn."), field="request"
                    )
                existing = Evidence.objects.filter(case=locked, sha256=raw.sha256).first()
                if existing is not None:
                    return EvidenceAdded(existing, duplicate=True)
                evidence = Evidence(
                    case=locked,
                    request=request,
                    checklist_item=checklist_item[:64],
                    media_type=inspected.media_type,
                    original_name=raw.name,
                    sha256=raw.sha256,
                    size_bytes=raw.size,
                    stored_size_bytes=inspected.clean_path.stat().st_size,
                    stored_sha256=file_sha256(inspected.clean_path),
                    content_type=inspected.content_type,
                    width=inspected.width,
                    height=inspected.height,
                    duration_seconds=inspected.duration_seconds,
                    video_codec=inspected.video_codec,
                    container=inspected.container,
                    source=source,
                    uploaded_by=actor.user,
                    uploaded_at=uploaded_at or act.now,
                )
                with open(inspected.clean_path, "rb") as handle:
                    stored_name = evidence_storage.save(
                        evidence_upload_to(evidence, f"x.{inspected.extension}"), File(handle)
                    )
                evidence.file.name = stored_name
                evidence.save()
                act.event(
                    events.EvidenceAdded(
                        evidence=evidence.pk,
                        media_type=evidence.media_type,
                        sha256=evidence.sha256,
                        request=request.pk if request else None,
                    ),
                    occurred_at=evidence.uploaded_at,
                )
                evidence_id = evidence.pk
                act.on_commit(lambda: _queue_previews(evidence_id))
                if then is not None:
                    then()
        except IntegrityError:
            # A concurrent upload of the same file won the race: theirs is the one kept.
            if stored_name:
                evidence_storage.delete(stored_name)
            existing = Evidence.objects.get(case=case, sha256=raw.sha256)
            return EvidenceAdded(existing, duplicate=True)
        except BaseException:
            if stored_name:
                evidence_storage.delete(stored_name)
            raise
        finally:
            inspected.clean_path.unlink(missing_ok=True)
    return EvidenceAdded(evidence, duplicate=False)


def _queue_previews(evidence_id: int) -> None:
    from django_q.tasks import async_task

    async_task(DERIVE_TASK, evidence_id, task_name=f"evidence-previews-{evidence_id}")


def evidence_review(
    *,
    evidence: Evidence | int,
    status: ReviewStatus | str,
    actor: Actor,
    door: Door,
    reason: str = "",
    reviewed_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Evidence:
    """Accept or reject one file; a rejection needs a reason."""
    pk = evidence if isinstance(evidence, int) else evidence.pk
    if status not in {ReviewStatus.ACCEPTED, ReviewStatus.REJECTED}:
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE, _("A review accepts or rejects the file."), field="status"
        )
    if status == ReviewStatus.REJECTED and not reason.strip():
        raise EvidenceRefused(
            ErrorCode.REASON_REQUIRED, _("Say why the file is rejected."), field="reason"
        )
    now = timezone.now()
    if reviewed_at is not None:
        check_not_future(reviewed_at, field="reviewed_at", now=now)
    case_id = Evidence.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseRefused(
            ErrorCode.NOT_FOUND, _("There is no evidence %(id)s.") % {"id": pk}, field="evidence"
        )
    with case_action(case_id, actor=actor, door=door, expected_version=expected_version) as act:
        item = Evidence.objects.select_for_update().get(pk=pk)
        item.review_status = status
        item.review_reason = reason
        item.reviewed_at = reviewed_at or act.now
        item.reviewed_by = actor.user
        item.save(update_fields=["review_status", "review_reason", "reviewed_at", "reviewed_by"])
        act.event(
            events.EvidenceReviewed(evidence=item.pk, status=status),
            occurred_at=item.reviewed_at,
            reason=reason,
        )
    return item
