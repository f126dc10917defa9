"""Seller-rating metrics, each by one aggregate query. The definitions of every marketplace's
metrics live in ``scorecards.definitions``; this module keeps the two rates every refund
decision feeds and the ``scorecard()`` entry point the API and the admin call.

A window of ``window_days`` ending on ``as_of`` covers the local days (marketplace time zone)
``as_of - window_days + 1`` to ``as_of`` inclusive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marketplaces.models import Marketplace


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
        from scorecards.definitions import ratio

        return ratio(self.numerator, self.denominator)

    @property
    def percent(self) -> str:
        value = self.value
        return "n/a" if value is None else f"{value * 100:.2f} %"


def window_bounds(
    marketplace: Marketplace, as_of: dt.date, window_days: int
) -> tuple[dt.datetime, dt.datetime]:
    """Start and (exclusive) end of the window, as the metrics count it."""
    from scorecards.definitions import Window

    window = Window.of(marketplace, as_of, window_days)
    return window.start, window.end


def _counted(name: str, marketplace: Marketplace, as_of: dt.date, window_days: int) -> Metric:
    # One definition per metric: ``scorecards.definitions`` (imported here, not at module
    # level, because the scorecards app builds on this module).
    from scorecards.definitions import METRICS, Window

    window = Window.of(marketplace, as_of, window_days)
    counts = METRICS[name].counts(window)
    return Metric(name, counts.numerator, counts.denominator, window.start, window.end)


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


def scorecard(*, marketplace: Marketplace, as_of: dt.date, window_days: int = 30) -> list[Any]:
    """Every metric on ``marketplace``'s scorecard (the API and the admin show this): a list of
    ``scorecards.services.ScorecardMetric`` (name, numerator, denominator, value, window_start,
    window_end, and unit, target, level, status, display, levels, note...)."""
    from scorecards.services import scorecard as full_scorecard

    return full_scorecard(marketplace=marketplace, as_of=as_of, window_days=window_days)
