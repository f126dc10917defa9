"""The refund ledger's rules: one place that decides a refund request, whoever decides it.

A decision is made directly (``cases.services.refunds.refund_decide``) or as the consequence of a
transition (rejecting a claim rejects its open requests; marking a case refunded approves them;
the platform overturning a rejection marks it overturned). Both go through these functions, so a
rejection needs the same right and the same reason code whichever way it is made. They run inside
the kernel's action on the case (``act``) and record their own events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from . import workflows
from .choices import RefundDecision, RefundRejectionReason
from .errors import ErrorCode, RefundRefused
from .events import RefundDecided, RefundOverturned
from .models import RefundRequest

if TYPE_CHECKING:
    from .kernel import CaseAction


def money(value: Any, *, field: str) -> Decimal:
    """An amount of money: a positive number with at most two decimals."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT,
            _("%(value)s is not an amount.") % {"value": value},
            field=field,
        ) from exc
    if not amount.is_finite():
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT,
            _("%(value)s is not an amount.") % {"value": value},
            field=field,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT,
            _("An amount has at most two decimals (%(value)s).") % {"value": value},
            field=field,
        )
    if amount <= 0:
        raise RefundRefused(
            ErrorCode.INVALID_AMOUNT, _("The amount must be more than zero."), field=field
        )
    if amount >= Decimal("10000000000"):
        raise RefundRefused(ErrorCode.INVALID_AMOUNT, _("The amount is too large."), field=field)
    return amount.quantize(Decimal("0.01"))


def check_rejection(act: CaseAction, *, reason_code: str, note: str) -> None:
    """A refund rejection needs the supervisor right, a reason code of the list, and a text
    when the code is ``other``."""
    if not act.actor.has_perm(workflows.SUPERVISE_REJECT_REFUND):
        raise RefundRefused(
            ErrorCode.PERMISSION_DENIED,
            _("Rejecting a refund needs a supervisor; %(actor)s may not do it.")
            % {"actor": act.actor.name},
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


def refund_decision_record(
    act: CaseAction,
    refund: RefundRequest,
    *,
    decision: str,
    at: dt.datetime,
    approved_amount: Any = None,
    reason_code: str = "",
    note: str = "",
) -> None:
    """Decide ``refund`` (a request of ``act.case``, not decided yet) and record it."""
    if refund.decision:
        raise RefundRefused(
            ErrorCode.REFUND_ALREADY_DECIDED,
            _("This refund request was already %(decision)s on %(when)s.")
            % {
                "decision": refund.get_decision_display().lower(),
                "when": refund.decided_at.isoformat() if refund.decided_at else "?",
            },
        )
    if decision not in RefundDecision.values:
        raise RefundRefused(
            ErrorCode.INVALID_VALUE,
            _("The decision must be one of: %(values)s.")
            % {"values": ", ".join(RefundDecision.values)},
            field="decision",
        )
    if at < refund.requested_at:
        raise RefundRefused(
            ErrorCode.OCCURRED_BEFORE_PREVIOUS,
            _("A refund cannot be decided before it was requested (%(when)s).")
            % {"when": refund.requested_at.isoformat()},
            field="decided_at",
        )
    if decision == RefundDecision.REJECTED:
        check_rejection(act, reason_code=reason_code, note=note)
        refund.rejection_reason = reason_code
        refund.rejection_note = note
        refund.approved_amount = None
    elif decision == RefundDecision.PARTIALLY_APPROVED:
        if approved_amount is None or approved_amount == "":
            raise RefundRefused(
                ErrorCode.INVALID_AMOUNT,
                _("A partial approval needs the approved amount."),
                field="approved_amount",
            )
        partial = money(approved_amount, field="approved_amount")
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
    refund.decision = decision
    refund.decided_at = at
    refund.decided_by = act.actor.user
    refund.decided_by_name = act.actor.name[:150]
    refund.save(
        update_fields=[
            "decision",
            "decided_at",
            "decided_by",
            "decided_by_name",
            "approved_amount",
            "rejection_reason",
            "rejection_note",
        ]
    )
    refund_awaiting_refresh(act)
    act.event(
        RefundDecided(
            refund_request=refund.pk,
            decision=refund.decision,
            approved_amount=str(refund.approved_amount or ""),
            reason_code=refund.rejection_reason,
        ),
        occurred_at=at,
        reason=note,
    )


def refund_awaiting_refresh(act: CaseAction) -> None:
    """Keep ``refund_awaiting_since`` (the start of the refund-decision clock) on the oldest
    undecided request of the case; a deadline input, so the kernel recomputes the deadlines."""
    oldest = (
        RefundRequest.objects.filter(case_id=act.case.pk, decision="")
        .order_by("requested_at")
        .values_list("requested_at", flat=True)
        .first()
    )
    act.case.refund_awaiting_since = oldest


def refunds_reject_open(act: CaseAction, *, at: dt.datetime, reason_code: str, note: str) -> None:
    """Reject every undecided request of the case (a claim rejected is a refund rejected)."""
    for refund in act.case.refund_requests.filter(decision="").order_by("pk"):
        refund_decision_record(
            act,
            refund,
            decision=RefundDecision.REJECTED,
            at=max(at, refund.requested_at),
            reason_code=reason_code,
            note=note,
        )


def refunds_approve_open(act: CaseAction, *, at: dt.datetime) -> None:
    """Approve, in full, every undecided request of the case (the refund was paid)."""
    for refund in act.case.refund_requests.filter(decision="").order_by("pk"):
        refund_decision_record(
            act, refund, decision=RefundDecision.APPROVED, at=max(at, refund.requested_at)
        )


def refunds_overturn_rejected(act: CaseAction, *, at: dt.datetime) -> None:
    """The platform ruled the seller's rejections wrongful."""
    rejected = act.case.refund_requests.filter(
        decision=RefundDecision.REJECTED, overturned_at__isnull=True
    ).order_by("pk")
    for refund in rejected:
        refund.overturned_at = at
        refund.save(update_fields=["overturned_at"])
        act.event(RefundOverturned(refund_request=refund.pk), occurred_at=at)
