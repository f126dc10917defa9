"""Answering an evidence request through its link: files received, checklist progress, and
the case moving to review once what was asked has arrived."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from ...choices import Audience, CaseState, Door, EvidenceSource, ReviewStatus
from ...errors import ErrorCode, EvidenceRefused, TransitionRefused
from ...kernel import case_action
from ...models import Evidence, EvidenceRequest
from ..evidence import EvidenceAdded, evidence_add
from .requests import link_actor


@dataclass(frozen=True)
class ChecklistEntry:
    """One checklist item of a request and how many valid files arrived for it."""

    key: str
    label: str
    hint: str
    required: bool
    received: int

    @property
    def done(self) -> bool:
        return self.received > 0


def checklist_progress(evidence_request: EvidenceRequest) -> list[ChecklistEntry]:
    """The request's checklist with the count of files sent for each item through the request
    (rejected files do not count). One query."""
    counts = dict(
        Evidence.objects.filter(request=evidence_request)
        .exclude(review_status=ReviewStatus.REJECTED)
        .values_list("checklist_item")
        .annotate(n=Count("pk"))
        .values_list("checklist_item", "n")
    )
    return [
        ChecklistEntry(
            key=item["key"],
            label=item.get("label", item["key"]),
            hint=item.get("hint", ""),
            required=bool(item.get("required", True)),
            received=counts.get(item["key"], 0),
        )
        for item in evidence_request.checklist
    ]


def _is_complete(entries: list[ChecklistEntry], total: int) -> bool:
    required = [entry for entry in entries if entry.required]
    if not required:  # nothing is required: any file answers the request
        return total > 0
    return all(entry.done for entry in required)


@dataclass(frozen=True)
class EvidenceReceived:
    """What happened to one file sent through a link."""

    added: EvidenceAdded
    fulfilled: bool  # this file completed the request
    moved_to_review: bool  # ... and the case went to review


def evidence_request_receive(
    *,
    evidence_request: EvidenceRequest,
    upload: Any,
    checklist_item: str = "",
) -> EvidenceReceived:
    """A file sent by the holder of the request's link: checked and stored by ``evidence_add``
    (source customer or partner, actor the link, door the form); when it completes the
    required items of a customer's request, the case moves to review."""
    keys = {item["key"] for item in evidence_request.checklist}
    if checklist_item and checklist_item not in keys:
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE,
            _("This request does not ask for “%(item)s”.") % {"item": checklist_item[:64]},
            field="checklist_item",
        )
    # A cheap early refusal (no need to inspect a large file for a withdrawn link);
    # ``evidence_add`` checks again under the case lock.
    current = EvidenceRequest.objects.filter(pk=evidence_request.pk).values("revoked_at").first()
    if current is None or current["revoked_at"] is not None:
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE, _("This link has been withdrawn."), field="request"
        )
    audience = evidence_request.audience
    outcome = (False, False)

    def fulfil() -> None:
        nonlocal outcome
        outcome = _fulfil(evidence_request, early=False)

    added = evidence_add(
        case=evidence_request.case,
        upload=upload,
        source=EvidenceSource.CUSTOMER if audience == Audience.CUSTOMER else EvidenceSource.PARTNER,
        actor=link_actor(evidence_request),
        door=Door.FORM,
        request=evidence_request,
        checklist_item=checklist_item,
        then=fulfil,  # the file and what it completes are one transaction
    )
    fulfilled, moved = outcome
    return EvidenceReceived(added=added, fulfilled=fulfilled, moved_to_review=moved)


def evidence_request_finish(*, evidence_request: EvidenceRequest) -> bool:
    """The link's holder says they have sent all they have, even if required items are
    missing: the request is fulfilled and a customer's case goes to review. Needs at least one
    file. Returns whether the case moved to review."""
    if not Evidence.objects.filter(request=evidence_request).exists():
        raise EvidenceRefused(
            ErrorCode.INVALID_VALUE,
            _("Send at least one photo or video first."),
            field="file",
        )
    _fulfilled, moved = _fulfil(evidence_request, early=True)
    return moved


def _fulfil(evidence_request: EvidenceRequest, *, early: bool) -> tuple[bool, bool]:
    actor = link_actor(evidence_request)
    with case_action(evidence_request.case_id, actor=actor, door=Door.FORM) as act:
        request = EvidenceRequest.objects.select_for_update().get(pk=evidence_request.pk)
        if request.fulfilled_at is not None or request.revoked_at is not None:
            return False, False
        entries = checklist_progress(request)
        total = Evidence.objects.filter(request=request).count()
        if not (early and total) and not _is_complete(entries, total):
            return False, False
        request.fulfilled_at = act.now
        request.save(update_fields=["fulfilled_at"])
        evidence_request.fulfilled_at = request.fulfilled_at
        if request.audience != Audience.CUSTOMER or act.case.state != CaseState.AWAITING_EVIDENCE:
            return True, False
        try:
            # A savepoint: a refusal (say, every file was rejected meanwhile) leaves the request
            # fulfilled and the case where it is, for staff to look at.
            with transaction.atomic():
                act.transition(
                    "start_review",
                    source="evidence_complete" if not early else "evidence_sent_all",
                    evidence_request=request.pk,
                )
        except TransitionRefused:
            return True, False
        return True, True
