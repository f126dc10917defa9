"""Counting rows of large lists without a full COUNT.

The admin asks its paginator for the number of rows to draw page links and "N cases". On a table
of a million cases a COUNT(*) is a full scan, on every page view. ``EstimatedCountPaginator``
counts exactly up to ``WORKSPACE_EXACT_COUNT_LIMIT`` rows (a COUNT over a LIMITed subquery, which
stops early); beyond that it asks PostgreSQL's planner for its estimate (EXPLAIN, no scan), which
the list shows as an estimate ("about 150,000"). When the planner guesses fewer rows than were
already counted, the list says "more than N". SQLite, the embedded database of small teams, has
no planner estimate and counts exactly.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def exact_count_limit() -> int:
    return int(settings.WORKSPACE_EXACT_COUNT_LIMIT)


def bounded_count(queryset: QuerySet, limit: int) -> int:
    """The number of rows, counting at most ``limit + 1`` of them."""
    return queryset.order_by()[: limit + 1].count()


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` returns (no rows are read), or None on
    other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` never scans more than the exact-count limit.

    ``is_estimate`` is True when ``count`` is the planner's estimate, ``is_lower_bound`` when it
    only says "more than ``exact_limit``" (templates word the total accordingly).
    """

    def __init__(self, object_list: Any, per_page: int, *args: Any, **kwargs: Any) -> None:
        self.exact_limit = kwargs.pop("exact_limit", None) or exact_count_limit()
        super().__init__(object_list, per_page, *args, **kwargs)
        self.is_estimate = False
        self.is_lower_bound = False

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        counted = bounded_count(self.object_list, self.exact_limit)
        if counted <= self.exact_limit:
            return counted
        estimate = planner_estimate(self.object_list)
        if estimate is None:  # no planner estimate (SQLite): count them all
            return self.object_list.order_by().count()
        if estimate > self.exact_limit:
            self.is_estimate = True
            return estimate
        self.is_lower_bound = True
        return counted
