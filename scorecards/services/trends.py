"""A scorecard's weekly trend (from the daily snapshots, computed where one is missing) and every
active marketplace's board."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from marketplaces.models import Marketplace

from ..models import ScorecardSnapshot
from .evaluation import ScorecardMetric, metric_evaluate, scorecard, today_for
from .policies import policies_for


@dataclass(frozen=True)
class TrendPoint:
    as_of: dt.date
    value: Decimal | None
    level: str | None
    numerator: int
    denominator: int


def trend_dates(as_of: dt.date, weeks: int) -> list[dt.date]:
    """The points of a trend of ``weeks`` weeks, oldest first: the Sundays (ends of weeks)
    before ``as_of``, then ``as_of``. Sundays stay the same from day to day, so their daily
    snapshots serve every later trend."""
    back = (as_of.weekday() + 1) % 7 or 7  # days back to the previous Sunday
    last_sunday = as_of - dt.timedelta(days=back)
    return [last_sunday - dt.timedelta(weeks=n) for n in reversed(range(weeks - 1))] + [as_of]


def scorecard_trend(
    *,
    marketplace: Marketplace,
    as_of: dt.date,
    weeks: int = 12,
    compute_missing: bool = True,
) -> dict[str, list[TrendPoint]]:
    """Each metric's value at the end of each of the last ``weeks`` weeks (``trend_dates``),
    oldest first: from the daily snapshots, computed (not stored) where a snapshot is missing,
    or skipped when ``compute_missing`` is False. One query for the snapshots, one aggregate
    per computed point."""
    dates = trend_dates(as_of, weeks)
    policies = policies_for(marketplace)
    stored = {
        (s.metric, s.as_of): s
        for s in ScorecardSnapshot.objects.filter(
            marketplace=marketplace, as_of__in=dates, metric__in=[p.metric for p in policies]
        )
    }
    trend: dict[str, list[TrendPoint]] = {}
    for policy in policies:
        points = []
        for day in dates:
            snapshot = stored.get((policy.metric, day))
            if snapshot is not None:
                points.append(
                    TrendPoint(
                        day,
                        snapshot.value,
                        snapshot.level or None,
                        snapshot.numerator,
                        snapshot.denominator,
                    )
                )
            elif compute_missing:
                result = metric_evaluate(
                    marketplace=marketplace, metric=policy.metric, as_of=day, policy=policy
                )
                points.append(
                    TrendPoint(
                        day, result.value, result.level, result.numerator, result.denominator
                    )
                )
        trend[policy.metric] = points
    return trend


@dataclass(frozen=True)
class MarketplaceScorecard:
    marketplace: Marketplace
    as_of: dt.date
    metrics: list[ScorecardMetric]
    trend: dict[str, list[TrendPoint]]

    @property
    def worst_status(self) -> str | None:
        statuses = {m.status for m in self.metrics}
        for status in ("bad", "warning", "good"):
            if status in statuses:
                return status
        return None


def scorecard_dashboard(
    *, as_of: dt.date | None = None, weeks: int = 12, compute_missing: bool = True
) -> list[MarketplaceScorecard]:
    """The scorecard and trend of every active marketplace (for the admin dashboard).

    ``as_of`` defaults to each marketplace's local today. Cost: one aggregate per metric, plus
    one per trend point without a snapshot (the daily snapshot job fills them).
    """
    boards = []
    for marketplace in Marketplace.objects.filter(is_active=True).order_by("name"):
        day = as_of or today_for(marketplace)
        boards.append(
            MarketplaceScorecard(
                marketplace=marketplace,
                as_of=day,
                metrics=scorecard(marketplace=marketplace, as_of=day),
                trend=scorecard_trend(
                    marketplace=marketplace,
                    as_of=day,
                    weeks=weeks,
                    compute_missing=compute_missing,
                ),
            )
        )
    return boards
