"""Model instances from hand-written SQL over the model's own columns, for the reads every API
request or every change makes (the key's client and its marketplaces, a case's detail, the
kernel's lock of a case).

Why: for those reads the ORM's work costs several times the database's. Measured at 1,000,000
cases on PostgreSQL, a case detail through ``select_related`` and four ``prefetch_related``
took 10.7-13.4 ms, of which the five queries' compilation and the related-object machinery took
three quarters; the same rows read here take 3.4 ms. The instances are the ORM's own
(``Model.from_db``, the backend's and the fields' converters applied as the compiler does), so
everything downstream (serializers, FSM methods, the kernel) sees ordinary model objects.

Only for reads whose shape never changes: anything filtered or ordered by the user goes through
querysets. The columns come from ``_meta``, so a new field is read without touching this module.
A page of a filtered list is compiled by the ORM and only converted here (``values_rows``).
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.expressions import Col
from django.db.models.sql.constants import MULTI

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]

# Converters are bound to a connection (each thread has its own): kept per connection object.
_CONVERTERS: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[tuple[type[Model], str], Any]] = (
    weakref.WeakKeyDictionary()
)


class ModelColumns(Generic[M]):
    """The concrete columns of ``model`` under the table alias ``alias``: their SQL list, and
    the instance of a row's slice of them."""

    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self.count = len(self.fields)
        self.columns = [field.column or field.attname for field in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)
        self._select: dict[str, str] = {}

    def select(self, using: str = "default") -> str:
        """``alias."column", ...`` in the model's field order."""
        found = self._select.get(using)
        if found is None:
            quote = connections[using].ops.quote_name
            found = ", ".join(f"{quote(self.alias)}.{quote(column)}" for column in self.columns)
            self._select[using] = found
        return found

    def order_by(self, ordering: Sequence[str] | None = None, using: str = "default") -> str:
        """``ordering`` (default: the model's ``Meta.ordering``) as SQL: ``-name`` descending,
        ``pk`` the primary key."""
        quote = connections[using].ops.quote_name
        terms = []
        for name in ordering or self.model._meta.ordering or ("pk",):
            if not isinstance(name, str):
                raise TypeError(f"{self.model.__name__}: only plain field names can be ordered")
            descending = name.startswith("-")
            name = name.lstrip("-")
            field = self.model._meta.pk if name == "pk" else self.model._meta.get_field(name)
            column = getattr(field, "column", None) or field.name
            terms.append(f"{quote(self.alias)}.{quote(column)}{' DESC' if descending else ''}")
        return ", ".join(terms)

    def _converters(self, connection: BaseDatabaseWrapper) -> list[tuple[int, list[Any], Col]]:
        per_connection = _CONVERTERS.setdefault(connection, {})
        key = (self.model, self.alias)
        found = per_connection.get(key)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(column)
                functions += column.get_db_converters(connection)
                if functions:
                    found.append((index, functions, column))
            per_connection[key] = found
        return found

    def instance(self, row: Sequence[Any], start: int = 0, using: str = "default") -> M:
        """The instance of ``row[start:start + count]``, which must be there."""
        found = self.build(row, start, using)
        if found is None:
            raise ValueError(f"{self.model.__name__}: the row has no primary key")
        return found

    def build(self, row: Sequence[Any], start: int = 0, using: str = "default") -> M | None:
        """The instance of ``row[start:start + count]``; None when its primary key is NULL (the
        missing side of a LEFT JOIN)."""
        values = list(row[start : start + self.count])
        if values[self.pk_index] is None:
            return None
        connection = connections[using]
        for index, functions, column in self._converters(connection):
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        return self.model.from_db(using, self.attnames, values)


def fetch(sql: str, params: Sequence[Any], using: str = "default") -> list[tuple[Any, ...]]:
    """The rows of one statement (``%s`` placeholders on every backend)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def fetch_many(
    statements: Sequence[tuple[str, Sequence[Any]]], using: str = "default"
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement, in order. On PostgreSQL they go to the server together
    (psycopg's pipeline mode: one round trip, not one per statement): a case detail's five
    reads 1.50 -> 1.00 ms. Elsewhere, one after the other. Each is a query of its own for
    Django (logged, counted, its errors Django's)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or len(statements) < 2 or not _pipelines():
        return [fetch(sql, params, using) for sql, params in statements]
    # The first cursor connects (or reconnects after a failed health check) before the
    # connection's pipeline is opened: the items of a ``with`` are entered in order.
    with (
        connection.cursor() as first,
        connection.wrap_database_errors,
        connection.connection.pipeline(),
    ):
        cursors = [first, *(connection.cursor() for _ in statements[1:])]
        try:
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
            return [list(cursor.fetchall()) for cursor in cursors]
        finally:
            for cursor in cursors[1:]:
                cursor.close()


@functools.cache
def _pipelines() -> bool:
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def placeholders(count: int) -> str:
    """``%s, %s, ...`` for an IN list of ``count`` values."""
    return ", ".join(["%s"] * count)


def prefetched(owner: Model, name: str, instances: list[Any]) -> None:
    """Set ``owner.<name>.all()`` to ``instances`` as ``prefetch_related`` would: the related
    manager then answers from them without a query."""
    manager = getattr(owner, name)
    queryset = manager.get_queryset()
    queryset._result_cache = instances
    queryset._prefetch_done = True
    cache = owner.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset
    for instance in instances:  # each child knows its owner, as after a prefetch
        manager.field.set_cached_value(instance, owner)


def values_rows(queryset: QuerySet[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """``list(queryset)`` of a ``.values()`` queryset: the same dicts, the same values.

    The ORM compiles the query (filters and orderings stay the user's); only the rows'
    conversion is done here. Why: on SQLite the ORM makes each timestamp aware through three
    Python calls and two settings look-ups, which for a list page of 50 rows of 16 timestamps
    cost more than the query (the same page at 100,000 cases: 2.4 ms through ``values()``,
    0.5 ms for the query alone). Here a naive timestamp from SQLite gets its connection's time
    zone in the loop itself; every other converter is the ORM's own, applied as its compiler
    applies it.
    """
    query = queryset.query
    connection = connections[queryset.db]
    compiler = query.get_compiler(queryset.db)
    names = (
        list(query.selected)
        if query.selected
        else [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    rows = [row for chunk in compiler.execute_sql(MULTI) for row in chunk]
    if not rows:  # nothing, or a condition that can match nothing (no query was made)
        return []
    expressions = [selected[0] for selected in compiler.select[: compiler.col_count]]
    zoned: list[int] = []  # SQLite's timestamps: naive UTC datetimes, as its driver reads them
    others: list[tuple[int, Sequence[Converter], Any]] = []
    for position, (functions, expression) in compiler.get_converters(expressions).items():
        if len(functions) == 1 and _is_sqlite_timestamp(functions[0], connection):
            zoned.append(position)
        else:
            others.append((position, functions, expression))
    zone = connection.timezone if settings.USE_TZ else None
    if not zoned and not others:
        return [dict(zip(names, row, strict=True)) for row in rows]
    found = []
    for row in map(list, rows):
        for position in zoned:
            value = row[position]
            if value.__class__ is dt.datetime and value.tzinfo is None:
                if zone is not None:
                    row[position] = value.replace(tzinfo=zone)
            elif value is not None:  # not what the driver reads: the ORM's own way
                row[position] = connection.ops.convert_datetimefield_value(  # type: ignore[attr-defined]
                    value, None, connection
                )
        for position, functions, expression in others:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        found.append(dict(zip(names, row, strict=True)))
    return found


def _is_sqlite_timestamp(function: Converter, connection: BaseDatabaseWrapper) -> bool:
    """``function`` is SQLite's converter of timestamps (from naive UTC to aware)."""
    if connection.vendor != "sqlite":
        return False
    own = type(connection.ops).convert_datetimefield_value  # type: ignore[attr-defined]
    return getattr(function, "__func__", None) is own
