"""gunicorn's logger for ``make serve``: its own lines (start, workers, errors) and one access
line per request as JSON objects, in the application's format (``aftersales.logs``), the access
line carrying the request id the application answered in ``X-Request-ID``."""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from .logs import JsonFormatter


class JsonLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        status = int(str(resp.status).split()[0]) if resp.status else 0
        path = environ.get("PATH_INFO", "")
        try:
            self.access_log.log(
                logging.INFO,
                "%s %s %s",
                environ.get("REQUEST_METHOD", ""),
                path,
                status,
                extra={
                    "request_id": headers.get("x-request-id", ""),
                    "method": environ.get("REQUEST_METHOD", ""),
                    "path": path,
                    "status": status,
                    "bytes": getattr(resp, "sent", None),
                    "duration_ms": round(request_time.total_seconds() * 1000, 1),
                    "remote": environ.get("REMOTE_ADDR", ""),
                },
            )
        except Exception:  # a log line must never break an answer
            self.exception("access log line failed")
