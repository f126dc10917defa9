"""Marketplaces (profiles, rules, calendars) and their scorecards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.query import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from marketplaces.models import Marketplace
from scorecards.definitions import Unit

from ..fields import ApiModelSerializer, PlausibleDateField


class MarketplaceSerializer(ApiModelSerializer):
    class Meta:
        model = Marketplace
        fields: tuple[str, ...] = (
            "code",
            "name",
            "is_active",
            "time_zone",
            "calendar_country",
            "calendar_subdivision",
            "resolution_business_days",
            "evidence_wait_business_days",
            "at_risk_business_days",
            "first_response_amount",
            "first_response_unit",
            "first_response_counting",
            "channel",
            "mediation",
            "attachments_allowed",
            "html_allowed",
            "notes",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields


class QueryParametersSerializer(serializers.Serializer):
    """Query parameters: one given with no value (``?as_of=``) is refused, not taken as absent
    (the schema says so: minLength 1), as the list filters do."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        empty = [name for name in list(self.fields) if name in data and data.get(name) == ""]
        if empty:
            raise serializers.ValidationError(
                {name: [_("Give a value, or leave the parameter out.")] for name in empty}
            )
        values: dict[str, Any] = super().to_internal_value(data)
        return values


class CalendarQuerySerializer(QueryParametersSerializer):
    start = PlausibleDateField(
        required=False, help_text="The event's local date, YYYY-MM-DD (default: today)."
    )
    add_business_days = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=1000,
        help_text="Business days after start (default 0 when start is given).",
    )
    year = serializers.IntegerField(
        required=False,
        min_value=1970,
        max_value=2100,
        help_text="The year whose exceptions to list (default: this year); not used with start "
        "or add_business_days.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # OpenAPI cannot say "these parameters go together", so none is needed with another: a
        # deadline when start or add_business_days is given (start: today, N: 0 by default;
        # year is then not used), else the exceptions of the year (this year by default).
        if "start" in attrs or "add_business_days" in attrs:
            attrs.pop("year", None)
            attrs.setdefault("add_business_days", 0)
        return attrs


class CalendarDeadlineSerializer(serializers.Serializer):
    marketplace = serializers.CharField()
    time_zone = serializers.CharField()
    start = serializers.DateField()
    add_business_days = serializers.IntegerField()
    due_date = serializers.DateField(help_text="Day N after start (start does not count).")
    due_at = serializers.DateTimeField(help_text="23:59:59 of due_date, local time, in UTC.")
    days_off = serializers.ListField(
        child=serializers.DateField(), help_text="Days between start and due_date not counted."
    )


class CalendarExceptionSerializer(serializers.Serializer):
    date = serializers.DateField()
    working = serializers.BooleanField(
        help_text="True: a weekend day worked; false: a weekday off."
    )
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute


class CalendarYearSerializer(serializers.Serializer):
    marketplace = serializers.CharField()
    time_zone = serializers.CharField()
    country = serializers.CharField()
    subdivision = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField()
    exceptions = CalendarExceptionSerializer(many=True)


class ScorecardQuerySerializer(QueryParametersSerializer):
    as_of = PlausibleDateField(
        required=False, help_text="Last day of the window (local date); default today."
    )
    window_days = serializers.IntegerField(required=False, min_value=1, max_value=400, default=30)


class MetricLevelSerializer(serializers.Serializer):
    level = serializers.CharField(help_text="The level's name: 5, 4.6... (Tmall), met, green...")
    bound = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        allow_null=True,
        help_text="The edge of the level, in the metric's unit; null: every value not reached by "
        "a better level.",
    )
    inclusive = serializers.BooleanField(help_text="A value exactly at bound reaches the level.")
    text = serializers.CharField(help_text="The condition as people read it: ≤ 0.50 %, < 2 d 3 h.")


class MetricSerializer(serializers.Serializer):
    """One metric. ``value`` is a number in ``unit``; ``display`` is the same value as text.
    Any further attribute the engine gives is included (clients ignore what they do not know)."""

    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    unit = serializers.ChoiceField(
        choices=[unit.value for unit in Unit],
        help_text="What value is in: ratio (a fraction from 0 to 1: 0.0125 is 1.25 %), seconds "
        "(an average duration) or score (points).",
    )
    numerator = serializers.IntegerField(
        help_text="ratio: the rows counted; seconds: their total duration in seconds; score: "
        "the weighted sum of the scores."
    )
    denominator = serializers.IntegerField(
        help_text="ratio and seconds: the rows judged; score: the sum of the weights."
    )
    value = serializers.DecimalField(
        max_digits=20,
        decimal_places=6,
        allow_null=True,
        help_text="numerator / denominator, in unit (a decimal string); null when nothing was "
        "counted.",
    )
    display = serializers.CharField(
        help_text="value as people read it, with its unit: 1.25 %, 2 d 3 h, 87.5; n/a when null."
    )
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField(help_text="Exclusive.")
    window_days = serializers.IntegerField(
        help_text="This metric's window: the one asked for, unless the marketplace's rule fixes "
        "its own (Amazon's Order Defect Rate: 60 days)."
    )
    as_of = serializers.DateField()
    lower_is_better = serializers.BooleanField()
    target = serializers.CharField(
        allow_null=True, help_text="The best level's condition, as text (e.g. < 1.00 %)."
    )
    level = serializers.CharField(allow_null=True, help_text="The level reached; null: no value.")
    status = serializers.ChoiceField(
        choices=["good", "warning", "bad"],
        allow_null=True,
        help_text="The level's colour; null when there is no value or no level.",
    )
    levels = MetricLevelSerializer(many=True, help_text="Every level, best first.")
    note = serializers.CharField(allow_blank=True, help_text="How the metric is counted.")

    class Meta:
        # Documented as open: metrics gain attributes without a new API version.
        ref_name = "Metric"

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return metric_data(instance)


class ScorecardSerializer(serializers.Serializer):
    marketplace = serializers.CharField()
    as_of = serializers.DateField()
    window_days = serializers.IntegerField(
        help_text="The window asked for; each metric says the window it used."
    )
    metrics = MetricSerializer(many=True)


def _plain(value: Any) -> Any:  # noqa: PLR0911 (one return per kind of value)
    """A JSON-able copy of an attribute value; None for what cannot be shown cheaply."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return serializers.DateTimeField().to_representation(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Promise):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    raise TypeError


# Attributes of the engine's metric objects that an answer must not carry under their name:
# ``percent`` is a display alias that holds "3 d 8 h" for a duration; ``display`` is the same
# text for every unit, next to ``value`` and ``unit``.
_MISLEADING = frozenset({"percent"})


def metric_data(metric: Any) -> dict[str, Any]:
    """Every public attribute and property of a metric object, generically: the scorecard
    shows what the engine computes without a list to maintain here. Querysets and model rows
    are left out (they would run queries, and the counts already say how many)."""
    raw: dict[str, Any] = {}
    if dataclasses.is_dataclass(metric):
        raw.update({f.name: getattr(metric, f.name) for f in dataclasses.fields(metric)})
    else:
        raw.update({k: v for k, v in vars(metric).items() if not k.startswith("_")})
    for name, member in inspect.getmembers(type(metric)):
        if isinstance(member, property) and not name.startswith("_"):
            raw[name] = getattr(metric, name)
    first = ("name", "numerator", "denominator", "value")
    data = {key: raw.get(key) for key in first}
    for key, value in raw.items():
        if key in first or key in _MISLEADING:
            continue
        if isinstance(value, QuerySet | models.Model | models.Manager):
            continue
        if callable(value):
            continue
        try:
            data[key] = _plain(value)
        except TypeError:
            continue
    data["value"] = _plain(data["value"])
    return data
