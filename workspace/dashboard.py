"""The numbers of the support dashboard, per marketplace, each from aggregate queries.

* open cases by state, overdue and at-risk counts (at risk: within the marketplace's own
  ``at_risk_business_days``, as the deadline badges);
* refund-rejection and platform-assistance rates over the last 30 days
  (``scorecards.services.rates``, the scorecard's own definitions), and their trend: the same
  30-day rate at the end of each of the 11 weeks before and today (the scorecards' trend
  dates, so that their daily snapshots serve);
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

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncWeek

from cases.choices import CaseKind, CaseState
from cases.models import Case
from cases.selectors import open_cases_q
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from scorecards.models import ScorecardSnapshot
from scorecards.services import (
    Metric,
    platform_assistance_rate,
    refund_rejection_rate,
    today_for,
    trend_dates,
    window_bounds,
)

from .urgency import window_end

WINDOW_DAYS = 30
TREND_POINTS = 12
RATES = {
    "refund_rejection_rate": refund_rejection_rate,
    "platform_assistance_rate": platform_assistance_rate,
}


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


def median_time_to_resolution(
    marketplace: Marketplace, *, at: dt.datetime, window_days: int = WINDOW_DAYS
) -> tuple[dt.timedelta | None, int]:
    """Median of (resolved_at - opened_at) over the cases resolved in the window, and how many
    cases that is. Two queries whatever the number of cases: a count, then the middle row(s)."""
    start, end = window_bounds(marketplace, today_for(marketplace, at), window_days)
    durations = (
        Case.objects.filter(marketplace=marketplace, resolved_at__gte=start, resolved_at__lt=end)
        .annotate(
            duration=ExpressionWrapper(
                F("resolved_at") - F("opened_at"), output_field=DurationField()
            )
        )
        .order_by("duration", "pk")
        .values_list("duration", flat=True)
    )
    count = durations.count()
    if not count:
        return None, 0
    middle = list(durations[(count - 1) // 2 : count // 2 + 1])
    return sum(middle, dt.timedelta()) / len(middle), count


def overview(marketplaces: list[Marketplace], *, at: dt.datetime) -> list[MarketplaceSummary]:
    """One summary per marketplace."""
    counts = open_counts(marketplaces, at=at)
    labels = dict(CaseState.choices)
    summaries = []
    for marketplace in marketplaces:
        entry = counts[marketplace.pk]
        today = today_for(marketplace, at)
        median, resolved = median_time_to_resolution(marketplace, at=at)
        by_state = sorted(entry["by_state"].items(), key=lambda item: -item[1])
        summaries.append(
            MarketplaceSummary(
                marketplace=marketplace,
                open=entry["open"],
                overdue=entry["overdue"],
                at_risk=entry["at_risk"],
                open_by_state=[(state, str(labels.get(state, state)), n) for state, n in by_state],
                rejection=refund_rejection_rate(
                    marketplace=marketplace, as_of=today, window_days=WINDOW_DAYS
                ),
                assistance=platform_assistance_rate(
                    marketplace=marketplace, as_of=today, window_days=WINDOW_DAYS
                ),
                median_resolution=median,
                resolved=resolved,
            )
        )
    return summaries


def _snapshot_metric(snapshot: Any, window_days: int) -> Metric | None:
    """A daily snapshot as a ``Metric``, if it is final (taken after its window ended) and of
    the same window length; otherwise None (the point is computed)."""
    length = snapshot.window_end - snapshot.window_start
    if abs(length - dt.timedelta(days=window_days)) > dt.timedelta(hours=2):  # DST shifts
        return None
    if snapshot.computed_at < snapshot.window_end:
        return None
    return Metric(
        snapshot.metric,
        int(snapshot.numerator),
        int(snapshot.denominator),
        snapshot.window_start,
        snapshot.window_end,
    )


def rate_trend(marketplace: Marketplace, *, at: dt.datetime) -> list[TrendPoint]:
    """The two 30-day rates at the end of each of the last 11 weeks (Sundays) and today, oldest
    first. A point comes from the scorecards' daily snapshot when one was taken after its day
    ended, else it is computed (one aggregate query per point)."""
    dates = trend_dates(today_for(marketplace, at), TREND_POINTS)
    stored = {
        (snapshot.metric, snapshot.as_of): _snapshot_metric(snapshot, WINDOW_DAYS)
        for snapshot in ScorecardSnapshot.objects.filter(
            marketplace=marketplace, metric__in=list(RATES), as_of__in=dates[:-1]
        )
    }
    points = []
    for as_of in dates:
        figures = {}
        for name, compute in RATES.items():
            figures[name] = stored.get((name, as_of)) or compute(
                marketplace=marketplace, as_of=as_of, window_days=WINDOW_DAYS
            )
        points.append(
            TrendPoint(
                as_of=as_of,
                rejection=figures["refund_rejection_rate"],
                assistance=figures["platform_assistance_rate"],
            )
        )
    return points


def weekly_openings(marketplace: Marketplace, *, at: dt.datetime) -> WeeklyOpenings:
    """Cases opened per local week (Monday first) and kind, the last 12 weeks (this one
    included, so far)."""
    calendar = calendar_for(marketplace)
    today = calendar.local_date(at)
    this_monday = today - dt.timedelta(days=today.weekday())
    weeks = [this_monday - dt.timedelta(days=7 * k) for k in range(TREND_POINTS - 1, -1, -1)]
    start = calendar.start_of_day(weeks[0])
    rows = (
        Case.objects.filter(marketplace=marketplace, opened_at__gte=start)
        .annotate(week=TruncWeek("opened_at", tzinfo=marketplace.tz))
        .values("week", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    index = {week: i for i, week in enumerate(weeks)}
    by_kind = {kind: [0] * len(weeks) for kind in CaseKind.values}
    for row in rows:
        week = row["week"]
        day = week.astimezone(marketplace.tz).date() if isinstance(week, dt.datetime) else week
        if day in index and row["kind"] in by_kind:
            by_kind[row["kind"]][index[day]] += row["n"]
    return WeeklyOpenings(weeks=weeks, by_kind=by_kind)
