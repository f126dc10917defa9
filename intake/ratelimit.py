"""Rate limits of the upload links, per link and per client address, in Django's cache.

Fixed windows: a counter per (limit, who, window) in the cache named by ``INTAKE_RATE_LIMIT_CACHE``
(default ``"default"``). Production must point it at a cache shared by every web process
(Redis: ``django.core.cache.backends.redis.RedisCache``); the development default (local memory)
counts per process, so with N processes a visitor gets up to N times the limit.

Limits (``INTAKE_RATE_LIMITS``, name -> (count, window seconds)):

* ``visit_address``: pages, uploads and file views from one address;
* ``invalid_address``: unusable links tried from one address (someone guessing tokens);
* ``upload_link``: files sent through one link;
* ``upload_address``: files sent from one address.

The client address is ``REMOTE_ADDR``; behind N trusted proxies set ``INTAKE_TRUSTED_PROXIES=N``
and the N-th address from the right of ``X-Forwarded-For`` is used.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "visit_address": (600, 600),
    "invalid_address": (30, 600),
    "upload_link": (120, 3600),
    "upload_address": (300, 3600),
}


@dataclass(frozen=True)
class Limited:
    """A limit was reached; try again in ``retry_after`` seconds."""

    name: str
    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


def _limits() -> dict[str, tuple[int, int]]:
    return {**DEFAULT_LIMITS, **settings.INTAKE_RATE_LIMITS}


def _cache() -> BaseCache:
    return caches[settings.INTAKE_RATE_LIMIT_CACHE]


def client_address(request: HttpRequest) -> str:
    proxies = int(settings.INTAKE_TRUSTED_PROXIES)
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for stores that keep a real IP (django-axes): None when unknown.

    A test client, a unix-socket proxy or a forged X-Forwarded-For gives no address; PostgreSQL's
    ``inet`` column refuses anything else, which would fail the sign-in itself.
    """
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _key(name: str, who: str, window: int, now: float) -> tuple[str, int]:
    index = int(now // window)
    digest = hashlib.sha256(who.encode()).hexdigest()[:32]  # no raw addresses or tokens in keys
    return f"intake:rl:{name}:{digest}:{index}", int((index + 1) * window - now) + 1


def hit(name: str, who: str, *, cost: int = 1) -> Limited | None:
    """Count ``cost`` against limit ``name`` for ``who``; a ``Limited`` once over it."""
    count, window = _limits()[name]
    now = time.time()
    key, retry_after = _key(name, who, window, now)
    cache = _cache()
    cache.add(key, 0, timeout=window + 5)
    try:
        value = cache.incr(key, cost)
    except ValueError:  # expired between add and incr
        cache.set(key, cost, timeout=window + 5)
        value = cost
    return Limited(name, retry_after) if value > count else None


def blocked(name: str, who: str) -> Limited | None:
    """Whether ``who`` is already over limit ``name``, without counting."""
    count, window = _limits()[name]
    now = time.time()
    key, retry_after = _key(name, who, window, now)
    value = _cache().get(key, 0)
    return Limited(name, retry_after) if value >= count else None
