"""The daily snapshots that trends read: one row per marketplace, metric and day."""

from __future__ import annotations

import datetime as dt

from marketplaces.models import Marketplace

from ..models import ScorecardSnapshot
from .evaluation import metric_evaluate, today_for
from .policies import policies_for
from .trends import trend_dates


def snapshot_take(*, marketplace: Marketplace, as_of: dt.date, only_missing: bool = False) -> int:
    """Store (or refresh) the marketplace's metrics as of ``as_of``; returns rows written.
    Idempotent: one row per (marketplace, metric, day)."""
    written = 0
    existing: set[str] = set()
    if only_missing:
        existing = set(
            ScorecardSnapshot.objects.filter(marketplace=marketplace, as_of=as_of).values_list(
                "metric", flat=True
            )
        )
    for policy in policies_for(marketplace):
        if policy.metric in existing:
            continue
        result = metric_evaluate(
            marketplace=marketplace, metric=policy.metric, as_of=as_of, policy=policy
        )
        ScorecardSnapshot.objects.update_or_create(
            marketplace=marketplace,
            metric=policy.metric,
            as_of=as_of,
            defaults={
                "window_start": result.window_start,
                "window_end": result.window_end,
                "numerator": result.numerator,
                "denominator": result.denominator,
                "value": result.value,
                "level": result.level or "",
            },
        )
        written += 1
    return written


def snapshots_take_all(*, at: dt.datetime | None = None, backfill_weeks: int = 12) -> int:
    """Each active marketplace's snapshot of yesterday (its last complete local day,
    refreshed), and the trend's Sundays still missing, so a new installation has a trend after
    one run. Returns rows written."""
    written = 0
    for marketplace in Marketplace.objects.filter(is_active=True):
        yesterday = today_for(marketplace, at) - dt.timedelta(days=1)
        written += snapshot_take(marketplace=marketplace, as_of=yesterday)
        for day in trend_dates(yesterday, backfill_weeks)[:-1]:
            written += snapshot_take(marketplace=marketplace, as_of=day, only_missing=True)
    return written
