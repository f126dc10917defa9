"""Filters of the case list. Each filter's rows are found with an index (see the benchmark
``bench/admin_changelist.py``); none counts rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import workflows
from cases.choices import CaseKind, CaseState
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


class MarketplaceFilter(_ChoiceFilter):
    title = _("marketplace")
    parameter_name = "marketplace"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [(m.code, m.name) for m in marketplaces_with_calendars(request)]

    def q(self, request: Any, value: str) -> Q | None:
        ids = [m.pk for m in marketplaces_with_calendars(request) if m.code == value]
        return Q(marketplace_id__in=ids)


class KindFilter(_ChoiceFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return list(CaseKind.choices)

    def q(self, request: Any, value: str) -> Q | None:
        return Q(kind=value) if value in CaseKind.values else None


class StateFilter(_ChoiceFilter):
    """The states of the chosen kind's workflow, or every state."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        kind = request.GET.get("kind")
        if kind in CaseKind.values:
            states = workflows.kind_states(kind)
            return [(value, label) for value, label in CaseState.choices if value in states]
        return list(CaseState.choices)

    def q(self, request: Any, value: str) -> Q | None:
        return Q(state=value) if value in CaseState.values else None


class AssigneeFilter(_ChoiceFilter):
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

    def q(self, request: Any, value: str) -> Q | None:
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
