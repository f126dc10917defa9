"""Keyset ("cursor") pagination with a choice of ordering, nulls last.

Each page is one indexed range query (``WHERE (due, id) > (last due, last id) ORDER BY due, id
LIMIT n+1``): no OFFSET, no COUNT, so page 1,000 costs what page 1 costs and rows added meanwhile
neither repeat nor go missing. DRF's ``CursorPagination`` cannot be used as is: it mishandles
ordering on a nullable column (``resolution_due_at`` is empty for many cases).

A view declares ``ordering_fields`` (names a client may sort by) and ``default_ordering``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.query import ValuesIterable
from django.utils.translation import gettext as _
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from cases.rows import values_rows

from .problems import QueryParametersInvalid


class KeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"
    # A pagination of a sub-list (a case's events) names its own orderings; otherwise the view's.
    ordering_fields: tuple[str, ...] = ()
    default_ordering = ""

    def _allowed(self, view: Any) -> tuple[str, ...]:
        return self.ordering_fields or tuple(getattr(view, "ordering_fields", ()))

    def _ordering(self, request: Request, view: Any) -> tuple[str, bool]:
        allowed = self._allowed(view)
        default = (
            self.default_ordering
            or getattr(view, "default_ordering", "")
            or (f"-{allowed[0]}" if allowed else "")
        )
        if self.ordering_fields and not self.default_ordering:
            default = allowed[0]
        raw = request.query_params.get(self.ordering_query_param, default)
        name = raw.removeprefix("-")
        if name not in allowed:
            choices = ", ".join(f"{n}, -{n}" for n in allowed)
            raise QueryParametersInvalid(
                {
                    self.ordering_query_param: [
                        _("Order by one of: %(choices)s.") % {"choices": choices}
                    ]
                }
            )
        return name, raw.startswith("-")

    def _page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise QueryParametersInvalid(
                {
                    self.page_size_query_param: [
                        _("Give a page size from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def _decode(self, raw: str, ordering: str, field: Any) -> tuple[Any, int]:
        try:
            padded = raw + "=" * (-len(raw) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            if data["o"] != ordering:
                raise ValueError("ordering changed")
            value = None if data["v"] is None else field.to_python(data["v"])
            if isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC)
            return value, int(data["k"])
        except (
            ValueError,
            KeyError,
            TypeError,
            OverflowError,
            binascii.Error,
            UnicodeDecodeError,
            DjangoValidationError,
        ) as exc:
            raise QueryParametersInvalid(
                {
                    self.cursor_query_param: [
                        _(
                            "This cursor is not valid here: use the “next” link of the previous "
                            "page as it is, with the same ordering."
                        )
                    ]
                }
            ) from exc

    @staticmethod
    def _encode(ordering: str, value: Any, pk: int) -> str:
        plain = value.isoformat() if hasattr(value, "isoformat") else value
        raw = json.dumps({"o": ordering, "v": plain, "k": pk}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        name, descending = self._ordering(request, view)
        ordering = f"-{name}" if descending else name
        size = self._page_size(request)
        field = queryset.model._meta.get_field(name)
        # NULLS LAST only where a column can hold NULL: on a NOT NULL column it would stop the
        # database from reading the index in order (PostgreSQL sorts the whole table instead).
        nulls_last = True if field.null else None
        expression = (
            F(name).desc(nulls_last=nulls_last)
            if descending
            else F(name).asc(nulls_last=nulls_last)
        )
        tie = "-pk" if descending else "pk"
        queryset = queryset.order_by(expression, tie)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            value, pk = self._decode(cursor, ordering, field)
            queryset = queryset.filter(self._after(name, value, pk, descending, field.null))
        rows = _read(queryset[: size + 1])
        self.request = request
        self.next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            # a model instance, or a dict of its values (a list read with ``.values()``)
            if isinstance(last, dict):
                self.next_cursor = self._encode(ordering, last[name], last["pk"])
            else:
                self.next_cursor = self._encode(ordering, getattr(last, name), last.pk)
        return rows

    @staticmethod
    def _after(name: str, value: Any, pk: int, descending: bool, nullable: bool) -> Q:
        """Rows after (value, pk) in the order (name, pk), nulls last.

        Written as ``name <= value AND (name < value OR pk < last pk)`` (descending) rather
        than ``name < value OR (name = value AND pk < last pk)``: the first term is a range the
        database reads from the index, so a page deep in the list costs what the first costs.
        """
        pk_after = Q(pk__lt=pk) if descending else Q(pk__gt=pk)
        if value is None:
            return Q(**{f"{name}__isnull": True}) & pk_after
        strictly = Q(**{f"{name}__lt" if descending else f"{name}__gt": value})
        reach = Q(**{f"{name}__lte" if descending else f"{name}__gte": value})
        condition = reach & (strictly | pk_after)
        if nullable:
            condition |= Q(**{f"{name}__isnull": True})
        return condition

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_first_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        allowed = self._allowed(view)
        choices = [value for name in allowed for value in (name, f"-{name}")]
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: from the previous page's next link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page, 1 to {self.max_page_size} ({self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": "Sort order; a leading minus sorts descending. Empty values last.",
                "schema": {"type": "string", "enum": choices},
            },
        ]


class CaseEventPagination(KeysetPagination):
    """A case's history, oldest first by default (the order things happened)."""

    ordering_fields = ("occurred_at", "recorded_at")
    default_ordering = "occurred_at"
    page_size = 100


def _read(queryset: QuerySet[Any]) -> list[Any]:
    """A page's rows; a page of ``.values()`` through ``cases.rows.values_rows`` (the same
    dicts, converted in fewer steps: the case list reads its page this way)."""
    if queryset._iterable_class is ValuesIterable:
        return values_rows(queryset)
    return list(queryset)
