"""The "what if" shown before a refund decision: the refund-rejection rate before and after
rejecting (a supervisor) or approving (an agent)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from cases.models import Case, RefundRequest
from marketplaces.models import Marketplace

from ..definitions import METRICS, Counts, ratio
from .evaluation import ScorecardMetric, metric_result, metric_window, today_for
from .policies import policies_for, policy_for


@dataclass(frozen=True)
class RefundRejectionWhatIf:
    """The refund-rejection rate now, and as it would be after rejecting ``rejected`` more
    refund requests now."""

    before: ScorecardMetric
    after: ScorecardMetric
    rejected: int

    @property
    def level_changes(self) -> bool:
        return self.before.level != self.after.level

    @property
    def summary(self) -> str:
        return f"{self.before.display} → {self.after.display}" + (
            f" (level {self.before.level} → {self.after.level})" if self.level_changes else ""
        )


def refund_rejection_rate_if_rejected(
    *,
    case: Case | None = None,
    refund_request: RefundRequest | None = None,
    at: dt.datetime | None = None,
    window_days: int | None = None,
) -> RefundRejectionWhatIf:
    """The refund-rejection rate of the case's marketplace before and after rejecting now.

    Give ``refund_request`` (a refund decision) or ``case`` (rejecting the claim rejects every
    undecided refund request of the case). Nothing is written. The window is the marketplace
    policy's, else ``window_days``, else 30 days, ending today (local).
    """
    if refund_request is not None:
        marketplace = refund_request.marketplace
        pending = 0 if refund_request.decision else 1
    elif case is not None:
        marketplace = case.marketplace
        pending = case.refund_requests.filter(decision="").count()
    else:
        raise TypeError("Give case or refund_request.")
    at = at or timezone.now()
    policy = policy_for(marketplace, "refund_rejection_rate")
    definition = METRICS["refund_rejection_rate"]
    window = metric_window(marketplace, policy, today_for(marketplace, at), window_days, at)
    counts = definition.counts(window)
    before = metric_result(definition, policy, window, counts)
    numerator, denominator = counts.numerator + pending, counts.denominator + pending
    after = metric_result(
        definition,
        policy,
        window,
        Counts(numerator, denominator, ratio(numerator, denominator)),
    )
    return RefundRejectionWhatIf(before=before, after=after, rejected=pending)


def refund_rejection_rate_applies(marketplace: Marketplace) -> bool:
    """Whether the marketplace scores the seller on its refund-rejection rate (its policies, or
    its family's shipped ones, include the metric and show it): Tmall's store rating does."""
    return any(policy.metric == "refund_rejection_rate" for policy in policies_for(marketplace))


def refund_rejection_rate_if_approved(
    *, refund_request: RefundRequest, at: dt.datetime | None = None
) -> RefundRejectionWhatIf | None:
    """The refund-rejection rate of the request's marketplace before and after approving
    ``refund_request`` (fully or in part) now: one more decided request, no more rejected.
    None where the marketplace does not score the rate, or the request is already decided.
    Nothing is written."""
    marketplace = refund_request.marketplace
    if refund_request.decision:
        return None
    # One read of the policies: the rate applies only where one of them shows it.
    policy = next(
        (p for p in policies_for(marketplace) if p.metric == "refund_rejection_rate"), None
    )
    if policy is None:
        return None
    at = at or timezone.now()
    definition = METRICS["refund_rejection_rate"]
    window = metric_window(marketplace, policy, today_for(marketplace, at), None, at)
    counts = definition.counts(window)
    before = metric_result(definition, policy, window, counts)
    denominator = counts.denominator + 1
    after = metric_result(
        definition,
        policy,
        window,
        Counts(counts.numerator, denominator, ratio(counts.numerator, denominator)),
    )
    return RefundRejectionWhatIf(before=before, after=after, rejected=0)
