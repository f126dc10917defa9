"""Refund requests and the seller's decisions on them (the rules are in ``cases.ledger``).

A rejection counts against the seller (Tmall's refund-rejection rate); rejecting needs the
supervisor permission ``cases.reject_refund`` and a reason code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import workflows
from ..actors import Actor
from ..choices import Door, RefundDecision
from ..errors import CaseRefused, ErrorCode, RefundRefused
from ..events import RefundRequested
from ..kernel import case_action, check_not_future
from ..ledger import money, refund_awaiting_refresh, refund_decision_record
from ..models import Case, RefundRequest


def refund_request_create(
    *,
    case: Case | int,
    amount: Decimal | str | float,
    currency: str,
    actor: Actor,
    door: Door,
    requested_at: dt.datetime | None = None,
    external_id: str = "",
    expected_version: int | None = None,
) -> RefundRequest:
    """Record a customer's refund request on ``case`` (idempotent by ``external_id``)."""
    amount = money(amount, field="amount")
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha() or not currency.isascii():
        raise RefundRefused(
            ErrorCode.INVALID_VALUE,
            _("The currency must be a three-letter ISO code such as EUR or CNY."),
            field="currency",
        )
    now = timezone.now()
    requested_at = requested_at or now
    check_not_future(requested_at, field="requested_at", now=now)
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        locked = act.case
        if external_id:
            existing = locked.refund_requests.filter(external_id=external_id).first()
            if existing is not None:
                return existing
        if requested_at < locked.opened_at:
            raise RefundRefused(
                ErrorCode.OCCURRED_BEFORE_PREVIOUS,
                _("A refund cannot be requested before the case was opened (%(when)s).")
                % {"when": locked.opened_at.isoformat()},
                field="requested_at",
            )
        refund = RefundRequest.objects.create(
            case=locked,
            marketplace_id=locked.marketplace_id,
            amount=amount,
            currency=currency,
            requested_at=requested_at,
            external_id=external_id,
        )
        # The refund-decision clock runs from the oldest undecided request; the kernel
        # recomputes the deadlines because this input of theirs changed.
        refund_awaiting_refresh(act)
        act.event(
            RefundRequested(refund_request=refund.pk, amount=str(amount), currency=currency),
            occurred_at=requested_at,
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
    state (in the same action). Rejecting needs a reason code and a supervisor.
    """
    pk = refund_request if isinstance(refund_request, int) else refund_request.pk
    now = timezone.now()
    decided_at = decided_at or now
    check_not_future(decided_at, field="decided_at", now=now)
    case_id = RefundRequest.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise CaseRefused(
            ErrorCode.NOT_FOUND,
            _("There is no refund request %(id)s.") % {"id": pk},
            field="refund_request",
        )
    with case_action(case_id, actor=actor, door=door, expected_version=expected_version) as act:
        refund = RefundRequest.objects.select_for_update().get(pk=pk)
        refund_decision_record(
            act,
            refund,
            decision=decision,
            at=decided_at,
            approved_amount=approved_amount,
            reason_code=reason_code,
            note=note,
        )
        if decision != RefundDecision.REJECTED and _refund_can_start(act.case, decided_at):
            act.transition("request_refund", occurred_at=decided_at, source="refund_approved")
    return refund


def _refund_can_start(case: Case, at: dt.datetime) -> bool:
    """An approval moves the case to refund pending when its graph goes there from here."""
    if not workflows.allows(case.kind, "request_refund", case.state):
        return False
    if at < (case.last_transition_at or case.opened_at):
        return False
    return workflows.TRANSITIONS["request_refund"].refusal(case, at) is None


def refund_pending_requests(case: Case) -> list[RefundRequest]:
    """The undecided requests of ``case``, oldest first."""
    return list(case.refund_requests.filter(decision="").order_by("requested_at", "pk"))


__all__ = ["refund_decide", "refund_pending_requests", "refund_request_create"]
