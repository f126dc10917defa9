"""The two rates every refund decision feeds (Tmall's refund-rejection and platform-assistance
rates) over a plain window of ``window_days`` ending on ``as_of``, whatever the marketplace's
policy says: the support dashboard's 30-day figures and their trend.

A window of ``window_days`` ending on ``as_of`` covers the local days (marketplace time zone)
``as_of - window_days + 1`` to ``as_of`` inclusive. The counts are the scorecard's own
definitions (``scorecards.definitions``), one aggregate query each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from marketplaces.models import Marketplace

from ..definitions import METRICS, Window, ratio
from .facts import facts_counts


@dataclass(frozen=True)
class Metric:
    name: str
    numerator: int
    denominator: int
    window_start: dt.datetime
    window_end: dt.datetime  # exclusive

    @property
    def value(self) -> Decimal | None:
        """The ratio (0 to 1, 6 decimals), or None when nothing was counted."""
        return ratio(self.numerator, self.denominator)

    @property
    def percent(self) -> str:
        value = self.value
        return "n/a" if value is None else f"{value * 100:.2f} %"


def window_bounds(
    marketplace: Marketplace, as_of: dt.date, window_days: int
) -> tuple[dt.datetime, dt.datetime]:
    """Start and (exclusive) end of the window, as the metrics count it."""
    window = Window.of(marketplace, as_of, window_days)
    return window.start, window.end


def rates_counted(
    asked: list[tuple[str, Marketplace, dt.date, int]], *, now: dt.datetime | None = None
) -> list[Metric]:
    """Several (metric, marketplace, as_of, window_days) rates at once, from the daily facts
    (a few queries for them all)."""
    now = now or timezone.now()
    items = [
        (METRICS[name], Window.of(marketplace, as_of, days, now=now))
        for name, marketplace, as_of, days in asked
    ]
    return [
        Metric(definition.code, counts.numerator, counts.denominator, window.start, window.end)
        for (definition, window), counts in zip(items, facts_counts(items, now=now), strict=True)
    ]


def _counted(name: str, marketplace: Marketplace, as_of: dt.date, window_days: int) -> Metric:
    (metric,) = rates_counted([(name, marketplace, as_of, window_days)])
    return metric


def refund_rejection_rate(
    *, marketplace: Marketplace, as_of: dt.date, window_days: int = 30
) -> Metric:
    """Refund requests the seller rejected / refund requests decided, by decision time.

    A rejection later overturned by the platform still counts: the seller did reject it.
    """
    return _counted("refund_rejection_rate", marketplace, as_of, window_days)


def platform_assistance_rate(
    *, marketplace: Marketplace, as_of: dt.date, window_days: int = 30
) -> Metric:
    """After-sales cases opened in the window in which the customer asked the platform to step
    in (by the end of the window) / after-sales cases opened in the window."""
    return _counted("platform_assistance_rate", marketplace, as_of, window_days)
