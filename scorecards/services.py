"""Scorecards: each metric of a marketplace with its figures, level and the rows behind it.

Plain functions for the API, the admin dashboard, the jobs and the commands:

* ``scorecard(marketplace=, as_of=, window_days=30)``: every metric of the marketplace;
* ``metric_evaluate(...)`` one metric; ``metric_records(...)`` the rows behind it;
* ``refund_rejection_rate_if_rejected(case= | refund_request=)``: the "what if" shown before a
  supervisor rejects;
* ``scorecard_trend(...)``: a metric's weekly values (snapshots, computed where missing);
* ``scorecard_dashboard(...)``: every active marketplace's scorecard and trend;
* ``snapshot_take(...)`` / ``snapshots_take_all(...)``: the daily snapshots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases.models import Case, RefundRequest
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from .defaults import default_policies
from .definitions import METRICS, Counts, MetricDefinition, Unit, Window, ratio
from .models import MetricBand, MetricPolicy, ScorecardSnapshot

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ScorecardMetric:
    """One metric's figures. ``value`` is a ratio (0 to 1), seconds or points (``unit``)."""

    name: str
    label: str
    unit: str
    numerator: int
    denominator: int
    value: Decimal | None
    window_start: dt.datetime
    window_end: dt.datetime  # exclusive
    window_days: int
    as_of: dt.date
    lower_is_better: bool
    # The best level's condition ("< 1.00 %"), the level reached and its colour.
    target: str | None = None
    level: str | None = None
    status: str | None = None  # good / warning / bad
    display: str = "n/a"
    levels: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def percent(self) -> str:
        if self.value is None or self.unit != Unit.RATIO:
            return self.display
        return f"{self.value * 100:.2f} %"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- formatting ------------------------------------------------------------------------------


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == Unit.RATIO:
        return f"{value * 100:.2f} %"
    if unit == Unit.SECONDS:
        return format_duration(value)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_duration(seconds: Decimal | float | int) -> str:
    total = int(Decimal(seconds).to_integral_value())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    if not days:
        parts.append(f"{minutes} min" if minutes else "")
        if not hours:
            parts.append(f"{secs} s" if secs or not minutes else "")
    return " ".join(p for p in parts if p) or "0 s"


def band_text(band: MetricBand, unit: str, lower_is_better: bool) -> str:
    if band.bound is None:
        return "otherwise"
    sign = {(True, True): "≤", (True, False): "<", (False, True): "≥", (False, False): ">"}[
        (lower_is_better, band.inclusive)
    ]
    return f"{sign} {format_value(band.bound, unit)}"


# -- policies and levels ---------------------------------------------------------------------


def _unsaved_policies(marketplace: Marketplace) -> list[MetricPolicy]:
    policies = []
    for position, spec in enumerate(default_policies(marketplace.code)):
        policy = MetricPolicy(
            marketplace=marketplace,
            metric=spec["metric"],
            position=position,
            window_days=spec.get("window_days"),
            parameters=spec.get("parameters", {}),
            notes=spec.get("notes", ""),
        )
        policy.band_list = [
            MetricBand(position=n, level=level, bound=bound, inclusive=inclusive)
            for n, (level, bound, inclusive) in enumerate(spec["bands"])
        ]
        policies.append(policy)
    return policies


def policies_for(marketplace: Marketplace, *, include_disabled: bool = False) -> list[MetricPolicy]:
    """The marketplace's metric policies with their bands (``band_list``), in order; the
    shipped defaults of its family when none were saved."""
    saved = list(MetricPolicy.objects.filter(marketplace=marketplace).prefetch_related("bands"))
    if not saved:
        return _unsaved_policies(marketplace)
    for policy in saved:
        policy.band_list = list(policy.bands.all())
    return [p for p in saved if include_disabled or p.is_enabled]


def policy_for(marketplace: Marketplace, metric: str) -> MetricPolicy:
    """The marketplace's policy for one metric (unsaved, without bands, if it has none)."""
    for policy in policies_for(marketplace, include_disabled=True):
        if policy.metric == metric:
            return policy
    if metric not in METRICS:
        raise KeyError(f"Unknown metric {metric!r}")
    policy = MetricPolicy(marketplace=marketplace, metric=metric)
    policy.band_list = []
    return policy


def policies_install_defaults(*, marketplace: Marketplace) -> int:
    """Save the shipped policies of the marketplace's family that it does not have yet;
    returns how many were created. Never changes a saved policy."""
    created = 0
    with transaction.atomic():
        existing = set(
            MetricPolicy.objects.filter(marketplace=marketplace).values_list("metric", flat=True)
        )
        for policy in _unsaved_policies(marketplace):
            if policy.metric in existing:
                continue
            policy.save()
            for band in policy.band_list:
                band.policy = policy
            MetricBand.objects.bulk_create(policy.band_list)
            created += 1
    return created


def level_of(
    value: Decimal | None, bands: list[MetricBand], *, lower_is_better: bool
) -> tuple[str | None, str | None]:
    """(level, status) of a value: the first band, best first, that admits it. Status is
    ``good`` for the best band, ``bad`` for the worst, ``warning`` between."""
    if value is None or not bands:
        return None, None
    for index, band in enumerate(bands):
        if band.admits(value, lower_is_better=lower_is_better):
            if index == 0:
                return band.level, "good"
            return band.level, "bad" if index == len(bands) - 1 else "warning"
    return None, None


# -- evaluation ------------------------------------------------------------------------------


def _window_days(definition: MetricDefinition, policy: MetricPolicy, asked: int | None) -> int:
    return policy.window_days or definition.default_window_days or asked or DEFAULT_WINDOW_DAYS


def _result(
    definition: MetricDefinition,
    policy: MetricPolicy,
    window: Window,
    counts: Counts,
) -> ScorecardMetric:
    bands = policy.band_list
    level, status = level_of(counts.value, bands, lower_is_better=definition.lower_is_better)
    return ScorecardMetric(
        name=definition.code,
        label=definition.label,
        unit=str(definition.unit),
        numerator=counts.numerator,
        denominator=counts.denominator,
        value=counts.value,
        window_start=window.start,
        window_end=window.end,
        window_days=window.days,
        as_of=window.as_of,
        lower_is_better=definition.lower_is_better,
        target=band_text(bands[0], definition.unit, definition.lower_is_better) if bands else None,
        level=level,
        status=status,
        display=format_value(counts.value, definition.unit),
        levels=[
            {
                "level": band.level,
                "bound": band.bound,
                "inclusive": band.inclusive,
                "text": band_text(band, definition.unit, definition.lower_is_better),
            }
            for band in bands
        ],
        note=" ".join(filter(None, [definition.note, policy.notes])),
    )


def _window(
    marketplace: Marketplace,
    policy: MetricPolicy,
    as_of: dt.date,
    window_days: int | None,
    now: dt.datetime | None,
) -> Window:
    definition = METRICS[policy.metric]
    days = _window_days(definition, policy, window_days)
    return Window.of(marketplace, as_of, days, now=now, parameters=policy.parameters)


def metric_evaluate(
    *,
    marketplace: Marketplace,
    metric: str,
    as_of: dt.date,
    window_days: int | None = None,
    policy: MetricPolicy | None = None,
    now: dt.datetime | None = None,
) -> ScorecardMetric:
    """One metric of ``marketplace`` as of the end of the local day ``as_of``.

    ``window_days`` applies to metrics whose marketplace fixes no window (Tmall's rolling
    rates); Amazon's and Faire's metrics keep their own (their ``window_days`` says which).
    """
    policy = policy or policy_for(marketplace, metric)
    definition = METRICS[metric]
    window = _window(marketplace, policy, as_of, window_days, now)
    return _result(definition, policy, window, definition.counts(window))


def scorecard(
    *, marketplace: Marketplace, as_of: dt.date, window_days: int = DEFAULT_WINDOW_DAYS
) -> list[ScorecardMetric]:
    """Every metric on ``marketplace``'s scorecard as of ``as_of``; one aggregate query each."""
    return [
        metric_evaluate(
            marketplace=marketplace,
            metric=policy.metric,
            as_of=as_of,
            window_days=window_days,
            policy=policy,
        )
        for policy in policies_for(marketplace)
    ]


def metric_records(
    *,
    marketplace: Marketplace,
    metric: str,
    as_of: dt.date,
    window_days: int | None = None,
) -> QuerySet:
    """The rows behind a metric that hurt the score (defective orders, rejected refunds, late
    answers...), worst or most recent first; the CSV of the quarterly report lists them."""
    policy = policy_for(marketplace, metric)
    return METRICS[metric].problems(_window(marketplace, policy, as_of, window_days, None))


def today_for(marketplace: Marketplace, at: dt.datetime | None = None) -> dt.date:
    return calendar_for(marketplace).local_date(at or timezone.now())


# -- the "what if" before a refund is rejected ---------------------------------------------------


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
    window = _window(marketplace, policy, today_for(marketplace, at), window_days, at)
    counts = definition.counts(window)
    before = _result(definition, policy, window, counts)
    numerator, denominator = counts.numerator + pending, counts.denominator + pending
    after = _result(
        definition,
        policy,
        window,
        Counts(numerator, denominator, ratio(numerator, denominator)),
    )
    return RefundRejectionWhatIf(before=before, after=after, rejected=pending)


# -- trends and snapshots -----------------------------------------------------------------------


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


__all__ = [
    "MarketplaceScorecard",
    "RefundRejectionWhatIf",
    "ScorecardMetric",
    "TrendPoint",
    "format_duration",
    "format_value",
    "level_of",
    "metric_evaluate",
    "metric_records",
    "policies_for",
    "policies_install_defaults",
    "refund_rejection_rate_if_rejected",
    "scorecard",
    "scorecard_dashboard",
    "scorecard_trend",
    "snapshot_take",
    "snapshots_take_all",
]
