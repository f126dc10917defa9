"""The numbers of the support dashboard, per marketplace, each from aggregate queries.

* open cases by state, overdue and at-risk counts (at risk: within the marketplace's own
  ``at_risk_business_days``, as the deadline badges);
* refund-rejection and platform-assistance rates over the last 30 days
  (``scorecards.services.rates``, the scorecard's own definitions, read from the daily
  facts), and their trend: the same 30-day rate at the end of each of the 11 weeks before
  and today (the scorecards' trend dates);
* cases opened per week by kind over the last 12 weeks (weeks start on Monday, local time);
* median time to resolution: opening to remedy (``resolved_at``) of the cases resolved in the
  last 30 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Window
from django.db.models.functions import RowNumber

from cases.choices import CaseKind, CaseState
from cases.models import Case
from cases.selectors import open_cases_q
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from scorecards.services import Metric, today_for, trend_dates, window_bounds
from scorecards.services.rates import rates_counted

from .urgency import window_end

WINDOW_DAYS = 30
TREND_POINTS = 12
RATES = ("refund_rejection_rate", "platform_assistance_rate")


@dataclass
class MarketplaceSummary:
    marketplace: Marketplace
    open: int = 0
    overdue: int = 0
    at_risk: int = 0
    open_by_state: list[tuple[str, str, int]] = field(default_factory=list)
    rejection: Metric | None = None
    assistance: Metric | None = None
    median_resolution: dt.timedelta | None = None
    resolved: int = 0


@dataclass
class TrendPoint:
    as_of: dt.date
    rejection: Metric
    assistance: Metric


@dataclass
class WeeklyOpenings:
    weeks: list[dt.date]  # Mondays, oldest first
    by_kind: dict[str, list[int]]  # kind -> count per week

    @property
    def totals(self) -> list[int]:
        return [sum(counts[i] for counts in self.by_kind.values()) for i in range(len(self.weeks))]


def open_counts(marketplaces: list[Marketplace], *, at: dt.datetime) -> dict[int, dict[str, Any]]:
    """Open cases by state, overdue and at risk, per marketplace id (two queries)."""
    result: dict[int, dict[str, Any]] = {
        m.pk: {"by_state": {}, "open": 0, "overdue": 0, "at_risk": 0} for m in marketplaces
    }
    open_cases = Case.objects.filter(open_cases_q())
    # Counting indexed columns (not ids): the partial index of open cases holds every column
    # these two queries read, so PostgreSQL answers them from the index alone.
    for row in open_cases.values("marketplace_id", "state").annotate(n=Count("*")).order_by():
        entry = result.get(row["marketplace_id"])
        if entry is not None:
            entry["by_state"][row["state"]] = row["n"]
            entry["open"] += row["n"]
    if not marketplaces:
        return result
    at_risk_until = [
        Q(
            marketplace_id=m.pk,
            next_due_at__lt=window_end(m, at=at, business_days=m.at_risk_business_days),
        )
        for m in marketplaces
    ]
    rows = (
        open_cases.filter(next_due_at__isnull=False)
        .values("marketplace_id")
        .annotate(
            overdue=Count("next_due_at", filter=Q(next_due_at__lt=at)),
            at_risk=Count(
                "next_due_at", filter=Q(next_due_at__gte=at) & reduce(or_, at_risk_until)
            ),
        )
        .order_by()
    )
    for row in rows:
        entry = result.get(row["marketplace_id"])
        if entry is not None:
            entry["overdue"], entry["at_risk"] = row["overdue"], row["at_risk"]
    return result


def median_times_to_resolution(
    marketplaces: list[Marketplace], *, at: dt.datetime, window_days: int = WINDOW_DAYS
) -> dict[int, tuple[dt.timedelta | None, int]]:
    """Per marketplace id: the median of (resolved_at - opened_at) over the cases resolved in
    the window, and how many cases that is. One query for every marketplace: each case's rank
    in its marketplace and the marketplace's count (window functions), keeping the middle
    row(s)."""
    result: dict[int, tuple[dt.timedelta | None, int]] = {m.pk: (None, 0) for m in marketplaces}
    if not marketplaces:
        return result
    windows = [
        Q(marketplace_id=m.pk, resolved_at__gte=start, resolved_at__lt=end)
        for m in marketplaces
        for start, end in [window_bounds(m, today_for(m, at), window_days)]
    ]
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    rows = (
        Case.objects.filter(reduce(or_, windows))
        .annotate(
            duration=duration,
            rank=Window(
                RowNumber(), partition_by=[F("marketplace_id")], order_by=[duration.asc(), "pk"]
            ),
            resolved=Window(Count("pk"), partition_by=[F("marketplace_id")]),
        )
        # ranks (n + 1) / 2 to n / 2 + 1 in integer division: the middle row, or the two
        .filter(rank__gte=(F("resolved") + 1) / 2, rank__lte=F("resolved") / 2 + 1)
        .order_by()
        .values_list("marketplace_id", "duration", "resolved")
    )
    middles: dict[int, list[dt.timedelta]] = {}
    for marketplace_id, value, count in rows:
        if isinstance(value, int):  # microseconds, as SQLite returns them
            value = dt.timedelta(microseconds=value)
        middles.setdefault(marketplace_id, []).append(value)
        result[marketplace_id] = (None, count)
    for marketplace_id, values in middles.items():
        result[marketplace_id] = (
            sum(values, dt.timedelta()) / len(values),
            result[marketplace_id][1],
        )
    return result


def median_time_to_resolution(
    marketplace: Marketplace, *, at: dt.datetime, window_days: int = WINDOW_DAYS
) -> tuple[dt.timedelta | None, int]:
    """``median_times_to_resolution`` of one marketplace."""
    return median_times_to_resolution([marketplace], at=at, window_days=window_days)[marketplace.pk]


def overview(marketplaces: list[Marketplace], *, at: dt.datetime) -> list[MarketplaceSummary]:
    """One summary per marketplace: a fixed number of queries whatever their number (open
    counts: 2, the two rates from the daily facts: 3, medians: 1)."""
    counts = open_counts(marketplaces, at=at)
    labels = dict(CaseState.choices)
    asked = [
        (name, marketplace, today_for(marketplace, at), WINDOW_DAYS)
        for marketplace in marketplaces
        for name in RATES
    ]
    rates = iter(rates_counted(asked, now=at))
    medians = median_times_to_resolution(marketplaces, at=at)
    summaries = []
    for marketplace in marketplaces:
        entry = counts[marketplace.pk]
        rejection, assistance = next(rates), next(rates)
        median, resolved = medians[marketplace.pk]
        by_state = sorted(entry["by_state"].items(), key=lambda item: -item[1])
        summaries.append(
            MarketplaceSummary(
                marketplace=marketplace,
                open=entry["open"],
                overdue=entry["overdue"],
                at_risk=entry["at_risk"],
                open_by_state=[(state, str(labels.get(state, state)), n) for state, n in by_state],
                rejection=rejection,
                assistance=assistance,
                median_resolution=median,
                resolved=resolved,
            )
        )
    return summaries


def rate_trend(marketplace: Marketplace, *, at: dt.datetime) -> list[TrendPoint]:
    """The two 30-day rates at the end of each of the last 11 weeks (Sundays) and today, oldest
    first, from the scorecards' daily facts: both rates record the day each event became known,
    so a past point is exact too (three queries for the 24 figures)."""
    dates = trend_dates(today_for(marketplace, at), TREND_POINTS)
    asked = [(name, marketplace, as_of, WINDOW_DAYS) for as_of in dates for name in RATES]
    figures = iter(rates_counted(asked, now=at))
    return [
        TrendPoint(as_of=as_of, rejection=next(figures), assistance=next(figures))
        for as_of in dates
    ]


def weekly_openings(marketplace: Marketplace, *, at: dt.datetime) -> WeeklyOpenings:
    """Cases opened per local week (Monday first) and kind, the last 12 weeks (this one
    included, so far). One query: a count per week between the weeks' first instants,
    computed here from the calendar (no time-zone conversion per case in SQL), read from the
    index of openings alone."""
    calendar = calendar_for(marketplace)
    today = calendar.local_date(at)
    this_monday = today - dt.timedelta(days=today.weekday())
    weeks = [this_monday - dt.timedelta(days=7 * k) for k in range(TREND_POINTS - 1, -1, -1)]
    bounds = [calendar.start_of_day(week) for week in [*weeks, this_monday + dt.timedelta(7)]]
    per_week = {
        f"week_{i}": Count("kind", filter=Q(opened_at__gte=bounds[i], opened_at__lt=bounds[i + 1]))
        for i in range(len(weeks))
    }
    rows = (
        Case.objects.filter(marketplace=marketplace, opened_at__gte=bounds[0])
        .values("kind")
        .annotate(**per_week)
        .order_by()
    )
    by_kind = {kind: [0] * len(weeks) for kind in CaseKind.values}
    for row in rows:
        if row["kind"] in by_kind:
            by_kind[row["kind"]] = [row[f"week_{i}"] for i in range(len(weeks))]
    return WeeklyOpenings(weeks=weeks, by_kind=by_kind)
