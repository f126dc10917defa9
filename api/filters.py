"""Query filters of the case and order lists (django-filter). Every list filter hits an index
of ``cases.models`` (marketplace/state, kind/next_due_at, assignee/next_due_at, opened_at...)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.request import Request

from cases.choices import CaseKind, CaseState, ReturnDecision
from cases.models import Case, Order, ReturnRequest
from cases.selectors import closed_cases_q, not_overdue_q, open_cases_q, overdue_q
from messaging.models import Direction, Message, OutboundMessage

from .problems import QueryParametersInvalid


class ApiFilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """django-filter's backend whose refusals name the query parameter: their errors carry
    ``parameter`` and no body ``pointer`` (``api.problems.QueryParametersInvalid``)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            # No filter asked for: every filter would leave the list as it is.
            return queryset
        try:
            filtered: QuerySet = super().filter_queryset(request, queryset, view)
            return filtered
        except ValidationError as exc:
            raise QueryParametersInvalid(exc.detail) from exc
        except DjangoValidationError as exc:  # raised by a filter method (marketplace codes)
            raise QueryParametersInvalid(get_error_detail(exc)) from exc


class CommaChoicesField(forms.Field):
    """``a,b,c`` -> ["a", "b", "c"], each one of ``choices``."""

    def __init__(self, *, allowed: list[str], **kwargs: Any) -> None:
        self.valid = allowed
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str] | None:
        if value in (None, ""):
            return None
        values = [part.strip() for part in str(value).split(",") if part.strip()]
        unknown = [v for v in values if v not in self.valid]
        if unknown:
            # Values go in params, never into the message itself: a "%" in them must not be read
            # as a format directive.
            raise forms.ValidationError(
                _("Unknown value %(values)s; use one or more of: %(choices)s (comma-separated)."),
                params={"values": ", ".join(unknown[:5]), "choices": ", ".join(self.valid)},
                code="invalid_choice",
            )
        return values


class CommaChoicesFilter(django_filters.Filter):
    field_class = CommaChoicesField

    def __init__(self, *args: Any, allowed: list[str], **kwargs: Any) -> None:
        super().__init__(*args, allowed=allowed, **kwargs)
        # The schema states the rule the field checks: one or more of the values, by commas.
        choice = "|".join(re.escape(value) for value in allowed)
        set_override(self, "field", {"type": "string", "pattern": f"^({choice})(,({choice}))*$"})

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error, not silently ignored."""

    def clean(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1", "yes"}:
            return True
        if text in {"false", "0", "no"}:
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def _codes(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def narrowed_marketplace_ids(request: Request, mine: dict[str, Any]) -> frozenset[int] | None:
    """The ids of the marketplaces a ``marketplace`` parameter asks for, when each of them is
    one of the client's (``mine``: code -> Marketplace); else None (no parameter, or a code
    that ``MarketplaceCodesFilter`` refuses in its own words).

    A list scoped with these ids instead of all the client's needs no second marketplace
    condition: ``marketplace_id IN (1, 4) AND marketplace_id IN (1)`` makes PostgreSQL expect
    a fifth of the rows it finds and pick a plan that reads most of the table.
    """
    codes = _codes(request.query_params.get("marketplace", ""))
    if not codes or any(code not in mine for code in codes):
        return None
    ids = frozenset(mine[code].pk for code in codes)
    request.marketplace_scope = ids  # type: ignore[attr-defined]  # read by the filter below
    return ids


@extend_schema_field(OpenApiTypes.STR)
class MarketplaceCodesFilter(django_filters.Filter):
    """Marketplace codes (comma-separated), each one of the client's marketplaces."""

    field_class = forms.CharField

    def filter(self, qs: QuerySet, value: str | None) -> QuerySet:
        if not value:
            return qs
        request = self.parent.request
        mine = request.user.marketplaces_by_code()
        codes = _codes(value)
        unknown = [code for code in codes if code not in mine]
        if unknown:
            raise forms.ValidationError(
                {
                    self.field_name: forms.ValidationError(
                        _("Not one of your marketplaces: %(codes)s (yours: %(mine)s)."),
                        params={"codes": ", ".join(unknown[:5]), "mine": ", ".join(sorted(mine))},
                        code="not_yours",
                    )
                }
            )
        ids = frozenset(mine[code].pk for code in codes)
        if getattr(request, "marketplace_scope", None) == ids:
            return qs  # the view scoped the list to these marketplaces already
        return qs.filter(marketplace_id__in=sorted(ids))


_UNENCODED_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class AwareIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    default_error_messages = {
        "invalid": _("Give a time in ISO 8601 with its offset, e.g. 2026-03-01T00:00:00Z."),
    }

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        # "+08:00" arrives as " 08:00" when a client forgets to URL-encode the plus sign.
        text = _UNENCODED_PLUS.sub(r"\1+\2", text)
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            # A valid time just beyond the calendar's ends in UTC (0001-01-01T00:00+01:00):
            # the end itself selects the same rows.
            if parsed.year == 1:
                return dt.datetime.min.replace(tzinfo=dt.UTC)
            return dt.datetime.max.replace(tzinfo=dt.UTC)


class AwareIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareIsoDateTimeField


class _FiltersCopiedLightly(dict):
    """A filter set's ``base_filters`` whose deep copy (``FilterSet.__init__``, every request)
    copies each filter and its options, not the lazy labels, choice lists and schema overrides
    beneath them, which no request changes: the deep copy was a third of a list request."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, django_filters.Filter]:
        copies = {}
        for name, declared in self.items():
            filter_ = copy.copy(declared)
            filter_.extra = dict(declared.extra)
            if declared.method is not None:
                filter_.method = declared.method  # bound to the copy, not to the declaration
            copies[name] = filter_
        return copies


# Form classes by filter set and the parameters a request gives (few combinations are used; the
# cap keeps a client that tries every one from growing this without end).
_FORM_CLASSES: dict[tuple[type[django_filters.FilterSet], frozenset[str]], type[forms.Form]] = {}
_FORM_CLASSES_MAX = 512


class StrictFilterSet(django_filters.FilterSet):
    """A parameter given with no value (``?due_after=``) is an error, not silently ignored."""

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        return _FiltersCopiedLightly(super().get_filters())

    def get_form_class(self) -> type[forms.Form]:
        """The form of the filters the request gives, built once per filter set and set of
        parameters: no field depends on the request, a filter that is not given filters
        nothing, and Django copies and cleans every field of a form on each request (for the
        case list's 15 filters, most of the filters' cost when one or two are given)."""
        given = frozenset(name for name in self.filters if name in self.data)
        key = (type(self), given)
        built = _FORM_CLASSES.get(key)
        if built is None:
            fields = {name: self.filters[name].field for name in self.filters if name in given}
            built = type(f"{type(self).__name__}Form", (self._meta.form,), fields)
            if len(_FORM_CLASSES) >= _FORM_CLASSES_MAX:
                _FORM_CLASSES.clear()
            _FORM_CLASSES[key] = built
        return built

    def is_valid(self) -> bool:
        valid: bool = super().is_valid()
        for name in self.filters:
            if name in self.data and self.data.get(name) == "":
                self.form.add_error(name, _("Give a value, or leave the parameter out."))
                valid = False
        return valid


class CaseFilter(StrictFilterSet):
    marketplace = MarketplaceCodesFilter(
        label="Marketplace codes, comma-separated (among the client's)."
    )
    kind = CommaChoicesFilter(
        field_name="kind", allowed=CaseKind.values, label="Kinds, comma-separated."
    )
    state = CommaChoicesFilter(
        field_name="state", allowed=CaseState.values, label="States, comma-separated."
    )
    open = StrictBooleanFilter(method="filter_open", label="Only open (or closed) cases.")
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="The assignee's user name, or “none” for unassigned."
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue", label="A running deadline has passed (true) or not (false)."
    )
    escalated = StrictBooleanFilter(field_name="escalated")
    due_before = AwareIsoDateTimeFilter(
        field_name="next_due_at", lookup_expr="lt", label="Next deadline before this time."
    )
    due_after = AwareIsoDateTimeFilter(
        field_name="next_due_at", lookup_expr="gte", label="Next deadline at or after this time."
    )
    opened_before = AwareIsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    opened_after = AwareIsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    updated_after = AwareIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after this time."
    )
    order = django_filters.CharFilter(
        field_name="order__external_id", label="The order's external id."
    )
    external_id = django_filters.CharFilter(field_name="external_id")

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_open(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(open_cases_q() if value else closed_cases_q())

    def filter_assignee(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return qs
        if value.lower() == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee__username=value)

    def filter_overdue(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        now = timezone.now()
        return qs.filter(overdue_q(now) if value else not_overdue_q(now))


class OrderFilter(StrictFilterSet):
    marketplace = MarketplaceCodesFilter()
    external_id = django_filters.CharFilter(field_name="external_id")
    placed_before = AwareIsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    placed_after = AwareIsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    updated_after = AwareIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Order
        fields: list[str] = []


class MessageFilter(StrictFilterSet):
    marketplace = MarketplaceCodesFilter()
    order = django_filters.CharFilter(
        field_name="order__external_id", label="The order's external id."
    )
    case = django_filters.CharFilter(field_name="case__reference", label="The case reference.")
    conversation_id = django_filters.CharFilter(
        field_name="conversation__external_id", label="The marketplace's thread id."
    )
    direction = CommaChoicesFilter(
        field_name="direction", allowed=Direction.values, label="Directions, comma-separated."
    )
    sent_before = AwareIsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")
    sent_after = AwareIsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")

    class Meta:
        model = Message
        fields: list[str] = []


class OutboxFilter(StrictFilterSet):
    marketplace = MarketplaceCodesFilter()
    queued_after = AwareIsoDateTimeFilter(field_name="queued_at", lookup_expr="gte")

    class Meta:
        model = OutboundMessage
        fields: list[str] = []


class ReturnRequestFilter(StrictFilterSet):
    marketplace = MarketplaceCodesFilter()
    order = django_filters.CharFilter(
        field_name="order__external_id", label="The order's external id."
    )
    case = django_filters.CharFilter(field_name="case__reference", label="The case reference.")
    answered = StrictBooleanFilter(
        field_name="responded_at", lookup_expr="isnull", exclude=True, label="Answered or not."
    )
    decision = CommaChoicesFilter(
        field_name="decision", allowed=ReturnDecision.values, label="Decisions, comma-separated."
    )
    due_before = AwareIsoDateTimeFilter(field_name="response_due_at", lookup_expr="lt")
    requested_after = AwareIsoDateTimeFilter(field_name="requested_at", lookup_expr="gte")
    requested_before = AwareIsoDateTimeFilter(field_name="requested_at", lookup_expr="lt")
    updated_after = AwareIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ReturnRequest
        fields: list[str] = []
