"""The "what if" read before a refund decision: the marketplace's refund-rejection rate now and
after the rejection (or the approval), with the store-rating level it would reach. The figures
are the scorecards app's (``refund_rejection_rate_if_rejected``, ``..._if_approved``), so the
workspace and the scorecard never disagree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import Case, RefundRequest


def rejection_what_if(
    *,
    at: dt.datetime,
    refund_request: RefundRequest | None = None,
    case: Case | None = None,
) -> Any:
    """Rejecting ``refund_request`` now, or rejecting the claim ``case`` (which rejects its
    undecided refund requests). None when the rejection would not change the rate."""
    from scorecards.services import refund_rejection_rate_if_rejected

    result = refund_rejection_rate_if_rejected(case=case, refund_request=refund_request, at=at)
    return result if result.rejected else None


def approval_what_if(*, refund_request: RefundRequest, at: dt.datetime) -> Any:
    """Approving ``refund_request`` now: the rate before and after, where the marketplace scores
    it (Tmall), else None."""
    from scorecards.services import refund_rejection_rate_if_approved

    return refund_rejection_rate_if_approved(refund_request=refund_request, at=at)
