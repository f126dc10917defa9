"""Asking for evidence: requests (each the source of one upload link) and their withdrawal."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.calendars import calendar_for

from ...actors import Actor
from ...choices import Audience, Door
from ...errors import CaseRefused, ErrorCode
from ...events import EvidenceRequested, EvidenceRequestRevoked
from ...kernel import CaseAction, case_action
from ...models import Case, EvidenceRequest
from .checklists import default_checklist, normalise_checklist

# A link stays usable a few days past its deadline; a deadline further than this is a mistake
# (and dates near year 9999 would overflow).
MAX_DEADLINE_AHEAD = dt.timedelta(days=365)


def link_actor(evidence_request: EvidenceRequest) -> Actor:
    """The actor recorded for what the holder of the request's link does (rendered by its
    audience in the reader's language)."""
    return Actor.for_link(ref=evidence_request.pk, role=evidence_request.audience)


def evidence_request_create(
    *,
    case: Case | int,
    actor: Actor,
    door: Door,
    audience: Audience | str = Audience.CUSTOMER,
    checklist: list[Any] | None = None,
    message: str = "",
    due_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> EvidenceRequest:
    """Ask ``audience`` for evidence on ``case``; the deadline defaults to the marketplace's
    evidence wait (business days)."""
    if audience not in Audience.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The request must be for one of: %(values)s.")
            % {"values": ", ".join(Audience.values)},
            field="audience",
        )
    items = normalise_checklist(checklist) if checklist is not None else None
    if due_at is not None and timezone.is_naive(due_at):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE, _("The time must include a time zone offset."), field="due_at"
        )
    if "\x00" in (message or ""):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE, _("The message cannot hold NUL characters."), field="message"
        )
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        if not act.case.is_open:
            raise CaseRefused(
                ErrorCode.CASE_CLOSED,
                _("Case %(ref)s is closed; no evidence can be asked for.")
                % {"ref": act.case.reference},
            )
        if due_at is not None and due_at <= act.now:
            raise CaseRefused(
                ErrorCode.INVALID_VALUE, _("The deadline must be in the future."), field="due_at"
            )
        if due_at is not None and due_at > act.now + MAX_DEADLINE_AHEAD:
            raise CaseRefused(
                ErrorCode.INVALID_VALUE,
                _("The deadline can be at most a year ahead."),
                field="due_at",
            )
        return _create(
            act, audience=audience, checklist=items, message=message, due_at=due_at, at=act.now
        )


def _create(
    act: CaseAction,
    *,
    audience: str,
    checklist: list[dict[str, Any]] | None,
    message: str,
    due_at: dt.datetime | None,
    at: dt.datetime,
) -> EvidenceRequest:
    case = act.case
    if due_at is None:
        due_at = calendar_for(case.marketplace).deadline(
            at, case.marketplace.evidence_wait_business_days
        )
    request = EvidenceRequest.objects.create(
        case=case,
        audience=audience,
        checklist=checklist if checklist is not None else default_checklist(case.kind),
        message=message,
        due_at=due_at,
        token_nonce=secrets.token_urlsafe(16),
        created_by=act.actor.user,
    )
    act.event(
        EvidenceRequested(
            evidence_request=request.pk, audience=request.audience, due_at=due_at.isoformat()
        ),
        occurred_at=at,
    )
    return request


def active_customer_request(case: Case, *, at: dt.datetime | None = None) -> EvidenceRequest | None:
    """The customer's open request on ``case``: not revoked, not fulfilled, not past due."""
    return (
        EvidenceRequest.objects.filter(
            case=case,
            audience=Audience.CUSTOMER,
            revoked_at__isnull=True,
            fulfilled_at__isnull=True,
            due_at__gt=at or timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def evidence_request_ensure_for_customer(
    act: CaseAction, *, at: dt.datetime
) -> EvidenceRequest | None:
    """The effect of ``request_evidence``: a case awaiting evidence gives the customer a request
    (and so a link) unless one is open. Returns the request created, or None. The deadline is
    the case's own evidence deadline (from ``at``)."""
    if active_customer_request(act.case, at=act.now) is not None:
        return None
    return _create(act, audience=Audience.CUSTOMER, checklist=None, message="", due_at=None, at=at)


def evidence_request_revoke(
    *,
    evidence_request: EvidenceRequest | int,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
) -> EvidenceRequest:
    """Revoke the request's link (idempotent)."""
    pk = evidence_request if isinstance(evidence_request, int) else evidence_request.pk
    case_id = EvidenceRequest.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseRefused(
            ErrorCode.NOT_FOUND,
            _("There is no evidence request %(id)s.") % {"id": pk},
            field="evidence_request",
        )
    with case_action(case_id, actor=actor, door=door, expected_version=expected_version) as act:
        request = EvidenceRequest.objects.select_for_update().get(pk=pk)
        if request.revoked_at is None:
            request.revoked_at = act.now
            request.save(update_fields=["revoked_at"])
            act.event(EvidenceRequestRevoked(evidence_request=request.pk))
    return request
