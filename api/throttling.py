"""Rate limits per API client (the client's own limit, or the deployment's default), and of
invalid keys per client address, answered with 429 and ``Retry-After``.

Counts live in Django's cache: with several server processes, configure the shared Redis cache
(``REDIS_URL``), or each process counts on its own. A count is one atomic increment of a
fixed-window counter (``cache.add`` then ``cache.incr``), so requests arriving at the same moment
on several processes are each counted: DRF's own throttle reads a history list and writes it
back, and two processes doing so at once keep only one of the two requests.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiClient

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` -> (600, 60). Raises ValueError with a readable message."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(
            _(
                "“%(rate)s” is not a rate: write it as a number of requests per s, min, h or day, "
                "for example 600/min."
            )
            % {"rate": rate}
        )
    return int(match.group(1)), _SECONDS[match.group(2)[0]]


class ClientRateThrottle(SimpleRateThrottle):
    """Every request of a client counts against its rate (its own, or ``client`` in settings)."""

    scope = "client"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        client = request.user
        if not isinstance(client, ApiClient):
            return None
        # The key prefix (random) rather than the id: ids are reused by test databases and
        # restored backups; a prefix belongs to one key only.
        return f"api-throttle:{self.scope}:{client.key_prefix}"

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        if rate is None:
            return None, None
        return parse_rate(rate)

    def allow_request(self, request: Any, view: Any) -> bool:
        client = request.user
        if isinstance(client, ApiClient) and client.throttle_rate and self.scope == "client":
            self.rate = client.throttle_rate
            self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        prefix = self.get_cache_key(request, view)
        if prefix is None:
            return True
        now = time.time()
        index = int(now // self.duration)
        key = f"{prefix}:{self.duration}:{index}"
        self._retry_after = int((index + 1) * self.duration - now) + 1
        self.cache.add(key, 0, timeout=self.duration + 5)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=self.duration + 5)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float | None:
        return getattr(self, "_retry_after", None)


class BulkImportThrottle(ClientRateThrottle):
    """Bulk imports (up to 10,000 orders a request) have a rate of their own (``bulk``)."""

    scope = "bulk"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


# -- invalid keys per address -------------------------------------------------------------------


def _invalid_key_slot(address: str) -> tuple[str, int]:
    """The cache key counting ``address``'s invalid keys in this window, and the seconds until
    the window ends. Fixed windows; no raw address in the key."""
    window = settings.API_INVALID_KEY_WINDOW_SECONDS
    now = time.time()
    index = int(now // window)
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"api-invalid-key:{digest}:{index}", int((index + 1) * window - now) + 1


def invalid_keys_wait(address: str) -> int | None:
    """Seconds ``address`` must wait because it sent too many invalid keys, or None."""
    key, retry_after = _invalid_key_slot(address)
    return retry_after if cache.get(key, 0) >= settings.API_INVALID_KEY_LIMIT else None


def invalid_key_sent(address: str) -> None:
    """Count one invalid key sent from ``address``."""
    key, _retry_after = _invalid_key_slot(address)
    window = settings.API_INVALID_KEY_WINDOW_SECONDS
    cache.add(key, 0, timeout=window + 5)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
