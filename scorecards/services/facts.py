"""Daily facts: each metric's counts per marketplace and local day, so that a scorecard of any
window adds up at most one row per day and metric instead of reading every order.

How they stay exact:

* **Marks.** Database triggers (migration ``0005_fact_mark_triggers``) mark the local days of
  every row inserted, updated or deleted in the tables the metrics read, before and after the
  change, whichever code path wrote it. A marked day is counted from the rows by any read until
  the facts job has recomputed it; the job removes only the marks it read, so a write that
  lands while it runs stays marked.
* **Recomputed, never incremented.** The job recomputes a marked day from the rows with the
  metric's own definition (``counts_by_day``: the same conditions as the direct count), so
  running it twice, or missing a run, never counts a change twice or loses one.
* **The clock.** Some rules turn on time alone (24 hours to pick up, a promised day that ends).
  Each fact says when its day *settles* (``settles_at``: after it, only a write can change the
  counts), and each such metric names the moments at which the clock flips one row
  (``clock_moments``: the order time plus 24 hours, the last scan plus the silence allowed...).
  A read of a fact computed before its day settled adds what the clock changed since: the rows
  with a moment in between, counted now minus counted as the fact saw them (a few rows, found
  by index). The job recomputes such facts every few minutes and once the day has settled.
* **Basis.** Facts are computed under a marketplace's time zone, calendar version and the
  parameters that change a day's counts. A fact basis other than the current one, or a window
  starting before the days the facts cover, is counted from the rows.

What they answer: every window that ends today (observed now), and, for the metrics whose facts
record the day each event became known (``history_exact``: refund-rejection and
platform-assistance rates), windows that ended in the past too. Other past windows (a trend
point without its snapshot) are counted from the rows.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from django.db import transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone

from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from ..definitions import (
    DAY,
    METRICS,
    ClockMoment,
    Counts,
    DayCounts,
    MetricDefinition,
    Window,
)
from ..models import MetricPolicy, ScorecardFact, ScorecardFactBasis, ScorecardFactMark

# Days back from today a first build covers: any window up to 365 days, with room.
FACT_DAYS = 400
# Marked days further apart than this are recomputed in separate queries.
RUN_GAP_DAYS = 7
# Metrics every marketplace keeps facts for (the support dashboard's two rates).
ALWAYS = ("refund_rejection_rate", "platform_assistance_rate")
EPSILON = dt.timedelta(microseconds=1)
# A fact the clock can still move is recomputed once it is this old (a read adds the rows the
# clock flipped since it was computed: the older, the more rows).
UNSETTLED_REFRESH = dt.timedelta(minutes=5)
# Within facts_reading(), facts are read this many days back at least (a page's trends).
READ_AHEAD_DAYS = 120


def fact_basis(marketplace: Marketplace, definition: MetricDefinition, parameters: dict) -> str:
    relevant = {k: parameters[k] for k in definition.fact_parameters if k in parameters}
    return "|".join(
        [
            marketplace.time_zone,
            str(marketplace.calendar_version),
            json.dumps(relevant, sort_keys=True),
        ]
    )


def span_window(window: Window, first: dt.date, last: dt.date, observed: dt.datetime) -> Window:
    """The rows anchored on ``first`` .. ``last`` (local days), as known at ``observed``."""
    calendar = window.calendar
    return Window(
        window.marketplace,
        last,
        (last - first).days + 1,
        calendar.start_of_day(first),
        calendar.start_of_day(last + DAY),
        observed,
        calendar,
        window.parameters,
        window.only,
    )


def runs(days: Iterable[dt.date], gap: int = RUN_GAP_DAYS) -> list[tuple[dt.date, dt.date]]:
    """Sorted days grouped into (first, last) runs with gaps of at most ``gap`` days."""
    result: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if result and (day - result[-1][1]).days <= gap:
            result[-1][1] = day
        else:
            result.append([day, day])
    return [(a, b) for a, b in result]


def days_counted(
    definition: MetricDefinition,
    window: Window,
    days: set[dt.date],
    observed: dt.datetime,
    gap: int = RUN_GAP_DAYS,
) -> list[DayCounts]:
    """``counts_by_day`` for the given days only (one query per run of days)."""
    found: list[DayCounts] = []
    for first, last in runs(days, gap):
        part = span_window(window, first, last, observed)
        found += [d for d in definition.counts_by_day(part) if d.day in days]
    return found


def _marked_days(marketplaces: dict[int, Marketplace], ids: list[int] | None = None) -> dict:
    """Marked local days per marketplace id (and the mark ids read, when ``ids`` is a list)."""
    marked: dict[int, set[dt.date]] = defaultdict(set)
    rows = ScorecardFactMark.objects.filter(marketplace_id__in=list(marketplaces))
    read: list[tuple[int, dt.date | None, dt.datetime | None]]
    if ids is None:
        read = list(rows.values_list("marketplace_id", "day", "moment").distinct())
    else:
        read = []
        for pk, m, d, t in rows.values_list("pk", "marketplace_id", "day", "moment"):
            ids.append(pk)
            read.append((m, d, t))
    for marketplace_id, day, moment in read:
        if day is None and moment is not None:
            day = calendar_for(marketplaces[marketplace_id]).local_date(moment)
        if day is not None:
            marked[marketplace_id].add(day)
    return marked


# -- reading ----------------------------------------------------------------------------------

# Within ``facts_reading()``, the bases and marks of every marketplace are read once and kept.
_reading: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "facts_reading", default=None
)


@contextlib.contextmanager
def facts_reading() -> Iterator[None]:
    """Several scorecards read in one go (a page): the facts' bases and the marked days are
    read once for every marketplace instead of once per scorecard."""
    token = _reading.set({})
    try:
        yield
    finally:
        _reading.reset(token)


def _bases(marketplaces: dict[int, Marketplace], codes: set[str]) -> dict:
    cache = _reading.get()
    if cache is None:
        rows = ScorecardFactBasis.objects.filter(
            marketplace_id__in=list(marketplaces), metric__in=codes
        )
        return {(b.marketplace_id, b.metric): b for b in rows}
    if "bases" not in cache:
        cache["bases"] = {(b.marketplace_id, b.metric): b for b in ScorecardFactBasis.objects.all()}
    return cache["bases"]


def _marks(marketplaces: dict[int, Marketplace]) -> dict[int, set[dt.date]]:
    cache = _reading.get()
    if cache is None:
        return _marked_days(marketplaces)
    marks = cache.setdefault("marks", defaultdict(set))
    read = cache.setdefault("read", set())
    missing = {pk: m for pk, m in marketplaces.items() if pk not in read}
    if missing:
        marks.update(_marked_days(missing))
        read.update(missing)
    return marks


def _answers_from_facts(definition: MetricDefinition, window: Window, now: dt.datetime) -> bool:
    current = window.observed_at >= now  # a window ending today, observed now
    return bool(definition.anchor) and (current or definition.history_exact)


def facts_counts(
    items: list[tuple[MetricDefinition, Window]], *, now: dt.datetime | None = None
) -> list[Counts]:
    """Each (metric, window)'s counts, from the daily facts where they answer it (three
    queries for all the items, plus one per metric with days to count from the rows: marked
    days, days not settled yet) and from the rows otherwise; equal to ``definition.counts``."""
    now = now or timezone.now()
    usable = [i for i, (d, w) in enumerate(items) if _answers_from_facts(d, w, now)]
    results: dict[int, Counts] = {}
    if usable:
        marketplaces = {items[i][1].marketplace.pk: items[i][1].marketplace for i in usable}
        codes = {items[i][0].code for i in usable}
        bases = _bases(marketplaces, codes)
        usable = [
            i
            for i in usable
            if _basis_holds(bases.get((items[i][1].marketplace.pk, items[i][0].code)), *items[i])
        ]
    if usable:
        marketplaces = {items[i][1].marketplace.pk: items[i][1].marketplace for i in usable}
        facts = _facts(items, usable, now)
        marked = _marks(marketplaces)
        live: dict[tuple, list[DayCounts]] = {}  # the same days of the same metric, counted once
        for i in usable:
            definition, window = items[i]
            key = (window.marketplace.pk, definition.code)
            results[i] = _from_facts(
                definition, window, rows=facts[key], marked=marked[key[0]], now=now, live_cache=live
            )
    # The others are counted from the rows.
    return [results.get(i) or d.counts(w) for i, (d, w) in enumerate(items)]


def _facts(
    items: list[tuple[MetricDefinition, Window]], usable: list[int], now: dt.datetime
) -> dict:
    """The facts rows per (marketplace id, metric) over the items' days (one query; within
    ``facts_reading()`` kept, and read a little wider, for the next scorecards of the page).
    A fact settled and computed before ``now`` comes without its two moments (None): it holds
    as it is, and the moments would be thousands of time-zone conversions a page."""
    cache = _reading.get()
    stored: dict = cache.setdefault("facts", {}) if cache is not None else {}
    if cache is not None and cache.get("facts_now", now) > now:
        stored.clear()  # read for a later moment: a fact computed in between is not held
    if cache is not None:
        cache["facts_now"] = now
    needed: dict[tuple[int, str], tuple[dt.date, dt.date]] = {}
    for i in usable:
        definition, window = items[i]
        key = (window.marketplace.pk, definition.code)
        first, last = needed.get(key, (window.first_day, window.as_of))
        needed[key] = (min(first, window.first_day), max(last, window.as_of))
    missing = {
        key: span
        for key, span in needed.items()
        if key not in stored or not (stored[key][0] <= span[0] and span[1] <= stored[key][1])
    }
    if missing:
        first = min(span[0] for span in missing.values())
        last = max(span[1] for span in missing.values())
        if cache is not None:
            first = min(first, last - dt.timedelta(days=READ_AHEAD_DAYS))
        found: dict[tuple[int, str], list[tuple]] = {key: [] for key in missing}
        for row in (
            ScorecardFact.objects.filter(
                marketplace_id__in={key[0] for key in missing},
                metric__in={key[1] for key in missing},
                day__gte=first,
                day__lte=last,
            )
            .annotate(
                settles=_unless_held("settles_at", now), computed=_unless_held("computed_at", now)
            )
            .values_list(
                "marketplace_id",
                "metric",
                "day",
                "known_day",
                "numerator",
                "denominator",
                "settles",
                "computed",
            )
        ):
            if (row[0], row[1]) in found:
                found[(row[0], row[1])].append(row[2:])
        for key, rows in found.items():
            stored[key] = (first, last, rows)
    return defaultdict(list, {key: stored[key][2] for key in needed})


def _unless_held(name: str, now: dt.datetime) -> Case:
    held = (Q(settles_at__isnull=True) | Q(computed_at__gte=F("settles_at"))) & Q(
        computed_at__lt=now
    )
    return Case(When(held, then=Value(None)), default=F(name), output_field=DateTimeField())


def _basis_holds(
    basis: ScorecardFactBasis | None, definition: MetricDefinition, window: Window
) -> bool:
    return (
        basis is not None
        and basis.basis == fact_basis(window.marketplace, definition, window.parameters)
        and basis.first_day <= window.first_day
        and window.as_of <= basis.last_day
    )


def _from_facts(
    definition: MetricDefinition,
    window: Window,
    *,
    rows: list[tuple],
    marked: set[dt.date],
    now: dt.datetime,
    live_cache: dict[tuple, list[DayCounts]] | None = None,
) -> Counts:
    first, last = window.first_day, window.as_of
    live = {d for d in marked if first <= d <= last}
    moments = definition.clock_moments(window)
    kept, moving = _held_and_moving(window, rows, live, moments, now)
    kept = [d for d in kept if d.day not in live]
    cache = live_cache if live_cache is not None else {}
    # Variants of one metric (Amazon's 7/30/90-day contacts) share what they count.
    variant = (
        type(definition),
        window.marketplace.pk,
        window.observed_at,
        json.dumps(window.parameters, sort_keys=True, default=str),
    )
    if live:
        key: tuple = (*variant, frozenset(live))
        if key not in cache:
            cache[key] = days_counted(definition, window, live, window.observed_at)
        kept += cache[key]
    for computed_at, days in moving.items():
        days -= live
        if days:
            key = (*variant, frozenset(days), computed_at)
            if key not in cache:
                cache[key] = _clock_moved(definition, window, days, computed_at, moments or ())
            kept += cache[key]
    return definition.combine(window, kept)


def _held_and_moving(
    window: Window,
    rows: list[tuple],
    live: set[dt.date],
    moments: tuple[ClockMoment, ...] | None,
    now: dt.datetime,
) -> tuple[list[DayCounts], dict[dt.datetime, set[dt.date]]]:
    """The window's facts as they are, and the days among them the clock may have moved
    since, by the moment their fact was computed; adds to ``live`` the days to count from
    the rows."""
    first, last = window.first_day, window.as_of
    moving: dict[dt.datetime, set[dt.date]] = defaultdict(set)
    kept: list[DayCounts] = []
    for day, known_day, numerator, denominator, settles_at, computed_at in rows:
        if not first <= day <= last or known_day > last:
            continue
        if computed_at is not None:  # None: settled, computed before this read (``_facts``)
            if computed_at >= now:
                live.add(day)  # not before this read: an event of this instant may be out
                continue
            if settles_at is not None and computed_at < settles_at:
                # Computed while the clock could still change it.
                if moments is None or (not moments and window.observed_at >= settles_at):
                    live.add(day)
                    continue
                if moments:
                    moving[computed_at].add(day)
        kept.append(DayCounts(day, known_day, numerator, denominator))
    return kept, moving


def _clock_moved(
    definition: MetricDefinition,
    window: Window,
    days: set[dt.date],
    computed_at: dt.datetime,
    moments: tuple[ClockMoment, ...],
) -> list[DayCounts]:
    """What the clock changed in ``days`` since their facts were computed: the rows a moment
    of the clock flipped in between, counted now, minus the same rows counted as the facts
    saw them (two small queries on indexed moments instead of every row of the days)."""
    seen_then = computed_at + EPSILON  # as ``_write`` counted them
    seen_now = window.observed_at
    if seen_now <= seen_then:
        return []
    spans = [q for m in moments if (q := m.between(window, seen_then, seen_now)) is not None]
    if not spans:
        return []  # no moment of the clock in between: the facts hold as they are
    flipped = Q()
    for span in spans:
        flipped |= span
    narrowed = replace(window, only=flipped)
    first, last = min(days), max(days)
    now_rows = definition.day_rows(span_window(narrowed, first, last, seen_now))
    then_rows = definition.day_rows(span_window(narrowed, first, last, seen_then))
    if now_rows is None or then_rows is None:
        now_counts = days_counted(definition, narrowed, days, seen_now)
        then_counts = days_counted(definition, narrowed, days, seen_then)
    else:
        # Both moments in one statement (UNION ALL), told apart by ``side``.
        now_counts, then_counts = [], []
        for row in now_rows.annotate(side=Value(1)).union(
            then_rows.annotate(side=Value(0)), all=True
        ):
            (now_counts if row["side"] else then_counts).append(definition.day_counts(row))
    return [d for d in now_counts if d.day in days] + [
        DayCounts(d.day, d.known_day, -d.numerator, -d.denominator)
        for d in then_counts
        if d.day in days
    ]


# -- the job ----------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    days: int = 0
    facts: int = 0
    marks: int = 0
    rebuilt: int = 0


def _maintained(marketplace: Marketplace) -> dict[str, dict]:
    """The metrics whose facts a marketplace keeps, with the parameters they are computed
    under (its policies', or none for the two rates every marketplace has)."""
    metrics: dict[str, dict] = {code: {} for code in ALWAYS}
    for policy in MetricPolicy.objects.filter(marketplace=marketplace):
        if policy.metric in METRICS:
            metrics[policy.metric] = policy.parameters or {}
    return {code: params for code, params in metrics.items() if METRICS[code].anchor}


def _write(  # noqa: PLR0917
    marketplace: Marketplace,
    definition: MetricDefinition,
    window: Window,
    days: set[dt.date],
    now: dt.datetime,
    gap: int = RUN_GAP_DAYS,
) -> int:
    # Observed just after ``now``: an event stamped at this very instant is in (a read at a
    # later moment sees it; a read at the same instant counts from the rows, see _from_facts).
    counted = days_counted(definition, window, days, now + EPSILON, gap=gap)
    if gap == RUN_GAP_DAYS:  # a span is cleared by the caller, in one statement
        ScorecardFact.objects.filter(
            marketplace=marketplace, metric=definition.code, day__in=list(days)
        ).delete()
    merged: dict[tuple[dt.date, dt.date], DayCounts] = {}
    for d in counted:
        key = (d.day, d.known_day)
        old = merged.get(key)
        merged[key] = (
            d
            if old is None
            else DayCounts(
                d.day, d.known_day, old.numerator + d.numerator, old.denominator + d.denominator
            )
        )
    extras = {d.day: d.extra for d in counted if d.extra is not None}
    if definition.settle_lag is not None:
        # A day with rows but nothing judged yet still gets a fact while the clock may add to
        # it (a message not answered yet joins the count 24 hours after it arrived).
        counted_days = {d.day for d in merged.values()}
        for day in _days_with_rows(definition, window, days - counted_days):
            settles = definition.settles_at(window, day, None)
            if settles is not None and settles > now:
                merged[(day, day)] = DayCounts(day, day, 0, 0)
    ScorecardFact.objects.bulk_create(
        [
            ScorecardFact(
                marketplace=marketplace,
                metric=definition.code,
                day=d.day,
                known_day=d.known_day,
                numerator=d.numerator,
                denominator=d.denominator,
                settles_at=definition.settles_at(window, d.day, extras.get(d.day)),
                computed_at=now,
            )
            for d in merged.values()
        ],
        batch_size=1000,
    )
    return len(merged)


def _write_span(  # noqa: PLR0917
    marketplace: Marketplace,
    definition: MetricDefinition,
    window: Window,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
) -> int:
    days = {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}
    ScorecardFact.objects.filter(
        marketplace=marketplace, metric=definition.code, day__gte=first, day__lte=last
    ).delete()
    return _write(marketplace, definition, window, days, now, gap=len(days))


def _days_with_rows(
    definition: MetricDefinition, window: Window, days: set[dt.date]
) -> set[dt.date]:
    """Which of ``days`` have rows of the metric's kind (orders, messages...) at all."""
    found: set[dt.date] = set()
    # Every metric with facts has a ``base`` queryset (ratio, duration or score metrics).
    model = cast(Any, definition).base(window).model
    for first, last in runs(days):
        part = span_window(window, first, last, window.observed_at)
        if definition.anchor_is_date:
            span = {f"{definition.anchor}__gte": first, f"{definition.anchor}__lte": last}
        else:
            span = {f"{definition.anchor}__gte": part.start, f"{definition.anchor}__lt": part.end}
        rows = (
            model.objects.filter(marketplace=window.marketplace, **span)
            .annotate(fact_day=definition.fact_day(part))
            .values_list("fact_day", flat=True)
            .order_by()
            .distinct()
        )
        found |= {d.date() if isinstance(d, dt.datetime) else d for d in rows} & days
    return found


def facts_refresh(
    *, marketplaces: Iterable[Marketplace] | None = None, now: dt.datetime | None = None
) -> RefreshReport:
    """Bring the facts up to date: build them where their basis changed or none exist,
    recompute the marked days and the days whose settling moment has passed, remove the
    marks read. Idempotent; safe to run concurrently with writes (see the module's doc)."""
    now = now or timezone.now()
    report = RefreshReport()
    chosen = list(marketplaces) if marketplaces is not None else list(Marketplace.objects.all())
    for marketplace in chosen:
        with transaction.atomic():
            ids: list[int] = []
            marked = _marked_days({marketplace.pk: marketplace}, ids)[marketplace.pk]
            calendar = calendar_for(marketplace)
            today = calendar.local_date(now)
            bases = {
                b.metric: b for b in ScorecardFactBasis.objects.filter(marketplace=marketplace)
            }
            stale: dict[str, set[dt.date]] = defaultdict(set)
            settled_since = Q(settles_at__lte=now, computed_at__lt=F("settles_at"))
            # Not settled: a read adds what the clock flipped since; recomputed now and then
            # so that this stays a few rows.
            moving = Q(settles_at__gt=now, computed_at__lte=now - UNSETTLED_REFRESH)
            for metric, day in ScorecardFact.objects.filter(
                settled_since | moving, marketplace=marketplace
            ).values_list("metric", "day"):
                stale[metric].add(day)
            for code, parameters in _maintained(marketplace).items():
                definition = METRICS[code]
                window = Window.of(marketplace, today, FACT_DAYS, now=now, parameters=parameters)
                basis_text = fact_basis(marketplace, definition, parameters)
                basis = bases.get(code)
                horizon = today + dt.timedelta(days=FACT_DAYS)
                if basis is None or basis.basis != basis_text:
                    # Future days too: an order due to ship next month belongs to that day.
                    ScorecardFact.objects.filter(marketplace=marketplace, metric=code).delete()
                    report.facts += _write_span(
                        marketplace, definition, window, window.first_day, horizon, now
                    )
                    ScorecardFactBasis.objects.update_or_create(
                        marketplace=marketplace,
                        metric=code,
                        defaults={
                            "basis": basis_text,
                            "built_at": now,
                            "first_day": window.first_day,
                            "last_day": horizon,
                        },
                    )
                    report.rebuilt += 1
                    continue
                if horizon > basis.last_day + dt.timedelta(days=RUN_GAP_DAYS):
                    # Keep the covered days ahead of today (rows written since are marked).
                    report.facts += _write_span(
                        marketplace, definition, window, basis.last_day + DAY, horizon, now
                    )
                    basis.last_day = horizon
                    basis.save(update_fields=["last_day"])
                days = {d for d in marked | stale[code] if basis.first_day <= d <= basis.last_day}
                if days:
                    report.days += len(days)
                    report.facts += _write(marketplace, definition, window, days, now)
            # Only the marks read: one written meanwhile stays for the next run.
            ScorecardFactMark.objects.filter(pk__in=ids).delete()
            report.marks += len(ids)
    return report
