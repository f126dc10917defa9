"""The parameters of admin pages, checked before they reach the database: once, for every list.

Django's admin turns a list's query string into a query. A malformed value of a field lookup is
caught there (the list is shown unfiltered), but a value the database itself refuses is not:
PostgreSQL refuses a NUL byte in text (``?state__exact=%00``) and an integer beyond its column's
range (``?id__exact=99999999999999999999``), and the list answered 500. ``ListParametersMiddleware``
looks at every admin page's query string first:

* on a list (any ``ModelAdmin``'s changelist), a parameter whose value has a NUL or another
  control character, or is not a value of the field it filters (a word for a number, a number
  out of the column's range, a date that does not exist), is removed: the list is shown without
  it, with a message that names the filter and says why;
* on any other admin page, such a character answers a 400 page that says so;
* a list Django itself could not filter (it then shows the whole list) says so too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.views.main import (  # type: ignore[attr-defined]  # *_VAR: not in stubs
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    TO_FIELD_VAR,
)
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

from .errors import refusal_page

SPECIAL = {
    ALL_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ERROR_FLAG,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IS_FACETS_VAR,
    "_changelist_filters",
}
# Lookups whose value is a list, a flag, or a part of a date.
LIST_LOOKUPS = {"in", "range"}
FLAG_LOOKUPS = {"isnull"}
DATE_PARTS = {"year": (1, 9999), "month": (1, 12), "day": (1, 31), "week_day": (1, 7)}
INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}


def unusable_character(text: str) -> str:
    """What in ``text`` no filter can use (a NUL byte, a control character), or ""."""
    if "\x00" in text:
        return _("a NUL byte")
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in text):
        return _("a control character")
    return ""


def _target(model: type[models.Model], path: str) -> tuple[models.Field | None, str]:
    """The field a lookup path ends on and its lookup (``exact`` when none is given); (None,
    "") when the path names no field (Django deals with it)."""
    parts = path.split(LOOKUP_SEP)
    opts = model._meta
    field: Any = None
    for index, part in enumerate(parts):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            if field is None:
                return None, ""
            rest = parts[index:]
            return (field, rest[0]) if len(rest) == 1 else (None, "")
        if field.is_relation and field.related_model is not None and index < len(parts) - 1:
            opts = field.related_model._meta
    if field is not None and field.is_relation:
        field = getattr(field, "target_field", None)  # compared with the related row's key
    return field, "exact"


def _date_part_problem(part: str, value: str) -> str:
    low, high = DATE_PARTS[part]
    if value.isascii() and value.isdigit() and low <= int(value) <= high:
        return ""
    return _("“%(value)s” is not a number from %(low)s to %(high)s.") % {
        "value": value[:40],
        "low": low,
        "high": high,
    }


def _value_problem(field: models.Field, lookup: str, value: str) -> str:
    if lookup in FLAG_LOOKUPS or value == "":
        return ""
    if lookup in DATE_PARTS:
        return _date_part_problem(lookup, value)
    if field.get_lookup(lookup) is None:
        return ""  # a filter's own parameter (e.g. __isempty) or a transform: not ours to judge
    values = value.split(",") if lookup in LIST_LOOKUPS else [value]
    for item in values:
        if lookup in {"contains", "icontains", "startswith", "istartswith", "endswith"}:
            continue  # any text
        try:
            python = field.to_python(item)
        except (ValidationError, ValueError, TypeError):
            return _("“%(value)s” is not a valid %(field)s.") % {
                "value": item[:40],
                "field": field.verbose_name,
            }
        if field.get_internal_type() in INTEGER_TYPES and python is not None:
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            if (low is not None and python < low) or (high is not None and python > high):
                return _("“%(value)s” is out of range for %(field)s.") % {
                    "value": item[:40],
                    "field": field.verbose_name,
                }
    return ""


def _filter_titles(model_admin: admin.ModelAdmin, request: HttpRequest) -> dict[str, str]:
    """Parameter -> title of the filter reading it, for the messages."""
    titles: dict[str, str] = {}
    for entry in model_admin.get_list_filter(request):
        if isinstance(entry, type) and issubclass(entry, admin.SimpleListFilter):
            if entry.parameter_name:  # always: Django refuses a filter without one
                titles[entry.parameter_name] = str(entry.title)
        else:
            path = entry[0] if isinstance(entry, tuple | list) else entry
            if isinstance(path, str):
                field, _lookup = _target(model_admin.model, path)
                if field is not None:
                    titles[path] = str(field.verbose_name)
    return titles


def list_parameter_problems(model_admin: admin.ModelAdmin, request: HttpRequest) -> dict[str, str]:
    """Parameter -> why the list cannot use it."""
    problems: dict[str, str] = {}
    simple = {
        entry.parameter_name
        for entry in model_admin.get_list_filter(request)
        if isinstance(entry, type) and issubclass(entry, admin.SimpleListFilter)
    }
    date_hierarchy = (
        model_admin.get_date_hierarchy(request)
        if hasattr(model_admin, "get_date_hierarchy")
        else model_admin.date_hierarchy
    )
    for name, values in request.GET.lists():
        for value in values:
            bad = unusable_character(name) or unusable_character(value)
            if bad:
                problems[name] = _("its value has a character that cannot be used (%(what)s).") % {
                    "what": bad
                }
                break
            if name in SPECIAL or name in simple:
                continue
            if date_hierarchy and name.startswith(f"{date_hierarchy}{LOOKUP_SEP}"):
                # the date drill-down: Django checks the date, not the size of its numbers
                part = name.removeprefix(f"{date_hierarchy}{LOOKUP_SEP}")
                problem = _date_part_problem(part, value) if part in DATE_PARTS else ""
                if problem:
                    problems[name] = problem
                    break
                continue
            field, lookup = _target(model_admin.model, name)
            if field is None:
                continue
            problem = _value_problem(field, lookup, value)
            if problem:
                problems[name] = problem
                break
    return problems


def _title_of(name: str, titles: dict[str, str]) -> str:
    for path, title in titles.items():
        if name == path or name.startswith(f"{path}{LOOKUP_SEP}"):
            return title
    return {SEARCH_VAR: _("search")}.get(name, name)


class ListParametersMiddleware:
    """See the module. Placed after the session, authentication and message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.app_name != "admin" or not request.GET:
            return None
        model_admin = getattr(view, "model_admin", None)
        if model_admin is None or getattr(view, "__name__", "") != "changelist_view":
            # Every value of a repeated parameter, not only the last one ``items()`` gives.
            for name, values in request.GET.lists():
                bad = unusable_character(name) or next(
                    (what for what in map(unusable_character, values) if what), ""
                )
                if bad:
                    return refusal_page(
                        request,
                        title=_("This address cannot be used"),
                        message=_(
                            "The parameter “%(name)s” has a character that cannot be used "
                            "(%(what)s). Remove it from the address and try again."
                        )
                        % {"name": unusable_shown(name), "what": bad},
                        back=request.path,
                    )
            return None
        if not request.user.is_authenticated or not request.user.is_staff:
            return None  # the admin sends them to the login page
        problems = list_parameter_problems(model_admin, request)
        if not problems:
            return None
        titles = _filter_titles(model_admin, request)
        for name, problem in problems.items():
            messages.warning(
                request,
                _("The filter “%(filter)s” was not applied: %(problem)s")
                % {"filter": unusable_shown(_title_of(name, titles)), "problem": problem},
            )
        kept = [(k, v) for k, values in request.GET.lists() if k not in problems for v in values]
        return HttpResponseRedirect(f"{request.path}?{urlencode(kept)}" if kept else request.path)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # Django shows a list it could not filter unfiltered (?e=1), silently: say so.
        match = getattr(request, "resolver_match", None)
        if (
            response.status_code == 302
            and match is not None
            and match.app_name == "admin"
            and match.url_name
            and match.url_name.endswith("_changelist")
            and response.get("Location", "").endswith(f"?{ERROR_FLAG}=1")
            and hasattr(request, "_messages")
        ):
            messages.warning(
                request,
                _(
                    "Some filters of this address could not be applied, so the whole list is "
                    "shown. Choose the filters again on the right."
                ),
            )
        return response


def unusable_shown(text: str) -> str:
    """``text`` with its control characters shown as "?" (for messages), at most 60 long."""
    shown = "".join("?" if unusable_character(char) else char for char in text)
    return shown if len(shown) <= 60 else shown[:59] + "…"
