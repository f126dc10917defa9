"""Filters of the case list. Each filter's rows are found with an index (see the benchmark
``bench/admin_changelist.py``); none counts rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases import workflows
from cases.choices import CaseKind, CaseState, Priority
from cases.models import RefundRequest
from cases.selectors import closed_cases_q, open_cases_q

from .urgency import DUE_WINDOW_LABELS, DueWindow, due_window_q, marketplaces_with_calendars

if TYPE_CHECKING:  # the stubs' type of a filter's choice (not in Django itself)
    from django.contrib.admin.filters import _ListFilterChoices

MINE = "mine"
UNASSIGNED = "unassigned"


def assignee_q(value: str, user: Any) -> Q | None:
    if value == MINE:
        return Q(assignee_id=user.pk)
    if value == UNASSIGNED:
        return Q(assignee__isnull=True)
    # ASCII digits only ("²" is a digit to str.isdigit), and within a database integer.
    if value.isascii() and value.isdigit() and len(value) <= 10 and int(value) < 2**31:
        return Q(assignee_id=int(value))
    return None


def refund_q(value: str) -> Q | None:
    requests = RefundRequest.objects.filter(case_id=OuterRef("pk"))
    if value == "any":
        return Q(Exists(requests))
    if value == "undecided":
        return Q(Exists(requests.filter(decision="")))
    if value == "none":
        return ~Q(Exists(requests))
    return None


def split_values(value: str | None) -> list[str]:
    """The values of a several-values parameter ("unassigned,12"), in order, without repeats."""
    seen: list[str] = []
    for part in (value or "").split(","):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


class _ChoiceFilter(admin.SimpleListFilter):
    """A filter whose choices are links; subclasses give ``lookups`` and ``q``."""

    def q(self, request: Any, value: str) -> Q | None:
        raise NotImplementedError

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        condition = self.q(request, value)
        return queryset if condition is None else queryset.filter(condition)


class _SeveralChoiceFilter(_ChoiceFilter):
    """A filter that takes several values at once (``?assignee=unassigned,12``): each choice
    adds itself to the values chosen, or takes itself out; the cases match any of them.
    ``q_one`` gives the condition of one value (None: not a value of this filter)."""

    def q_one(self, request: Any, value: str) -> Q | None:
        raise NotImplementedError

    def q(self, request: Any, value: str) -> Q | None:
        conditions = [self.q_one(request, one) for one in split_values(value)]
        usable = [condition for condition in conditions if condition is not None]
        if not usable:
            return None
        return reduce(or_, usable)

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]  # the stubs' TypedDict lacks our keys
        chosen = split_values(self.value())
        yield {
            "selected": not chosen,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
        }
        for lookup, title in self.lookup_choices:
            lookup = str(lookup)
            others = [value for value in chosen if value != lookup]
            values = others if lookup in chosen else [*chosen, lookup]
            yield {
                "selected": lookup in chosen,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: ",".join(values)} if values else {},
                    remove=[] if values else [self.parameter_name],
                ),
                "display": format_html("{} {}", "☑" if lookup in chosen else "☐", title),
            }


class StatusFilter(admin.SimpleListFilter):
    """Open cases unless asked otherwise: that is what agents work. A search looks everywhere,
    so that a closed case's reference is still found."""

    title = _("status")
    parameter_name = "status"

    def __init__(self, request: Any, params: Any, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        self.searching = bool(request.GET.get("q"))

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Open")), ("closed", _("Closed or withdrawn")), ("all", _("All"))]

    def effective_value(self) -> str:
        value = self.value()
        if value in {"open", "closed", "all"}:
            return value
        return "all" if self.searching else "open"

    def choices(self, changelist: Any) -> Iterator[_ListFilterChoices]:
        current = self.effective_value()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        value = self.effective_value()
        if value == "open":
            return queryset.filter(open_cases_q())
        if value == "closed":
            return queryset.filter(closed_cases_q())
        return queryset


class MarketplaceFilter(_SeveralChoiceFilter):
    title = _("marketplace")
    parameter_name = "marketplace"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(m.code, m.name) for m in marketplaces_with_calendars(request)]

    def q_one(self, request: Any, value: str) -> Q | None:
        ids = [m.pk for m in marketplaces_with_calendars(request) if m.code == value]
        return Q(marketplace_id__in=ids)


class KindFilter(_SeveralChoiceFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return list(CaseKind.choices)

    def q_one(self, request: Any, value: str) -> Q | None:
        return Q(kind=value) if value in CaseKind.values else None


class StateFilter(_SeveralChoiceFilter):
    """The states of the chosen kinds' workflows, or every state."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        kinds = [kind for kind in split_values(request.GET.get("kind")) if kind in CaseKind.values]
        if kinds:
            states: set[str] = set()
            for kind in kinds:
                states |= set(workflows.kind_states(kind))
            return [(value, label) for value, label in CaseState.choices if value in states]
        return list(CaseState.choices)

    def q_one(self, request: Any, value: str) -> Q | None:
        return Q(state=value) if value in CaseState.values else None


class PriorityFilter(_SeveralChoiceFilter):
    title = _("priority")
    parameter_name = "priority"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [(str(value), label) for value, label in reversed(Priority.choices)]

    def q_one(self, request: Any, value: str) -> Q | None:
        known = {str(value): value for value in Priority.values}
        return Q(priority=known[value]) if value in known else None


class OpenedBetweenFilter(admin.ListFilter):
    """Cases opened between two days (either may be left empty), each day read in the case's
    marketplace's time zone, as the list shows it."""

    title = _("opened between")
    template = "workspace/filters/opened_between.html"
    start_parameter = "opened_from"
    end_parameter = "opened_to"

    def __init__(self, request: Any, params: Any, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        self.request = request
        self.values: dict[str, str] = {}
        self.days: dict[str, dt.date] = {}
        for name in self.expected_parameters():
            if name not in params:
                continue
            raw = params.pop(name)
            value = (raw[-1] if isinstance(raw, list) else raw).strip()
            self.values[name] = value
            try:
                self.days[name] = dt.date.fromisoformat(value)
            except ValueError:
                continue
            self.used_parameters[name] = value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:  # type: ignore[override]  # both are set in __init__
        return [self.start_parameter, self.end_parameter]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        kept = [
            (name, value)
            for name, value in changelist.get_filters_params().items()
            if name not in self.expected_parameters()
        ]
        for name in ("q", "o", "per_page"):
            if name in changelist.params:
                kept.append((name, changelist.params[name]))
        yield {
            "start": self.values.get(self.start_parameter, ""),
            "end": self.values.get(self.end_parameter, ""),
            "kept": [
                (name, value[-1] if isinstance(value, list) else value) for name, value in kept
            ],
            "clear": changelist.get_query_string(remove=self.expected_parameters()),
            "active": bool(self.days),
        }

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        start = self.days.get(self.start_parameter)
        end = self.days.get(self.end_parameter)
        if start is None and end is None:
            return queryset
        return queryset.filter(opened_between_q(start, end, marketplaces_with_calendars(request)))


def opened_between_q(start: dt.date | None, end: dt.date | None, marketplaces: list[Any]) -> Q:
    """Cases opened from the local day ``start`` to the local day ``end`` (both included) of
    their marketplace's time zone."""
    per_marketplace = []
    for marketplace in marketplaces:
        condition = Q(marketplace_id=marketplace.pk)
        if start is not None:
            condition &= Q(opened_at__gte=_local_midnight(start, marketplace.tz))
        if end is not None:
            condition &= Q(
                opened_at__lt=_local_midnight(end + dt.timedelta(days=1), marketplace.tz)
            )
        per_marketplace.append(condition)
    return reduce(or_, per_marketplace) if per_marketplace else Q(pk__in=[])


def _local_midnight(day: dt.date, tz: Any) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


class AssigneeFilter(_SeveralChoiceFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        staff = (
            get_user_model()
            .objects.filter(is_active=True, is_staff=True)
            .exclude(pk=request.user.pk)
            .order_by("username")
            .only("pk", "username", "first_name", "last_name")
        )
        return [
            (MINE, _("Mine")),
            (UNASSIGNED, _("Unassigned")),
            *[(str(user.pk), user.get_full_name() or user.get_username()) for user in staff],
        ]

    def q_one(self, request: Any, value: str) -> Q | None:
        return assignee_q(value, request.user)


class DueFilter(_ChoiceFilter):
    title = _("deadline")
    parameter_name = "due"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [(window.value, label) for window, label in DUE_WINDOW_LABELS.items()]

    def q(self, request: Any, value: str) -> Q | None:
        try:
            window = DueWindow(value)
        except ValueError:
            return None
        return due_window_q(
            window, at=request_now(request), marketplaces=marketplaces_with_calendars(request)
        )


class RefundFilter(_ChoiceFilter):
    title = _("refund request")
    parameter_name = "refund"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("any", _("Has a refund request")),
            ("undecided", _("Awaiting a decision")),
            ("none", _("No refund request")),
        ]

    def q(self, request: Any, value: str) -> Q | None:
        return refund_q(value)


def request_now(request: Any) -> Any:
    """One "now" per request, so that a list's filter and its badges agree."""
    if not hasattr(request, "_workspace_now"):
        request._workspace_now = timezone.now()
    return request._workspace_now
