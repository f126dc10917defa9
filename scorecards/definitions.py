"""What each scorecard metric counts, as aggregate queries.

Each metric is a ``MetricDefinition``: its ``base`` queryset (the rows it judges, its
denominator), the condition that puts a row in its numerator, and the rows "behind" it
(``problems``: the orders, cases, refunds, returns or messages that hurt the score). Every
count is one aggregate query; nothing loops over rows in Python.

Windows: ``window_days`` ending on ``as_of`` covers the marketplace's local days
``as_of - window_days + 1`` to ``as_of`` (``scorecards.services.window_bounds``). Facts are taken as
known at ``observed_at``, the end of the window or now if sooner: a scorecard as of a past day
does not see what happened after it, and a row whose fate is not known yet (a message received
an hour ago, an order due to ship today) is left out until it is ("not judged yet").

Where a marketplace leaves a detail open, the choice made is written in the docstring of the
metric, which the admin and the report show as its note.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from cases.choices import (
    CONTROLLABLE_AFTER_ACCEPTANCE_REASONS,
    CONTROLLABLE_CANCELLATION_REASONS,
    CaseKind,
    ClaimOutcome,
    FulfilmentChannel,
    OrderCanceller,
    RefundDecision,
    ResolutionOutcome,
)
from cases.models import Case as CaseModel
from cases.models import Order, RefundRequest, ReturnRequest
from marketplaces.calendars import BusinessCalendar, calendar_for
from marketplaces.models import Marketplace

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class Unit(enum.StrEnum):
    RATIO = "ratio"  # a fraction from 0 to 1
    SECONDS = "seconds"  # an average duration
    SCORE = "score"  # points


@dataclass(frozen=True)
class Window:
    """The period a metric looks at, in the marketplace's calendar."""

    marketplace: Marketplace
    as_of: dt.date
    days: int
    start: dt.datetime
    end: dt.datetime  # exclusive
    observed_at: dt.datetime
    calendar: BusinessCalendar
    parameters: dict[str, Any] = field(default_factory=dict)
    # Only these rows (the daily facts' clock: the rows a moment of the clock can flip).
    only: Q | None = None

    @classmethod
    def of(
        cls,
        marketplace: Marketplace,
        as_of: dt.date,
        days: int,
        *,
        now: dt.datetime | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Window:
        if days < 1:
            raise ValueError("window_days must be at least 1")
        calendar = calendar_for(marketplace)
        start = calendar.start_of_day(as_of - dt.timedelta(days=days - 1))
        end = calendar.start_of_day(as_of + DAY)
        observed = min(end, now or timezone.now())
        return cls(marketplace, as_of, days, start, end, observed, calendar, parameters or {})

    @property
    def first_day(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.days - 1)

    @property
    def observed_day(self) -> dt.date:
        """The local day of ``observed_at``."""
        return self.calendar.local_date(self.observed_at)


@dataclass(frozen=True)
class Counts:
    numerator: int
    denominator: int
    value: Decimal | None


@dataclass(frozen=True)
class ClockMoment:
    """A moment at which the clock alone can change how a row is counted: the value of
    ``fields`` (the first that is set) plus ``offset``; for a date field, the start of the local
    day after it plus ``offset``. Times the system records (a pickup, an answer) are not
    moments: they are never later than their write, and a write marks its day."""

    fields: tuple[str, ...]
    offset: dt.timedelta = dt.timedelta(0)
    is_date: bool = False

    def between(self, window: Window, start: dt.datetime, end: dt.datetime) -> Q | None:
        """The rows whose moment falls in ``start`` .. ``end`` (a millisecond wider on both
        sides: a row flipped by no moment in the span counts the same at both ends); None
        when no row's can."""
        if self.is_date:
            # The days whose next day starts (plus the offset) within the span: most often
            # none, as a span of a few minutes rarely holds a midnight.
            calendar = window.calendar
            first = calendar.local_date(start - self.offset) - 2 * DAY
            last = calendar.local_date(end - self.offset)
            margin = dt.timedelta(milliseconds=1)
            days = [
                first + n * DAY
                for n in range((last - first).days + 1)
                if start - margin
                <= calendar.start_of_day(first + (n + 1) * DAY) + self.offset
                <= end + margin
            ]
            if not days:
                return None
            return Q(**{f"{self.fields[0]}__gte": days[0], f"{self.fields[0]}__lte": days[-1]})
        margin = dt.timedelta(milliseconds=1)
        low, high = start - self.offset - margin, end - self.offset + margin
        if len(self.fields) == 1:
            return Q(**{f"{self.fields[0]}__gte": low, f"{self.fields[0]}__lte": high})
        value = Coalesce(*self.fields)
        kind = DateTimeField()
        return Q(GreaterThanOrEqual(value, Value(low, output_field=kind))) & Q(
            LessThanOrEqual(value, Value(high, output_field=kind))
        )


@dataclass(frozen=True)
class DayCounts:
    """A metric's counts for the rows of one local day, known from ``known_day`` on (the day
    itself, or for a metric exact in history, the day the numerator's event happened);
    ``extra`` feeds ``settles_at`` (e.g. the latest promised ship date of the day's orders)."""

    day: dt.date
    known_day: dt.date
    numerator: int
    denominator: int
    extra: Any = None


def ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_UP
    )


def _micros(value: Any) -> int:
    """A summed duration as whole microseconds (a timedelta on PostgreSQL, microseconds on
    SQLite): exact, so that daily sums add up to the window's."""
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(microseconds=1)
    return int(value)


def _seconds_of(micros: int) -> int:
    return round(micros / 1_000_000)


def _day_of(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def plus(name: str, delta: dt.timedelta) -> ExpressionWrapper:
    return ExpressionWrapper(F(name) + delta, output_field=DateTimeField())


@dataclass(frozen=True)
class MetricDefinition:
    """One metric. Subclasses say what is counted; ``__doc__`` says how and why."""

    code: str
    label: str
    unit: Unit = Unit.RATIO
    lower_is_better: bool = True
    # The marketplace's own window, or None when the caller's window applies.
    default_window_days: int | None = None
    # Columns of the CSV of the rows behind the metric: (header, value path).
    columns: tuple[tuple[str, str], ...] = ()
    # Daily facts (``scorecards.facts``): the field whose local day a row belongs to (a date
    # field is taken as is), and how long after that day's end the clock alone can still change
    # the day's counts (a 24-hour rule: 24 h). ``None``: no rule of the clock, only recorded
    # events move the counts, so a fact stays true until a row of its day changes.
    anchor: str = ""
    anchor_is_date: bool = False
    settle_lag: dt.timedelta | None = None
    # Whether the facts also answer a window that ended in the past (each fact says from which
    # day it is known); otherwise such windows are counted from the rows.
    history_exact: bool = False
    # The parameters that change a day's counts (facts are rebuilt when they change).
    fact_parameters: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return " ".join((type(self).__doc__ or "").split())

    # Labels and notes are English in the code (the .po files' msgids); these give them in the
    # active language, at display time (a label translated at import would stay in one).
    def display_label(self) -> str:
        return gettext(self.label)

    def display_note(self) -> str:
        return gettext(self.note) if self.note else ""

    def counts(self, window: Window) -> Counts:
        raise NotImplementedError

    # -- daily facts -----------------------------------------------------------------------------

    def fact_day(self, window: Window) -> Any:
        if self.anchor_is_date:
            return F(self.anchor)
        return TruncDate(self.anchor, tzinfo=window.calendar.tz)

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        """The window's counts per local day of the anchor (and day they are known from), as
        ``combine`` adds them up: the same rows and conditions as ``counts``."""
        raise NotImplementedError

    def combine(self, window: Window, days: list[DayCounts]) -> Counts:
        """The window's figures from its days' counts."""
        return self.figures(
            sum(d.numerator for d in days), sum(d.denominator for d in days), window
        )

    def figures(self, numerator: int, denominator: int, window: Window) -> Counts:
        return Counts(numerator, denominator, ratio(numerator, denominator))

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        """When the clock can no longer change the counts of ``day`` (None: it never can)."""
        if self.settle_lag is None:
            return None
        return window.calendar.start_of_day(day + DAY) + self.settle_lag

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        """Every moment at which the clock alone can change how one row is counted, so that
        a day's fact plus the rows flipped since it was computed gives the day's counts now.
        ``()``: the clock flips a day's rows only at its ``settles_at``. ``None``: not said
        (a day not settled is counted from its rows)."""
        return None

    def day_rows(self, window: Window) -> QuerySet | None:
        """``counts_by_day`` as one aggregate query (its rows read by ``day_counts``), where
        the metric counts in one query; None otherwise."""
        return None

    def day_counts(self, row: dict[str, Any]) -> DayCounts:
        raise NotImplementedError

    def judged(self, window: Window) -> QuerySet:
        """``base`` narrowed to ``window.only`` when the window says so."""
        rows = cast(Any, self).base(window)
        return rows if window.only is None else rows.filter(window.only)

    def problems(self, window: Window) -> QuerySet:
        """The rows behind the metric that hurt the score, worst or most recent first."""
        raise NotImplementedError


@dataclass(frozen=True)
class RatioMetric(MetricDefinition):
    """A share of rows: ``numerator`` rows (``hit``) among the judged rows (``base``)."""

    def base(self, window: Window) -> QuerySet:
        raise NotImplementedError

    def hit(self, window: Window) -> Q:
        raise NotImplementedError

    def counts(self, window: Window) -> Counts:
        totals = self.base(window).aggregate(
            denominator=Count("pk"), numerator=Count("pk", filter=self.hit(window))
        )
        return Counts(
            totals["numerator"],
            totals["denominator"],
            ratio(totals["numerator"], totals["denominator"]),
        )

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        return [self.day_counts(r) for r in self.day_rows(window)]

    def day_rows(self, window: Window) -> QuerySet:
        return (
            self.judged(window)
            .annotate(fact_day=self.fact_day(window))
            .values("fact_day")
            .order_by()
            .annotate(
                denominator=Count("pk"),
                numerator=Count("pk", filter=self.hit(window)),
                **self.extra_aggregate(window),
            )
        )

    def day_counts(self, row: dict[str, Any]) -> DayCounts:
        day = _day_of(row["fact_day"])
        return DayCounts(day, day, row["numerator"], row["denominator"], row.get("extra"))

    def extra_aggregate(self, window: Window) -> dict[str, Any]:
        return {}

    def problems(self, window: Window) -> QuerySet:
        # Annotate rather than negate: ``NOT`` over NULL columns would drop rows in SQL.
        flagged = self.base(window).annotate(
            is_hit=Case(When(self.hit(window), then=Value(1)), default=Value(0))
        )
        # Where lower is better the numerator rows are the problems; else the others are.
        return flagged.filter(is_hit=1 if self.lower_is_better else 0)


@dataclass(frozen=True)
class AverageDurationMetric(MetricDefinition):
    """An average time: ``numerator`` is the total in seconds, ``denominator`` the rows."""

    unit: Unit = Unit.SECONDS

    def base(self, window: Window) -> QuerySet:
        raise NotImplementedError

    def counts(self, window: Window) -> Counts:
        totals = self.base(window).aggregate(total=Sum("elapsed"), rows=Count("pk"))
        return self.figures(_micros(totals["total"]), totals["rows"], window)

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        rows = (
            self.judged(window)
            .annotate(fact_day=self.fact_day(window))
            .values("fact_day")
            .order_by()
            .annotate(total=Sum("elapsed"), rows=Count("pk"))
        )
        day = _day_of
        return [
            DayCounts(day(r["fact_day"]), day(r["fact_day"]), _micros(r["total"]), r["rows"])
            for r in rows
        ]

    def figures(self, numerator: int, denominator: int, window: Window) -> Counts:
        """``numerator`` in microseconds (exact sums), shown in whole seconds."""
        seconds = _seconds_of(numerator)
        value = (Decimal(seconds) / denominator).quantize(Decimal("0.01")) if denominator else None
        return Counts(seconds, denominator, value)

    def problems(self, window: Window) -> QuerySet:
        return self.base(window).order_by("-elapsed", "pk")


# -- shared conditions ---------------------------------------------------------------------------


def _in_window(name: str, window: Window) -> Q:
    return Q(**{f"{name}__gte": window.start, f"{name}__lt": window.end})


def _seller_fulfilled(marketplace: Marketplace) -> QuerySet:
    return Order.objects.filter(marketplace=marketplace, fulfilled_by=FulfilmentChannel.SELLER)


def _counted_claim(window: Window) -> Q:
    """An A-to-z claim filed by ``observed_at`` that was not withdrawn or decided for the
    seller (Amazon removes those from the seller's record)."""
    return Q(a_to_z_claim_at__lt=window.observed_at) & ~Q(
        a_to_z_claim_outcome__in=[ClaimOutcome.WITHDRAWN, ClaimOutcome.DECIDED_FOR_SELLER]
    )


def _cancelled_unshipped(window: Window) -> Q:
    return Q(cancelled_at__lt=window.observed_at) & (
        Q(shipped_at__isnull=True) | Q(shipped_at__gte=window.observed_at)
    )


def _shipped_late_by_day(window: Window) -> Q:
    """Shipped after the promised (local) day, or still not shipped once that day is over.
    Needs the ``ship_day`` annotation."""
    return Q(promised_ship_date__lt=window.observed_day) & (
        Q(shipped_at__isnull=True)
        | Q(shipped_at__gte=window.observed_at)
        | Q(ship_day__gt=F("promised_ship_date"))
    )


def _day_map(days: list[dt.date], moment_of: Callable[[dt.date], dt.datetime]) -> Case:
    """A SQL CASE giving, for the local day in the ``day_key`` annotation, a moment computed in
    Python from the business calendar (one WHEN per day of the window): business-day deadlines
    stay aggregate queries without teaching SQL the calendar."""
    return Case(
        *[When(Q(**{"day_key": day}), then=Value(moment_of(day))) for day in days],
        default=Value(None),
        output_field=DateTimeField(),
    )


ORDER_COLUMNS = (
    ("order", "external_id"),
    ("placed_at", "placed_at"),
    ("promised_ship_date", "promised_ship_date"),
    ("shipped_at", "shipped_at"),
    ("picked_up_at", "picked_up_at"),
    ("delivered_at", "delivered_at"),
    ("cancelled_at", "cancelled_at"),
    ("cancelled_by", "cancelled_by"),
    ("cancellation_reason", "cancellation_reason"),
    ("tracking_number", "tracking_number"),
    ("a_to_z_claim_at", "a_to_z_claim_at"),
    ("chargeback_at", "chargeback_at"),
    ("negative_feedback_at", "negative_feedback_at"),
)
CASE_COLUMNS = (
    ("case", "reference"),
    ("kind", "kind"),
    ("state", "state"),
    ("order", "order__external_id"),
    ("opened_at", "opened_at"),
    ("escalated_at", "escalated_at"),
    ("resolution_outcome", "resolution_outcome"),
)
REFUND_COLUMNS = (
    ("case", "case__reference"),
    ("order", "case__order__external_id"),
    ("amount", "amount"),
    ("currency", "currency"),
    ("requested_at", "requested_at"),
    ("decided_at", "decided_at"),
    ("decision", "decision"),
    ("rejection_reason", "rejection_reason"),
    ("overturned_at", "overturned_at"),
)
RETURN_COLUMNS = (
    ("return", "external_id"),
    ("order", "order__external_id"),
    ("requested_at", "requested_at"),
    ("responded_at", "responded_at"),
    ("decision", "decision"),
    ("rejection_overturned_at", "rejection_overturned_at"),
    ("negative_feedback_at", "negative_feedback_at"),
)
MESSAGE_COLUMNS = (
    ("message", "external_id"),
    ("conversation", "conversation__external_id"),
    ("order", "order__external_id"),
    ("case", "case__reference"),
    ("counterpart", "counterpart"),
    ("received_at", "received_at"),
    ("answered_at", "answered_at"),
)


# -- Tmall (and every marketplace): refund decisions and platform assistance ----------------------


@dataclass(frozen=True)
class RefundRejectionRate(RatioMetric):
    """Refund requests the seller rejected / refund requests decided, by decision time. A
    rejection the platform later overturned still counts: the seller did reject it."""

    code: str = "refund_rejection_rate"
    anchor: str = "decided_at"
    history_exact: bool = True
    label: str = "Refund-rejection rate"
    columns: tuple = REFUND_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return (
            RefundRequest.objects.filter(marketplace=window.marketplace)
            .filter(_in_window("decided_at", window), decided_at__lt=window.observed_at)
            .exclude(decision="")
        )

    def hit(self, window: Window) -> Q:
        return Q(decision=RefundDecision.REJECTED)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).select_related("case__order").order_by("-decided_at", "-pk")


@dataclass(frozen=True)
class PlatformAssistanceRate(RatioMetric):
    """Cases opened in the window in which the customer asked the platform to step in by the
    end of the window / cases opened in the window."""

    code: str = "platform_assistance_rate"
    anchor: str = "opened_at"
    history_exact: bool = True
    label: str = "Platform-assistance rate"
    columns: tuple = CASE_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return CaseModel.objects.filter(marketplace=window.marketplace).filter(
            _in_window("opened_at", window), opened_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return Q(escalated_at__lt=window.observed_at)

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        # Opened cases count from their day; an escalation from the day it happened, so that
        # the facts answer a window that ended before a later escalation.
        base = self.judged(window).annotate(fact_day=self.fact_day(window))
        opened = base.values("fact_day").order_by().annotate(n=Count("pk"))
        escalated = (
            base.filter(self.hit(window))
            .annotate(known=TruncDate("escalated_at", tzinfo=window.calendar.tz))
            .values("fact_day", "known")
            .order_by()
            .annotate(n=Count("pk"))
        )
        days = [
            DayCounts(_day_of(r["fact_day"]), _day_of(r["fact_day"]), 0, r["n"]) for r in opened
        ]
        for r in escalated:
            day = _day_of(r["fact_day"])
            days.append(DayCounts(day, max(day, _day_of(r["known"])), r["n"], 0))
        return days

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).select_related("order").order_by("-escalated_at", "-pk")


# -- Tmall logistics and service ------------------------------------------------------------------


@dataclass(frozen=True)
class CarrierPickup24hRate(RatioMetric):
    """Seller-shipped orders placed in the window that the carrier picked up within 24 hours of
    the order (exactly 24 h counts as within) / those orders. Tmall counts from payment: the
    order time is taken as the payment time (orders reach the system once paid). Orders
    cancelled before any pickup are left out; an order not picked up yet is judged once its
    24 hours are over."""

    code: str = "carrier_pickup_24h_rate"
    anchor: str = "placed_at"
    settle_lag: dt.timedelta | None = 24 * HOUR
    label: str = "Carrier pickup within 24 h"
    lower_is_better: bool = False
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        picked = Q(picked_up_at__lt=window.observed_at)
        return (
            _seller_fulfilled(window.marketplace)
            .filter(_in_window("placed_at", window))
            .exclude(Q(cancelled_at__lt=window.observed_at) & ~picked)
            .filter(picked | Q(placed_at__lte=window.observed_at - 24 * HOUR))
        )

    def hit(self, window: Window) -> Q:
        return Q(
            picked_up_at__lt=window.observed_at, picked_up_at__lte=plus("placed_at", 24 * HOUR)
        )

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (ClockMoment(("placed_at",), 24 * HOUR),)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-placed_at", "-pk")


@dataclass(frozen=True)
class AverageDeliveryTime(AverageDurationMetric):
    """Average time from order (taken as payment) to delivery of the seller-shipped orders
    delivered in the window, in seconds. Levels: see the policy's notes."""

    code: str = "average_delivery_time"
    anchor: str = "delivered_at"
    label: str = "Average delivery time"
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return (
            _seller_fulfilled(window.marketplace)
            .filter(_in_window("delivered_at", window), delivered_at__lt=window.observed_at)
            .annotate(elapsed=duration("delivered_at", "placed_at"))
        )


@dataclass(frozen=True)
class AverageFirstResponseTime(AverageDurationMetric):
    """Average time the seller took to answer the first message of each conversation a customer
    started in the window, in seconds (Tmall chat: 30 s or less scores 5, 3 min or more 3.8).
    Spam and messages marked as needing no answer are left out; a message not answered yet
    is not in the average (the message list shows it)."""

    code: str = "average_first_response_time"
    anchor: str = "received_at"
    label: str = "Average first-response time"
    columns: tuple = MESSAGE_COLUMNS

    def base(self, window: Window) -> QuerySet:
        from messaging.models import Counterpart, Direction, Message

        return (
            Message.objects.filter(
                marketplace=window.marketplace,
                direction=Direction.INBOUND,
                counterpart__in=[Counterpart.CUSTOMER, Counterpart.RETAILER],
                is_conversation_start=True,
                is_spam=False,
                no_response_needed=False,
                answered_at__lt=window.observed_at,
            )
            .filter(_in_window("received_at", window))
            .annotate(elapsed=duration("answered_at", "received_at"))
        )


# -- Amazon account health --------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDefectRate(RatioMetric):
    """Orders placed in the window with at least one defect / orders placed in the window (all
    fulfilment channels, as Amazon counts). Defects: negative feedback, a chargeback, or an
    A-to-z claim not withdrawn and not decided for the seller; an order with several counts
    once. Amazon's 14-day offset for late claims is not applied: the window ends on as_of."""

    code: str = "order_defect_rate"
    anchor: str = "placed_at"
    label: str = "Order Defect Rate"
    default_window_days: int = 60
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return Order.objects.filter(marketplace=window.marketplace).filter(
            _in_window("placed_at", window), placed_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return (
            Q(negative_feedback_at__lt=window.observed_at)
            | Q(chargeback_at__lt=window.observed_at)
            | _counted_claim(window)
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-placed_at", "-pk")


@dataclass(frozen=True)
class LateShipmentRate(RatioMetric):
    """Seller-shipped orders due to ship in the window (expected ship date in it) that shipped
    after that day, or have not shipped once it is over / those orders. "After" is judged on
    the marketplace's local day: 23:59:59 on the expected day is on time. Orders cancelled
    before shipping are left out; an order due today is judged once shipped or once today is
    over."""

    code: str = "late_shipment_rate_30d"
    anchor: str = "promised_ship_date"
    anchor_is_date: bool = True
    settle_lag: dt.timedelta | None = dt.timedelta(0)
    label: str = "Late shipment rate (30 days)"
    default_window_days: int = 30
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return (
            _seller_fulfilled(window.marketplace)
            .filter(promised_ship_date__gte=window.first_day, promised_ship_date__lte=window.as_of)
            .exclude(_cancelled_unshipped(window))
            .filter(
                Q(shipped_at__lt=window.observed_at) | Q(promised_ship_date__lt=window.observed_day)
            )
            .annotate(ship_day=TruncDate("shipped_at", tzinfo=window.calendar.tz))
        )

    def hit(self, window: Window) -> Q:
        return _shipped_late_by_day(window)

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return ()  # at the end of the promised day: the day's own settling moment

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-promised_ship_date", "-pk")


@dataclass(frozen=True)
class PreFulfilmentCancelRate(RatioMetric):
    """Seller-shipped orders placed in the window that the seller cancelled before shipping /
    orders placed in the window. Cancellations by the customer or the marketplace do not
    count (Amazon counts seller-initiated cancellations only)."""

    code: str = "pre_fulfilment_cancel_rate"
    anchor: str = "placed_at"
    label: str = "Pre-fulfilment cancel rate"
    default_window_days: int = 7
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return _seller_fulfilled(window.marketplace).filter(
            _in_window("placed_at", window), placed_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return Q(cancelled_by=OrderCanceller.SELLER, cancelled_at__lt=window.observed_at) & (
            Q(shipped_at__isnull=True) | Q(shipped_at__gt=F("cancelled_at"))
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-cancelled_at", "-pk")


@dataclass(frozen=True)
class ValidTrackingRate(RatioMetric):
    """Seller-shipped orders shipped in the window with a valid tracking number / orders shipped
    in the window. Valid: a tracking number that the marketplace says is valid, or, when it
    has not said, one the carrier scanned (the order was picked up). The target is "above
    95 %": exactly 95 % misses it."""

    code: str = "valid_tracking_rate"
    anchor: str = "shipped_at"
    label: str = "Valid tracking rate"
    lower_is_better: bool = False
    default_window_days: int = 30
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return _seller_fulfilled(window.marketplace).filter(
            _in_window("shipped_at", window), shipped_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return ~Q(tracking_number="") & (
            Q(tracking_valid=True)
            | Q(tracking_valid__isnull=True, picked_up_at__lt=window.observed_at)
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-shipped_at", "-pk")


@dataclass(frozen=True)
class ReturnDissatisfactionRate(RatioMetric):
    """Valid return requests made in the window that were not answered within 48 hours
    (exactly 48 h is in time), were rejected and overturned by the marketplace, or got
    negative feedback / valid return requests made in the window. A request still inside its
    48 hours with no other problem is not judged yet."""

    code: str = "return_dissatisfaction_rate"
    anchor: str = "requested_at"
    settle_lag: dt.timedelta | None = 48 * HOUR
    label: str = "Return Dissatisfaction Rate"
    default_window_days: int = 60
    columns: tuple = RETURN_COLUMNS

    def base(self, window: Window) -> QuerySet:
        seen = window.observed_at
        return (
            ReturnRequest.objects.filter(marketplace=window.marketplace, is_valid=True)
            .filter(_in_window("requested_at", window), requested_at__lt=seen)
            .filter(
                Q(requested_at__lte=seen - 48 * HOUR)
                | Q(responded_at__lt=seen)
                | Q(rejection_overturned_at__lt=seen)
                | Q(negative_feedback_at__lt=seen)
            )
        )

    def hit(self, window: Window) -> Q:
        seen = window.observed_at
        late = Q(requested_at__lte=seen - 48 * HOUR) & (
            Q(responded_at__isnull=True) | Q(responded_at__gt=plus("requested_at", 48 * HOUR))
        )
        return late | Q(rejection_overturned_at__lt=seen) | Q(negative_feedback_at__lt=seen)

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (ClockMoment(("requested_at",), 48 * HOUR),)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).select_related("order").order_by("-requested_at", "-pk")


@dataclass(frozen=True)
class ContactResponseRate(RatioMetric):
    """Customer messages received in the window answered within 24 hours, weekends and holidays
    included (exactly 24 h is in time) / customer messages received in the window. Spam and
    messages marked as needing no answer are left out; a message younger than 24 hours and
    not answered yet is not judged yet."""

    code: str = "contact_response_24h_30d"
    anchor: str = "received_at"
    settle_lag: dt.timedelta | None = 24 * HOUR
    label: str = "Contacts answered within 24 h (30 days)"
    lower_is_better: bool = False
    default_window_days: int = 30
    columns: tuple = MESSAGE_COLUMNS

    def base(self, window: Window) -> QuerySet:
        from messaging.models import Counterpart, Direction, Message

        seen = window.observed_at
        return (
            Message.objects.filter(
                marketplace=window.marketplace,
                direction=Direction.INBOUND,
                counterpart=Counterpart.CUSTOMER,
                is_spam=False,
                no_response_needed=False,
            )
            .filter(_in_window("received_at", window), received_at__lt=seen)
            .filter(Q(received_at__lte=seen - 24 * HOUR) | Q(answered_at__lt=seen))
        )

    def hit(self, window: Window) -> Q:
        return Q(answered_at__lte=plus("received_at", 24 * HOUR))

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (ClockMoment(("received_at",), 24 * HOUR),)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-received_at", "-pk")


DEFAULT_RECENCY_WEIGHTS = [[30, 3], [90, 2], [365, 1]]


def _recency_weights(window: Window) -> list[list[int]]:
    return window.parameters.get("recency_weights") or DEFAULT_RECENCY_WEIGHTS


@dataclass(frozen=True)
class OrderQualityScore(MetricDefinition):
    """Weighted average of the order quality score of the orders placed in the window: 100 for
    a perfect order, 0 for one shipped late (or not shipped once its expected day is over),
    -500 for an A-to-z claim (not withdrawn, not decided for the seller); the worst problem
    counts. Recent orders weigh more: by default 3 for the last 30 days, 2 up to 90 days, 1
    beyond (parameter ``recency_weights``: [[days, weight], ...]; an assumption: Amazon does
    not publish its weights). Shown on Amazon's 0-100 scale: a negative average shows as 0.
    ``numerator`` is the weighted sum of scores, ``denominator`` the sum of weights."""

    code: str = "order_quality_score"
    anchor: str = "placed_at"
    settle_lag: dt.timedelta | None = dt.timedelta(0)
    label: str = "Order quality score"
    unit: Unit = Unit.SCORE
    lower_is_better: bool = False
    default_window_days: int = 365
    columns: tuple = (("score", "quality_score"), ("weight", "weight"), *ORDER_COLUMNS)

    def base(self, window: Window) -> QuerySet:
        weights = _recency_weights(window)
        seller = Q(fulfilled_by=FulfilmentChannel.SELLER) & ~Q(_cancelled_unshipped(window))
        return (
            Order.objects.filter(marketplace=window.marketplace)
            .filter(_in_window("placed_at", window), placed_at__lt=window.observed_at)
            .annotate(ship_day=TruncDate("shipped_at", tzinfo=window.calendar.tz))
            .annotate(
                quality_score=Case(
                    When(_counted_claim(window), then=Value(-500)),
                    When(seller & _shipped_late_by_day(window), then=Value(0)),
                    default=Value(100),
                    output_field=IntegerField(),
                ),
                weight=Case(
                    *[
                        When(
                            placed_at__gte=window.calendar.start_of_day(
                                window.as_of - dt.timedelta(days=int(days) - 1)
                            ),
                            then=Value(int(weight)),
                        )
                        for days, weight in sorted(weights)
                    ],
                    default=Value(1),
                    output_field=IntegerField(),
                ),
            )
        )

    def counts(self, window: Window) -> Counts:
        totals = self.base(window).aggregate(
            points=Sum(F("quality_score") * F("weight"), output_field=BigIntegerField()),
            weights=Sum("weight", output_field=BigIntegerField()),
        )
        return self.figures(int(totals["points"] or 0), int(totals["weights"] or 0), window)

    def figures(self, numerator: int, denominator: int, window: Window) -> Counts:
        if not denominator:
            return Counts(numerator, denominator, None)
        value = max(Decimal(0), (Decimal(numerator) / denominator).quantize(Decimal("0.01")))
        return Counts(numerator, denominator, value)

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        return [self.day_counts(r) for r in self.day_rows(window)]

    def day_rows(self, window: Window) -> QuerySet:
        # Unweighted per day: the weight of a day depends on the window it is read in.
        return (
            self.judged(window)
            .annotate(fact_day=self.fact_day(window))
            .values("fact_day")
            .order_by()
            .annotate(
                points=Sum("quality_score", output_field=BigIntegerField()),
                orders=Count("pk"),
                extra=Max("promised_ship_date"),
            )
        )

    def day_counts(self, row: dict[str, Any]) -> DayCounts:
        day = _day_of(row["fact_day"])
        return DayCounts(day, day, int(row["points"] or 0), row["orders"], row["extra"])

    def combine(self, window: Window, days: list[DayCounts]) -> Counts:
        tiers = sorted(_recency_weights(window))
        points = weights = 0
        for day in days:
            age = (window.as_of - day.day).days + 1  # 1 for as_of itself
            weight = next((int(w) for d, w in tiers if age <= int(d)), 1)
            points += weight * day.numerator
            weights += weight * day.denominator
        return self.figures(points, weights, window)

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        # An order is judged late once its promised day is over, which may be after its own day.
        last = max(day, extra) if isinstance(extra, dt.date) else day
        return window.calendar.start_of_day(last + DAY)

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (ClockMoment(("promised_ship_date",), is_date=True),)  # judged late from then

    def problems(self, window: Window) -> QuerySet:
        return self.base(window).filter(quality_score__lt=100).order_by("quality_score", "-pk")


# -- Faire ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaireLateShipments(RatioMetric):
    """Orders due to ship in the window (expected ship date in it) shipped one or more business
    days after the expected date (weekends and the calendar's holidays not counted: shipping
    on the Saturday after a Friday due date is in time, on the Monday it is late), or not
    shipped by then / those orders. Orders cancelled before shipping are left out; an order
    is judged once shipped or once its first late day has begun."""

    code: str = "faire_late_shipments"
    anchor: str = "promised_ship_date"
    anchor_is_date: bool = True
    settle_lag: dt.timedelta | None = dt.timedelta(0)
    label: str = "Late shipments"
    default_window_days: int = 90
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        calendar = window.calendar
        days = [window.first_day + dt.timedelta(days=n) for n in range(window.days)]
        late_from = _day_map(
            days,
            lambda day: calendar.start_of_day(calendar.add_business_days(day, 1)),
        )
        return (
            _seller_fulfilled(window.marketplace)
            .filter(promised_ship_date__gte=window.first_day, promised_ship_date__lte=window.as_of)
            .exclude(_cancelled_unshipped(window))
            .annotate(day_key=F("promised_ship_date"))
            .annotate(late_from=late_from)
            .filter(Q(shipped_at__lt=window.observed_at) | Q(late_from__lte=window.observed_at))
        )

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        calendar = window.calendar
        return calendar.start_of_day(calendar.add_business_days(day, 1))

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return ()  # late from the next business day's start: the day's settling moment

    def hit(self, window: Window) -> Q:
        return Q(late_from__lte=window.observed_at) & (
            Q(shipped_at__isnull=True) | Q(shipped_at__gte=F("late_from"))
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-promised_ship_date", "-pk")


def _controllable_cancellation() -> Q:
    derived = Q(cancellation_reason__in=CONTROLLABLE_CANCELLATION_REASONS) | Q(
        cancellation_reason__in=CONTROLLABLE_AFTER_ACCEPTANCE_REASONS,
        accepted_at__isnull=False,
        accepted_at__lte=F("cancelled_at"),
    )
    return Q(cancellation_controllable=True) | (Q(cancellation_controllable__isnull=True) & derived)


@dataclass(frozen=True)
class FaireCancelledOrders(RatioMetric):
    """Orders placed in the window that were cancelled for a reason the brand controls / orders
    placed in the window. Controllable (Faire): expired without acceptance, wrong price, out
    of stock, production time too long; once accepted, also too small an order, a destination
    not served or another reason of the brand. Staff can override per order
    (``cancellation_controllable``)."""

    code: str = "faire_cancelled_orders"
    anchor: str = "placed_at"
    label: str = "Cancelled orders"
    default_window_days: int = 90
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return Order.objects.filter(marketplace=window.marketplace).filter(
            _in_window("placed_at", window), placed_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return Q(cancelled_at__lt=window.observed_at) & _controllable_cancellation()

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-cancelled_at", "-pk")


@dataclass(frozen=True)
class FaireMissingDamaged(RatioMetric):
    """Orders shipped in the window with a missing-item or damaged-item case / orders shipped
    in the window. Left out: orders whose whole parcel was lost or stolen, and cases the
    brand won (the platform upheld the seller) or the retailer withdrew."""

    code: str = "faire_missing_damaged"
    anchor: str = "shipped_at"
    label: str = "Missing or damaged items"
    default_window_days: int = 90
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return Order.objects.filter(marketplace=window.marketplace, parcel_lost=False).filter(
            _in_window("shipped_at", window), shipped_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        reported = CaseModel.objects.filter(
            order=OuterRef("pk"),
            kind__in=[CaseKind.MISSING_ITEM, CaseKind.DAMAGED_ITEM],
            opened_at__lt=window.observed_at,
        ).exclude(
            resolution_outcome__in=[
                ResolutionOutcome.PLATFORM_UPHELD_SELLER,
                ResolutionOutcome.WITHDRAWN,
            ]
        )
        return Q(Exists(reported))

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-shipped_at", "-pk")


@dataclass(frozen=True)
class FaireMissedMessages(RatioMetric):
    """First messages of conversations retailers started in the window that the brand answered
    more than 2 full business days after receipt, or not at all by then / those first
    messages. The receipt day, weekends and holidays do not count: a message received on a
    Monday is answered in time until Wednesday 23:59:59 (local). Later messages of a
    conversation, spam, conversations the brand started and messages received in Pause mode
    are left out; a message whose time is not over yet and not answered is not judged yet."""

    code: str = "faire_missed_messages"
    fact_parameters: tuple[str, ...] = ("business_days",)
    anchor: str = "received_at"
    settle_lag: dt.timedelta | None = dt.timedelta(0)
    label: str = "Missed messages"
    default_window_days: int = 90
    columns: tuple = (*MESSAGE_COLUMNS, ("answer_due_at", "answer_due_at"))

    def base(self, window: Window) -> QuerySet:
        from messaging.models import Counterpart, Direction, Message

        calendar = window.calendar
        business_days = int(window.parameters.get("business_days", 2))
        days = [window.first_day + dt.timedelta(days=n) for n in range(window.days)]
        due = _day_map(
            days,
            lambda day: calendar.end_of_day(calendar.add_business_days(day, business_days)),
        )
        return (
            Message.objects.filter(
                marketplace=window.marketplace,
                direction=Direction.INBOUND,
                counterpart=Counterpart.RETAILER,
                is_conversation_start=True,
                is_spam=False,
                received_while_paused=False,
            )
            .filter(_in_window("received_at", window), received_at__lt=window.observed_at)
            .annotate(day_key=TruncDate("received_at", tzinfo=calendar.tz))
            .annotate(answer_due_at=due)
            .filter(Q(answered_at__lt=window.observed_at) | Q(answer_due_at__lt=window.observed_at))
        )

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        calendar = window.calendar
        business_days = int(window.parameters.get("business_days", 2))
        # The first moment after the answer was due (23:59:59 of the last day): the rows of
        # the day are judged from then on, all at once.
        due = calendar.end_of_day(calendar.add_business_days(day, business_days))
        return due + dt.timedelta(microseconds=1)

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return ()

    def hit(self, window: Window) -> Q:
        return Q(answer_due_at__lt=window.observed_at) & (
            Q(answered_at__isnull=True) | Q(answered_at__gt=F("answer_due_at"))
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-received_at", "-pk")


# -- Tmall 2024: logistics progress, shipping time, customer-service response time ----------------


def _latest_promised(extra: Any, day: dt.date) -> dt.date:
    return max(day, extra) if isinstance(extra, dt.date) else day


@dataclass(frozen=True)
class AbnormalLogisticsRate(RatioMetric):
    """Seller-shipped orders placed in the window whose logistics fell behind / those orders.
    Behind: not picked up by the carrier within 24 hours of the order (taken as payment), or
    picked up but with no carrier scan for ``no_scan_hours`` (default 72 h) while not
    delivered, or delivered more than ``promised_delivery_hours`` (default 120 h) after the
    order, or not delivered once that time is over. Tmall publishes the indicator (2024), not
    its thresholds: the 24 hours are Tmall's pickup rule, the other two are assumptions to set.
    The system keeps the last scan only: a parcel that stalled and moved again is judged on its
    last scan. Orders cancelled before pickup are left out; an order is judged once picked up or
    once its 24 hours are over."""

    code: str = "abnormal_logistics_rate"
    anchor: str = "placed_at"
    fact_parameters: tuple[str, ...] = ("no_scan_hours", "promised_delivery_hours")
    # The clock moves the counts (``settles_at`` says until when): a day with orders but none
    # judged yet gets a fact too, which the clock then moves.
    settle_lag: dt.timedelta | None = 24 * HOUR
    label: str = "Abnormal logistics progress rate"
    columns: tuple = (*ORDER_COLUMNS, ("last_scan_at", "last_tracking_event_at"))

    @staticmethod
    def hours(window: Window, name: str, default: int) -> dt.timedelta:
        return int(window.parameters.get(name, default)) * HOUR

    def base(self, window: Window) -> QuerySet:
        seen = window.observed_at
        picked = Q(picked_up_at__lt=seen)
        return (
            _seller_fulfilled(window.marketplace)
            .filter(_in_window("placed_at", window), placed_at__lt=seen)
            .exclude(Q(cancelled_at__lt=seen) & ~picked)
            .filter(picked | Q(placed_at__lte=seen - 24 * HOUR))
        )

    def hit(self, window: Window) -> Q:
        seen = window.observed_at
        no_scan = self.hours(window, "no_scan_hours", 72)
        promised = self.hours(window, "promised_delivery_hours", 120)
        not_delivered = Q(delivered_at__isnull=True) | Q(delivered_at__gte=seen)
        late_pickup = Q(placed_at__lte=seen - 24 * HOUR) & (
            Q(picked_up_at__isnull=True)
            | Q(picked_up_at__gte=seen)
            | Q(picked_up_at__gt=plus("placed_at", 24 * HOUR))
        )
        last_scan = Coalesce("last_tracking_event_at", "picked_up_at")
        stalled = (
            Q(picked_up_at__lt=seen)
            & not_delivered
            & Q(LessThanOrEqual(last_scan, Value(seen - no_scan, output_field=DateTimeField())))
        )
        late_delivery = Q(placed_at__lte=seen - promised) & (
            not_delivered | Q(delivered_at__gt=plus("placed_at", promised))
        )
        return late_pickup | stalled | late_delivery

    def extra_aggregate(self, window: Window) -> dict[str, Any]:
        return {"extra": Max(Coalesce("last_tracking_event_at", "picked_up_at"))}

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        # The clock flips an order at its 24 hours, its promised time or its last scan plus
        # the silence allowed, whichever comes last.
        promised = self.hours(window, "promised_delivery_hours", 120)
        no_scan = self.hours(window, "no_scan_hours", 72)
        moment = window.calendar.start_of_day(day + DAY) + max(24 * HOUR, promised)
        if isinstance(extra, dt.datetime):
            moment = max(moment, extra + no_scan + dt.timedelta(microseconds=1))
        return moment

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (
            ClockMoment(("placed_at",), 24 * HOUR),
            ClockMoment(("placed_at",), self.hours(window, "promised_delivery_hours", 120)),
            ClockMoment(
                ("last_tracking_event_at", "picked_up_at"),
                self.hours(window, "no_scan_hours", 72),
            ),
        )

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-placed_at", "-pk")


@dataclass(frozen=True)
class AverageShippingTime(AverageDurationMetric):
    """Average time from order (taken as payment) to carrier pickup of the seller-shipped orders
    picked up in the window, in seconds (Tmall's "average shipping time" label, 2024)."""

    code: str = "average_shipping_time"
    anchor: str = "picked_up_at"
    label: str = "Average shipping time"
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        return (
            _seller_fulfilled(window.marketplace)
            .filter(_in_window("picked_up_at", window), picked_up_at__lt=window.observed_at)
            .annotate(elapsed=duration("picked_up_at", "placed_at"))
        )


@dataclass(frozen=True)
class AverageServiceResponseTime(AverageDurationMetric):
    """Average time the seller took to answer each customer message received in the window
    (every message, not only the first of a conversation), in seconds (Tmall's "average
    customer-service response time" label, 2024). Spam and messages marked as needing no
    answer are left out; a message not answered yet is not in the average (the inbox shows
    it)."""

    code: str = "average_service_response_time"
    anchor: str = "received_at"
    label: str = "Average customer-service response time"
    columns: tuple = MESSAGE_COLUMNS

    def base(self, window: Window) -> QuerySet:
        from messaging.models import Counterpart, Direction, Message

        return (
            Message.objects.filter(
                marketplace=window.marketplace,
                direction=Direction.INBOUND,
                counterpart=Counterpart.CUSTOMER,
                is_spam=False,
                no_response_needed=False,
                answered_at__lt=window.observed_at,
            )
            .filter(_in_window("received_at", window))
            .annotate(elapsed=duration("answered_at", "received_at"))
        )


# -- Amazon: Perfect Order Percentage, Customer Service Dissatisfaction Rate, feedback -------------


@dataclass(frozen=True)
class PerfectOrderPercentage(RatioMetric):
    """Orders placed in the window with no problem / orders placed in the window. A problem:
    an A-to-z claim (not withdrawn, not decided for the seller), a chargeback, negative
    feedback, a cancellation by the seller, or, for a seller-shipped order, shipping after the
    promised day (or not shipped once it is over). Amazon describes the measure (orders
    accepted, processed and fulfilled without a problem); the list of problems follows its
    order quality score and Order Defect Rate."""

    code: str = "perfect_order_percentage"
    anchor: str = "placed_at"
    settle_lag: dt.timedelta | None = dt.timedelta(0)
    label: str = "Perfect Order Percentage"
    lower_is_better: bool = False
    default_window_days: int = 90
    columns: tuple = ORDER_COLUMNS

    def base(self, window: Window) -> QuerySet:
        seen = window.observed_at
        seller = Q(fulfilled_by=FulfilmentChannel.SELLER) & ~Q(_cancelled_unshipped(window))
        problem = (
            _counted_claim(window)
            | Q(chargeback_at__lt=seen)
            | Q(negative_feedback_at__lt=seen)
            | Q(cancelled_by=OrderCanceller.SELLER, cancelled_at__lt=seen)
            | (seller & _shipped_late_by_day(window))
        )
        return (
            Order.objects.filter(marketplace=window.marketplace)
            .filter(_in_window("placed_at", window), placed_at__lt=seen)
            .annotate(ship_day=TruncDate("shipped_at", tzinfo=window.calendar.tz))
            .annotate(
                imperfect=Case(
                    When(problem, then=Value(1)), default=Value(0), output_field=IntegerField()
                )
            )
        )

    def hit(self, window: Window) -> Q:
        return Q(imperfect=0)

    def extra_aggregate(self, window: Window) -> dict[str, Any]:
        return {"extra": Max("promised_ship_date")}

    def settles_at(self, window: Window, day: dt.date, extra: Any = None) -> dt.datetime | None:
        return window.calendar.start_of_day(_latest_promised(extra, day) + DAY)

    def clock_moments(self, window: Window) -> tuple[ClockMoment, ...] | None:
        return (ClockMoment(("promised_ship_date",), is_date=True),)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-placed_at", "-pk")


@dataclass(frozen=True)
class CustomerServiceDissatisfactionRate(RatioMetric):
    """Survey answers received in the window that said the seller's reply did not help / survey
    answers received in the window (Amazon's "Did this solve your problem?", imported from
    Seller Central through the API)."""

    code: str = "customer_service_dissatisfaction_rate"
    anchor: str = "answered_at"
    history_exact: bool = True
    label: str = "Customer Service Dissatisfaction Rate"
    default_window_days: int = 30
    columns: tuple = (
        ("answer", "external_id"),
        ("order", "order_external_id"),
        ("answered_at", "answered_at"),
        ("dissatisfied", "dissatisfied"),
        ("comment", "comment"),
    )

    def base(self, window: Window) -> QuerySet:
        from .models import CustomerServiceSurvey

        return CustomerServiceSurvey.objects.filter(marketplace=window.marketplace).filter(
            _in_window("answered_at", window), answered_at__lt=window.observed_at
        )

    def hit(self, window: Window) -> Q:
        return Q(dissatisfied=True)

    def problems(self, window: Window) -> QuerySet:
        return super().problems(window).order_by("-answered_at", "-pk")


@dataclass(frozen=True)
class SellerFeedbackRating(MetricDefinition):
    """Average rating (1 to 5 stars) of the feedback customers left in the window, imported
    through the API; feedback the marketplace removed does not count. ``numerator`` is the sum
    of stars, ``denominator`` the number of ratings."""

    code: str = "seller_feedback_rating"
    anchor: str = "left_at"
    label: str = "Seller feedback rating"
    unit: Unit = Unit.SCORE
    lower_is_better: bool = False
    default_window_days: int = 365
    columns: tuple = (
        ("feedback", "external_id"),
        ("order", "order_external_id"),
        ("left_at", "left_at"),
        ("rating", "rating"),
        ("comment", "comment"),
    )

    def base(self, window: Window) -> QuerySet:
        from .models import SellerFeedback

        return SellerFeedback.objects.filter(marketplace=window.marketplace, removed=False).filter(
            _in_window("left_at", window), left_at__lt=window.observed_at
        )

    def counts(self, window: Window) -> Counts:
        totals = self.base(window).aggregate(stars=Sum("rating"), ratings=Count("pk"))
        return self.figures(int(totals["stars"] or 0), totals["ratings"], window)

    def counts_by_day(self, window: Window) -> list[DayCounts]:
        rows = (
            self.judged(window)
            .annotate(fact_day=self.fact_day(window))
            .values("fact_day")
            .order_by()
            .annotate(stars=Sum("rating"), ratings=Count("pk"))
        )
        return [
            DayCounts(
                _day_of(r["fact_day"]), _day_of(r["fact_day"]), int(r["stars"] or 0), r["ratings"]
            )
            for r in rows
        ]

    def figures(self, numerator: int, denominator: int, window: Window) -> Counts:
        if not denominator:
            return Counts(numerator, denominator, None)
        return Counts(
            numerator, denominator, (Decimal(numerator) / denominator).quantize(Decimal("0.01"))
        )

    def problems(self, window: Window) -> QuerySet:
        return self.base(window).filter(rating__lte=2).order_by("-left_at", "-pk")


# -- the registry ---------------------------------------------------------------------------


def _variant(metric: MetricDefinition, code: str, label: str, days: int) -> MetricDefinition:
    return type(metric)(code=code, label=label, default_window_days=days)


_LATE = LateShipmentRate()
_CONTACT = ContactResponseRate()

METRICS: dict[str, MetricDefinition] = {
    metric.code: metric
    for metric in (
        RefundRejectionRate(),
        PlatformAssistanceRate(),
        CarrierPickup24hRate(),
        AverageDeliveryTime(),
        AverageFirstResponseTime(),
        AbnormalLogisticsRate(),
        AverageShippingTime(),
        AverageServiceResponseTime(),
        OrderDefectRate(),
        _variant(_LATE, "late_shipment_rate_10d", "Late shipment rate (10 days)", 10),
        _LATE,
        PreFulfilmentCancelRate(),
        ValidTrackingRate(),
        ReturnDissatisfactionRate(),
        _variant(_CONTACT, "contact_response_24h_7d", "Contacts answered within 24 h (7 days)", 7),
        _CONTACT,
        _variant(
            _CONTACT, "contact_response_24h_90d", "Contacts answered within 24 h (90 days)", 90
        ),
        OrderQualityScore(),
        PerfectOrderPercentage(),
        CustomerServiceDissatisfactionRate(),
        SellerFeedbackRating(),
        FaireLateShipments(),
        FaireCancelledOrders(),
        FaireMissingDamaged(),
        FaireMissedMessages(),
    )
}


def metric_choices() -> list[tuple[str, Any]]:
    """(code, label) of every metric, the label translated when shown."""
    return [(code, gettext_lazy(metric.label)) for code, metric in METRICS.items()]
