"""PostgreSQL timestamps read by psycopg's compiled loader.

Django registers its own ``timestamptz`` loader on every connection (a Python subclass of
psycopg's, to set the connection's time zone on each value), which parses every timestamp in
Python: about 5 µs a value, 1.6 ms of a 50-row case list page (400 timestamps) and most of a
scorecard's or a sweep's reading. When the connection's time zone is UTC, as it is here
(``USE_TZ``, ``TIME_ZONE = "UTC"``), the session sends UTC and psycopg's own loader (in C with
psycopg-binary) returns the same aware datetimes, ``tzinfo=datetime.timezone.utc``, five times
faster. Any other time zone keeps Django's loader.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


def fast_timestamps(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: psycopg's timestamp loader on a UTC connection."""
    if connection.vendor != "postgresql" or connection.timezone != dt.UTC:
        return
    connection.connection.adapters.register_loader("timestamptz", _utc_loader())


@functools.cache  # built once, on the first PostgreSQL connection
def _utc_loader() -> type:
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.postgres import types
    from psycopg.pq import Format

    compiled: Any = psycopg.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)

    class UtcTimestamptzLoader(Loader):
        # Django compares a connection's loader's ``timezone`` with its own before each
        # cursor: equal, it keeps this loader.
        timezone = dt.UTC

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            # psycopg's loader, compiled when psycopg-binary is installed (it is final:
            # wrapped, not subclassed)
            self._compiled = compiled(oid, context)

        def load(self, data: Any) -> Any:
            return self._compiled.load(data)

    return UtcTimestamptzLoader
