"""Structured logs: one JSON object per line, each with the id of the request it was written in.

The id lives in a context variable that ``aftersales.middleware.RequestIdMiddleware`` sets for
the length of a request (each gunicorn worker thread and each asyncio task sees its own), so that
any line written while serving it, from any module, carries it without being passed down.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# An id sent by a client or a proxy is kept only if it is short and plain (letters, digits and
# ``._:-``): it is written in every log line and echoed in a header.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is written out.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def request_id_from(header: str | None) -> str:
    """The request's id: the caller's ``X-Request-ID`` if it is sane, else a new one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            # Django logs a request's 4xx/5xx line once the middleware is done (the context is
            # reset by then) but passes the request along.
            request = getattr(record, "request", None)
            record.request_id = request_id_var.get() or getattr(request, "request_id", "")
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra, "exception"}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "")
            or request_id_var.get()
            or getattr(getattr(record, "request", None), "request_id", "")
            or None,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # default=str: a request object or a datetime passed in ``extra`` must not lose the line.
        return json.dumps(entry, ensure_ascii=False, default=str)
