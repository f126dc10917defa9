"""``/healthz`` and ``/readyz`` for load balancers and orchestrators, probed every few seconds.

``/healthz``: the process answers (no database, nothing else): restart it if this fails.
``/readyz``: it can serve: the database answers ``SELECT 1``, the broker and the cache answer,
the evidence storage is reachable; 503 with a JSON body naming what failed otherwise: take the
process out of rotation until it passes.

Answered by a middleware placed before the host check and the HTTPS redirect: a load balancer
probes by address and over plain HTTP. Nothing here writes, migrates or opens a session.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("aftersales.health")

HEALTH_PATHS = {"/healthz", "/healthz/", "/readyz", "/readyz/"}


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """The task broker: Redis when ``REDIS_URL`` is set; otherwise the database (checked)."""
    if "redis" not in settings.Q_CLUSTER:
        return
    from django_q.brokers import get_broker

    if not get_broker().ping():
        raise ConnectionError("the broker did not answer PING")


def check_cache() -> None:
    """The shared cache (rate limits, throttles) answers a write and a read."""
    cache.set("readyz", "1", timeout=30)
    if cache.get("readyz") != "1":
        raise ConnectionError("the cache did not keep a value")


def check_storage() -> None:
    """The evidence storage: a local folder exists (or can be made) and is writable; object
    storage (S3) answers an existence query for a key, which needs the bucket and the
    credentials to work."""
    from django.core.files.storage import FileSystemStorage, storages

    storage = storages["evidence"]
    if isinstance(storage, FileSystemStorage):
        folder = Path(storage.location)
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"{folder} is not writable")
        return
    storage.exists("readyz-probe")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
    "storage": check_storage,
}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    """Run every check; ``(all passed, {name: {"ok", "ms", "error"?}})``."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        start = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure means "not ready", named, never a 500
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            logger.warning("readyz: %s failed: %s", name, exc)
        else:
            results[name] = {"ok": True}
        results[name]["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return all(result["ok"] for result in results.values()), results


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in HEALTH_PATHS or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        if request.path.startswith("/healthz"):
            response = JsonResponse({"status": "ok"})
        else:
            ready, checks = readiness()
            failed = [name for name, result in checks.items() if not result["ok"]]
            response = JsonResponse(
                {"status": "ok" if ready else "unavailable", "failed": failed, "checks": checks},
                status=200 if ready else 503,
            )
            if not ready:
                response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
