"""Redis for real: with ``REDIS_URL`` the settings put django-q2's broker and the shared cache on
Redis, and every rate limit counts there exactly, however many processes count at once.

A real ``redis-server`` is started for the test process (tests/servers.py). Each thread below has
its own cache connection (Django's caches are per thread), as separate processes would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.cache import cache
from django_q.brokers import get_broker
from django_q.signing import SignedPackage
from django_q.tasks import async_task

broker = get_broker()
broker.purge_queue()
async_task("math.floor", 2.5)
cache.set("probe", "here")
cache.clear()  # empties the cache's Redis database, not the queue's
size = broker.queue_size()
package = broker.dequeue()
task = SignedPackage.loads(package[0][1])
broker.acknowledge(package[0][0])
print(json.dumps({
    "broker": type(broker).__name__,
    "queued_after_cache_clear": size,
    "func": task["func"],
    "args": list(task["args"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"]["LOCATION"],
    "broker_location": settings.Q_CLUSTER["redis"],
    "orm": "orm" in settings.Q_CLUSTER,
}))
"""


def test_redis_url_puts_the_broker_and_the_cache_on_redis(redis_url):
    # given production settings with REDIS_URL only
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aftersales.settings",
        "SECRET_KEY": "probe-" + "x" * 40,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
    }
    env.pop("REDIS_CACHE_URL", None)
    env.pop("REDIS_BROKER_URL", None)
    # when a task is queued and the cache used in a process of its own
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    # then the task went through Redis and the cache is Redis, on another database
    assert probe == {
        "broker": "Redis",
        "queued_after_cache_clear": 1,
        "func": "math.floor",
        "args": [2.5],
        "cache": "django.core.cache.backends.redis.RedisCache",
        "cache_location": redis_url.rsplit("/", 1)[0] + "/1",
        "broker_location": redis_url,
        "orm": False,
    }


def _at_once(count: int, function) -> list:
    """``function(i)`` for i in range(count) from 8 threads, each with its own connection."""
    from django.core.cache import caches

    def call(i: int):
        try:
            return function(i)
        finally:
            caches["default"].close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(call, range(count)))


def test_api_client_rate_counts_every_request_made_at_once(redis_cache):
    from api.models import ApiClient
    from api.throttling import ClientRateThrottle

    # given a client allowed 25 requests a minute (no database needed: the throttle reads the
    # client on the request)
    client = ApiClient(name="busy", key_prefix="as_test01", throttle_rate="25/min")
    request = SimpleNamespace(user=client, method="GET")

    # when 40 requests arrive at the same moment on 8 connections
    allowed = _at_once(40, lambda _i: ClientRateThrottle().allow_request(request, None))

    # then exactly 25 pass, and the count is in Redis for every other process to see
    assert allowed.count(True) == 25
    keys = list(redis_cache._cache.get_client().keys("*api-throttle:client:*"))
    assert len(keys) == 1
    assert int(redis_cache._cache.get_client().get(keys[0])) == 40
    throttle = ClientRateThrottle()
    assert throttle.allow_request(request, None) is False
    assert 1 <= throttle.wait() <= 61


def test_api_rate_limit_answers_429_over_redis(redis_cache, db):
    from tests.api.conftest import http, make_client

    _, key = make_client("busy", ["tmall"], throttle_rate="3/min")
    api = http(key)
    statuses = [api.get("/api/v1/marketplaces/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_upload_link_limits_count_every_hit_made_at_once(redis_cache, settings):
    from intake import ratelimit

    settings.INTAKE_RATE_LIMITS = {"upload_link": (30, 3600)}
    results = _at_once(50, lambda _i: ratelimit.hit("upload_link", "link-token-1"))
    assert sum(result is None for result in results) == 30
    assert ratelimit.blocked("upload_link", "link-token-1") is not None
    assert ratelimit.blocked("upload_link", "link-token-2") is None


def test_invalid_keys_are_counted_across_connections(redis_cache, settings):
    from api.throttling import invalid_key_sent, invalid_keys_wait

    settings.API_INVALID_KEY_LIMIT = 30
    _at_once(29, lambda _i: invalid_key_sent("203.0.113.9"))
    assert invalid_keys_wait("203.0.113.9") is None
    invalid_key_sent("203.0.113.9")
    assert invalid_keys_wait("203.0.113.9") is not None
    assert invalid_keys_wait("203.0.113.10") is None
