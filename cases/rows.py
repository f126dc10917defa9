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
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.expressions import Col

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
