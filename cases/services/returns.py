"""Return requests: created or updated from marketplace data, and answered by the seller
(Amazon's Return Dissatisfaction Rate reads them: valid requests not answered within 48 hours,
wrongly rejected, or given negative feedback).

Each request stores its ``response_due_at`` (``cases.deadlines.return_response_due``: the
marketplace's ``return_response_hours``, calendar time). An answer (authorise, close, reject
with a reason, refund without return) is recorded once; on a request linked to a case it is
written through the kernel, with a ``return_answered`` event in the case's history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..actors import Actor
from ..choices import Door, ReturnDecision
from ..deadlines import return_response_due
from ..errors import CaseRefused, ErrorCode
from ..events import ReturnAnswered
from ..kernel import case_action, check_not_future
from ..models import Case, Order, ReturnRequest

RETURN_FIELDS = (
    "requested_at",
    "is_valid",
    "customer_reason",
    "responded_at",
    "decision",
    "rejection_reason",
    "rejection_overturned_at",
    "negative_feedback_at",
)
_MOMENTS = ("requested_at", "responded_at", "rejection_overturned_at", "negative_feedback_at")
MAX_REASON = 2000


def return_request_upsert(
    *,
    marketplace: Marketplace,
    external_id: str,
    order: Order,
    case: Case | None = None,
    **fields: Any,
) -> tuple[ReturnRequest, bool]:
    """Create the return request, or update the fields given; returns (request, created).

    Raises ``CaseRefused`` when the order or case belongs to another marketplace or a time is
    in the future, and ``django.core.exceptions.ValidationError`` (field-keyed) for other
    invalid values. Nothing is written on refusal.
    """
    unknown = set(fields) - set(RETURN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown return request fields: {', '.join(sorted(unknown))}")
    if order.marketplace_id != marketplace.pk or (
        case is not None and case.marketplace_id != marketplace.pk
    ):
        raise CaseRefused(
            ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
            _("Order %(order)s belongs to another marketplace.") % {"order": order.external_id},
            field="order",
        )
    now = timezone.now()
    for name in _MOMENTS:
        moment: dt.datetime | None = fields.get(name)
        if moment is not None and (timezone.is_naive(moment) or moment > now):
            raise CaseRefused(
                ErrorCode.OCCURRED_IN_FUTURE if moment.tzinfo else ErrorCode.INVALID_VALUE,
                _("%(field)s must be a past time with a time zone offset.") % {"field": name},
                field=name,
            )
    with transaction.atomic():
        existing = (
            ReturnRequest.objects.select_for_update()
            .filter(marketplace=marketplace, external_id=external_id)
            .first()
        )
        if existing is None:
            created = ReturnRequest(
                marketplace=marketplace, external_id=external_id, order=order, case=case, **fields
            )
            created.response_due_at = _due(marketplace, created.requested_at)
            created.full_clean(validate_unique=False)
            created.save()
            return created, True
        changes = {
            name: value for name, value in fields.items() if getattr(existing, name) != value
        }
        if case is not None and existing.case_id != case.pk:
            changes["case"] = case
        if "requested_at" in changes:
            changes["response_due_at"] = _due(marketplace, changes["requested_at"])
        if changes:
            for name, value in changes.items():
                setattr(existing, name, value)
            existing.full_clean(exclude=["marketplace", "order"], validate_unique=False)
            existing.save(update_fields=[*changes, "updated_at"])
    return existing, False


def _due(marketplace: Marketplace, requested_at: dt.datetime | None) -> dt.datetime | None:
    return return_response_due(marketplace, requested_at) if requested_at else None


def return_request_answer(
    *,
    return_request: ReturnRequest | int,
    decision: ReturnDecision | str,
    actor: Actor,
    door: Door,
    reason: str = "",
    answered_at: dt.datetime | None = None,
) -> ReturnRequest:
    """Answer a return request: authorise it, close it, refund without a return, or reject it
    with a reason. Once only: a second answer is refused (``return_already_answered``).

    Raises ``CaseRefused`` (nothing written) for an unknown request or decision, a rejection
    without a reason, a time in the future or before the request."""
    pk = return_request if isinstance(return_request, int) else return_request.pk
    if decision not in ReturnDecision.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The answer must be one of: %(values)s.")
            % {"values": ", ".join(ReturnDecision.values)},
            field="decision",
        )
    reason = (reason or "").strip()
    if decision == ReturnDecision.REJECTED and not reason:
        raise CaseRefused(
            ErrorCode.REJECTION_REASON_REQUIRED,
            _("Say why the return is rejected: the customer and the marketplace read it."),
            field="reason",
        )
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("A reason is text of at most %(max)s characters.") % {"max": f"{MAX_REASON:,}"},
            field="reason",
        )
    now = timezone.now()
    answered_at = answered_at or now
    check_not_future(answered_at, field="answered_at", now=now)
    found = list(ReturnRequest.objects.filter(pk=pk).values_list("case_id", flat=True)[:1])
    if not found:
        raise CaseRefused(
            ErrorCode.NOT_FOUND,
            _("There is no return request %(id)s.") % {"id": pk},
            field="return_request",
        )
    case_id = found[0]
    if case_id is None:
        with transaction.atomic():
            return _answer(pk, decision, reason, answered_at, actor)
    with case_action(case_id, actor=actor, door=door) as act:
        answered = _answer(pk, decision, reason, answered_at, actor)
        act.event(
            ReturnAnswered(
                return_request=answered.pk,
                external_id=answered.external_id,
                decision=answered.decision,
                on_time=_on_time(answered),
            ),
            occurred_at=answered_at,
            reason=reason,
        )
    return answered


def _answer(
    pk: int, decision: str, reason: str, answered_at: dt.datetime, actor: Actor
) -> ReturnRequest:
    request = ReturnRequest.objects.select_for_update().get(pk=pk)
    if request.decision:
        raise CaseRefused(
            ErrorCode.RETURN_ALREADY_ANSWERED,
            _("This return request was already answered (%(decision)s, %(when)s).")
            % {
                "decision": request.get_decision_display().lower(),
                "when": request.responded_at.isoformat() if request.responded_at else "?",
            },
        )
    if answered_at < request.requested_at:
        raise CaseRefused(
            ErrorCode.OCCURRED_BEFORE_PREVIOUS,
            _("A return request cannot be answered before it was made (%(when)s).")
            % {"when": request.requested_at.isoformat()},
            field="answered_at",
        )
    request.decision = decision
    request.responded_at = answered_at
    request.rejection_reason = reason if decision == ReturnDecision.REJECTED else ""
    request.answered_by_name = actor.name[:150]
    request.save(
        update_fields=[
            "decision",
            "responded_at",
            "rejection_reason",
            "answered_by_name",
            "updated_at",
        ]
    )
    return request


def _on_time(request: ReturnRequest) -> bool | None:
    if request.response_due_at is None or request.responded_at is None:
        return None
    return request.responded_at <= request.response_due_at


__all__ = ["RETURN_FIELDS", "return_request_answer", "return_request_upsert"]
