"""A metric of a marketplace as of a day: its figures, level and target, and the rows behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from ..definitions import METRICS, Counts, MetricDefinition, Unit, Window
from ..models import MetricPolicy
from .facts import facts_counts
from .formatting import band_text, format_value
from .policies import level_of, policies_for, policy_for

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


def window_days_of(definition: MetricDefinition, policy: MetricPolicy, asked: int | None) -> int:
    return policy.window_days or definition.default_window_days or asked or DEFAULT_WINDOW_DAYS


def metric_result(
    definition: MetricDefinition,
    policy: MetricPolicy,
    window: Window,
    counts: Counts,
) -> ScorecardMetric:
    bands = policy.band_list
    level, status = level_of(counts.value, bands, lower_is_better=definition.lower_is_better)
    return ScorecardMetric(
        name=definition.code,
        label=definition.display_label(),
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
        note=" ".join(filter(None, [definition.display_note(), policy.notes])),
    )


def metric_window(
    marketplace: Marketplace,
    policy: MetricPolicy,
    as_of: dt.date,
    window_days: int | None,
    now: dt.datetime | None,
) -> Window:
    definition = METRICS[policy.metric]
    days = window_days_of(definition, policy, window_days)
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
    now = now or timezone.now()
    window = metric_window(marketplace, policy, as_of, window_days, now)
    (counts,) = facts_counts([(definition, window)], now=now)
    return metric_result(definition, policy, window, counts)


def scorecard(
    *,
    marketplace: Marketplace,
    as_of: dt.date,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: dt.datetime | None = None,
) -> list[ScorecardMetric]:
    """Every metric on ``marketplace``'s scorecard as of ``as_of``, from the daily facts
    (``facts``: a few queries for the whole scorecard, plus one per metric with days not
    settled yet) or, for past windows they cannot answer, one aggregate query per metric."""
    now = now or timezone.now()
    policies = policies_for(marketplace)
    items = [
        (METRICS[p.metric], metric_window(marketplace, p, as_of, window_days, now))
        for p in policies
    ]
    counted = facts_counts(items, now=now)
    return [
        metric_result(definition, policy, window, counts)
        for policy, (definition, window), counts in zip(policies, items, counted, strict=True)
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
    return METRICS[metric].problems(metric_window(marketplace, policy, as_of, window_days, None))


def today_for(marketplace: Marketplace, at: dt.datetime | None = None) -> dt.date:
    return calendar_for(marketplace).local_date(at or timezone.now())
