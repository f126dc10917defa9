"""The refund ledger: requests and the seller's decisions on them.

A rejection counts against the seller (Tmall's refund-rejection rate); rejecting needs the
supervisor permission ``cases.reject_refund`` and a reason code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import workflows
from ..actors import Actor
from ..choices import Door, EventType, RefundDecision, RefundRejectionReason
from ..errors import ErrorCode, RefundRefused, TransitionRefused
from ..models import Case, RefundRequest, at_time
from .audit import record_event
from .cases import _refusal_of, _transition_locked, check_not_future, lock_case


def _money(value: Any, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT,
            _("%(value)s is not an amount.") % {"value": value},
            field=field,
        ) from exc
    if amount <= 0:
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT, _("The amount must be more than zero."), field=field
        )
    return amount


def refund_request_create(
    *,
    case: Case,
    amount: Decimal | str | float,
    currency: str,
    actor: Actor,
    door: Door,
    requested_at: dt.datetime | None = None,
    external_id: str = "",
) -> RefundRequest:
    """Record a customer's refund request on ``case``."""
    amount = _money(amount, field="amount")
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise RefundRefused(
            ErrorCode.INVALID_VALUE,
            _("The currency must be a three-letter ISO code such as EUR or CNY."),
            field="currency",
        )
    requested_at = requested_at or timezone.now()
    check_not_future(requested_at, field="requested_at")
    with transaction.atomic():
        locked = lock_case(case.pk)
        if external_id:
            existing = locked.refund_requests.filter(external_id=external_id).first()
            if existing is not None:
                return existing
        refund = RefundRequest.objects.create(
            case=locked,
            marketplace_id=locked.marketplace_id,
            amount=amount,
            currency=currency,
            requested_at=requested_at,
            external_id=external_id,
        )
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        record_event(
            case=locked,
            event_type=EventType.REFUND_REQUESTED,
            actor=actor,
            door=door,
            occurred_at=requested_at,
            data={"refund_request": refund.pk, "amount": str(amount), "currency": currency},
        )
    return refund


def refund_decide(
    *,
    refund_request: RefundRequest | int,
    decision: RefundDecision | str,
    actor: Actor,
    door: Door,
    decided_at: dt.datetime | None = None,
    approved_amount: Decimal | str | None = None,
    reason_code: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> RefundRequest:
    """Approve, partially approve or reject a refund request.

    Approving moves the case to ``refund_pending`` when its workflow allows it from the current
    state (in the same transaction). Rejecting needs a reason code and a supervisor.
    """
    pk = refund_request if isinstance(refund_request, int) else refund_request.pk
    if decision not in RefundDecision.values:
        raise RefundRefused(
            ErrorCode.INVALID_VALUE,
            _("The decision must be one of: %(values)s.")
            % {"values": ", ".join(RefundDecision.values)},
            field="decision",
        )
    now = timezone.now()
    decided_at = decided_at or now
    check_not_future(decided_at, field="decided_at", now=now)
    with transaction.atomic():
        case_id = RefundRequest.objects.values_list("case_id", flat=True).get(pk=pk)
        case = lock_case(case_id)
        if expected_version is not None and expected_version != case.version:
            raise TransitionRefused(
                ErrorCode.CASE_CHANGED,
                _("Case %(ref)s changed since you loaded it. Reload it and try again.")
                % {"ref": case.reference},
            )
        refund = RefundRequest.objects.get(pk=pk)
        if refund.decision:
            raise RefundRefused(
                ErrorCode.REFUND_ALREADY_DECIDED,
                _("This refund request was already %(decision)s on %(when)s.")
                % {
                    "decision": refund.get_decision_display().lower(),
                    "when": refund.decided_at.isoformat(),
                },
            )
        if decided_at < refund.requested_at:
            raise RefundRefused(
                ErrorCode.OCCURRED_BEFORE_PREVIOUS,
                _("A refund cannot be decided before it was requested (%(when)s).")
                % {"when": refund.requested_at.isoformat()},
                field="decided_at",
            )
        refund.decision = decision
        refund.decided_at = decided_at
        refund.decided_by = actor.user
        refund.decided_by_name = actor.name[:150]
        if decision == RefundDecision.REJECTED:
            if not actor.has_perm(workflows.SUPERVISE_REJECT_REFUND):
                raise RefundRefused(
                    ErrorCode.PERMISSION_DENIED,
                    _("Rejecting a refund needs a supervisor; %(actor)s may not do it.")
                    % {"actor": actor.name},
                )
            if reason_code not in RefundRejectionReason.values:
                raise RefundRefused(
                    ErrorCode.REJECTION_REASON_REQUIRED,
                    _("A rejection needs a reason code: %(codes)s.")
                    % {"codes": ", ".join(RefundRejectionReason.values)},
                    field="reason_code",
                )
            if reason_code == RefundRejectionReason.OTHER and not note.strip():
                raise RefundRefused(
                    ErrorCode.REJECTION_REASON_REQUIRED,
                    _("Explain the rejection when the reason is 'other'."),
                    field="note",
                )
            refund.rejection_reason = reason_code
            refund.rejection_note = note
        elif decision == RefundDecision.PARTIALLY_APPROVED:
            if approved_amount is None:
                raise RefundRefused(
                    ErrorCode.INVALID_AMOUNT,
                    _("A partial approval needs the approved amount."),
                    field="approved_amount",
                )
            partial = _money(approved_amount, field="approved_amount")
            if partial >= refund.amount:
                raise RefundRefused(
                    ErrorCode.INVALID_AMOUNT,
                    _("A partial approval must be less than the %(amount)s requested.")
                    % {"amount": refund.amount},
                    field="approved_amount",
                )
            refund.approved_amount = partial
        else:
            refund.approved_amount = refund.amount
        refund.save()
        record_event(
            case=case,
            event_type=EventType.REFUND_DECIDED,
            actor=actor,
            door=door,
            occurred_at=decided_at,
            reason=note,
            data={
                "refund_request": refund.pk,
                "decision": refund.decision,
                "approved_amount": str(refund.approved_amount or ""),
                "reason_code": refund.rejection_reason,
            },
        )
        if decision != RefundDecision.REJECTED and _can_start_refund(case, decided_at):
            _transition_locked(
                case,
                "request_refund",
                actor=actor,
                door=door,
                occurred_at=decided_at,
                note=_("Refund approved."),
                reason="",
            )
        else:
            case.version += 1
            case.save(update_fields=["version", "updated_at"])
    return refund


def _can_start_refund(case: Case, at: dt.datetime) -> bool:
    if not workflows.allows(case.kind, "request_refund", case.state):
        return False
    if at < (case.last_transition_at or case.opened_at):
        return False
    with at_time(case, at):
        return _refusal_of(case, "request_refund") is None
