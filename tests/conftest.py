"""Shared fixtures. Data is set up through the real services."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path, PurePosixPath

import pytest
from django.conf import settings as django_settings

from cases.actors import Actor
from cases.choices import Door

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CI = os.environ.get("AFTERSALES_CI") == "1"


def pytest_addoption(parser):
    parser.addoption(
        "--evidence-storage",
        choices=["files", "s3"],
        default=os.environ.get("AFTERSALES_TEST_EVIDENCE_STORAGE", "files"),
        help="where the tests keep evidence files: a folder per test (files), or a bucket per "
        "test on moto's S3-API server (s3; also AFTERSALES_TEST_EVIDENCE_STORAGE=s3)",
    )
    parser.addoption(
        "--fake-now",
        metavar="ISO_DATETIME",
        help="run the tests (but the live-server and browser ones) on a clock starting at this "
        "aware instant, e.g. 2027-02-06T15:30+00:00",
    )


def pytest_collection_modifyitems(config, items):
    """Browser and PostgreSQL tests skip with a visible reason where the part is missing, and
    fail instead in CI (AFTERSALES_CI=1), where they must run."""
    from tests.servers import moto_available, redis_available

    chromium = Path("/usr/bin/chromium").exists()
    missing_servers = {
        "redis": None if redis_available() else "redis-server not installed (Debian package)",
        "s3": None if moto_available() else "moto[server] not installed (dev dependency)",
    }
    vendor = django_settings.DATABASES["default"]["ENGINE"]
    on_postgres = "postgresql" in vendor
    for item in items:
        if "browser" in item.keywords and not chromium:
            if CI:
                item.add_marker(pytest.mark.usefixtures("_fail_missing_chromium"))
            else:
                item.add_marker(
                    pytest.mark.skip(
                        reason="Chromium not installed (/usr/bin/chromium): browser test skipped"
                    )
                )
        for marker, missing in missing_servers.items():
            if marker in item.keywords and missing:
                if CI:
                    item.add_marker(pytest.mark.usefixtures(f"_fail_missing_{marker}"))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"{missing}: test skipped"))
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL (run with DATABASE_URL=postgres://...): skipped on "
                    "SQLite"
                )
            )


@pytest.fixture
def _fail_missing_chromium():
    pytest.fail("Chromium (/usr/bin/chromium) is required in CI: browser tests may not skip")


@pytest.fixture
def _fail_missing_redis():
    pytest.fail("redis-server is required in CI: Redis tests may not skip")


@pytest.fixture
def _fail_missing_s3():
    pytest.fail("moto[server] is required in CI: object-storage tests may not skip")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A real redis-server for this test process (one per xdist worker), on a free port."""
    from tests.servers import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_cache(redis_url, settings):
    """The default cache on the real Redis, emptied after the test."""
    from django.core.cache import caches

    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "aftersales-test",
        },
    }
    yield caches["default"]
    caches["default"].clear()


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3-API server for this test process, on a free port."""
    from tests.servers import moto_available, s3_server

    if not moto_available():
        if CI:
            pytest.fail("moto[server] is required in CI: object-storage tests may not skip")
        pytest.skip("moto[server] not installed (dev dependency): object-storage test skipped")
    with s3_server() as endpoint:
        yield endpoint


S3_CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def s3_storages(endpoint: str, bucket: str) -> dict:
    """``STORAGES`` entries of a bucket on the test S3 server, as the settings make them."""
    options = {"bucket_name": bucket, "endpoint_url": endpoint, **S3_CREDENTIALS}
    return {
        name: {
            "BACKEND": "cases.storage.PrivateS3Storage",
            "OPTIONS": {**options, "location": name if name == "evidence" else "files"},
        }
        for name in ("default", "evidence")
    }


def make_bucket(endpoint: str) -> str:
    import uuid

    import boto3

    name = f"evidence-{uuid.uuid4().hex[:16]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_CREDENTIALS["access_key"],
        aws_secret_access_key=S3_CREDENTIALS["secret_key"],
        region_name=S3_CREDENTIALS["region_name"],
    ).create_bucket(Bucket=name)
    return name


@pytest.fixture(autouse=True)
def private_media(request, tmp_path, settings):
    """Evidence goes to a fresh folder per test (or a fresh bucket with
    ``--evidence-storage=s3``), so tests can check nothing is left."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    if request.config.getoption("evidence_storage") == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        settings.STORAGES = {**settings.STORAGES, **s3_storages(endpoint, make_bucket(endpoint))}
    else:
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": root / "files"},
            },
            "evidence": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": root / "evidence"},
            },
        }
    yield root
    shutil.rmtree(root, ignore_errors=True)


def stored_evidence() -> list[PurePosixPath]:
    """Every file in the evidence storage, whichever it is (a folder or a bucket)."""
    from cases.models import evidence_storage

    bucket = getattr(evidence_storage, "bucket", None)
    if bucket is not None:
        prefix = evidence_storage.location.strip("/")
        return sorted(PurePosixPath(o.key) for o in bucket.objects.filter(Prefix=f"{prefix}/"))
    location = Path(evidence_storage.location)
    if not location.exists():
        return []
    files = (p for p in location.rglob("*") if p.is_file())
    return sorted(PurePosixPath(p.relative_to(location)) for p in files)


@pytest.fixture(autouse=True)
def _sync_tasks(monkeypatch):
    """Background tasks run in-process during tests unless a test starts a real worker
    (django-q2 reads its configuration once, at import: patch it there)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def supervisor(db, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        "supervisor", password="pw-supervisor-1", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="cases",
            codename__in=[
                "reject_claim",
                "withdraw_case",
                "record_platform_ruling",
                "reject_refund",
            ],
        )
    )
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def agent(db, django_user_model):
    return django_user_model.objects.create_user("agent", password="pw-agent-1", is_staff=True)


@pytest.fixture
def supervisor_actor(supervisor) -> Actor:
    return Actor.for_user(supervisor)


@pytest.fixture
def agent_actor(agent) -> Actor:
    return Actor.for_user(agent)


@pytest.fixture
def door() -> Door:
    return Door.COMMAND


# Wednesday 10 June 2026, 10:00 UTC: 12:00 in Paris, 18:00 in Shanghai, a working day in every
# shipped calendar and in the week before it, far from any midnight.
FROZEN_NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.UTC)


def _uses_live_server(request) -> bool:
    """Browser and live-server tests keep the real clock: Chromium runs on it, and a server clock
    months away from the browser's would expire its session cookie at once."""
    return "live_server" in request.fixturenames or "browser" in request.keywords


@pytest.fixture
def frozen_now(request):
    """For a test whose answer depends on the date or the time of day (weekday, holiday, local
    midnight): the clock starts at FROZEN_NOW and ticks from there, so events keep their order."""
    import time_machine

    if _uses_live_server(request):
        pytest.fail("frozen_now cannot be used with a live server or a browser")
    with time_machine.travel(FROZEN_NOW, tick=True):
        yield FROZEN_NOW


@pytest.fixture(autouse=True)
def _fake_now(request):
    """``pytest --fake-now=2026-12-31T23:30Z`` runs every test (but the live-server ones) on a clock
    starting then: the way to find tests that pass on some days only."""
    value = request.config.getoption("fake_now")
    if not value or _uses_live_server(request):
        yield
        return
    import time_machine

    start = dt.datetime.fromisoformat(value)
    if start.tzinfo is None:
        raise pytest.UsageError("--fake-now needs a time zone, e.g. 2026-12-31T23:30+00:00")
    with time_machine.travel(start, tick=True):
        yield


def reset_process_state() -> None:
    """What one test leaves in the process must reach no other, whatever the order: the language
    and time zone that a request or a test activated (thread-local, never reset by Django between
    tests), the caches (rate-limit and throttle counts), the marketplace calendars built (a warm
    calendar saves a query, so query counts depended on the tests before)."""
    from django.core.cache import caches
    from django.utils import timezone, translation

    from marketplaces import calendars

    translation.deactivate()
    timezone.deactivate()
    calendars._cache.clear()
    for cache in caches.all(initialized_only=True):
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_process_state():
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture
def make_case(db, system_actor):
    """Open a case through the service: ``make_case("damaged_item", marketplace="tmall")``."""
    from tests.factories import open_case

    def factory(kind: str = "damaged_item", **kwargs):
        return open_case(kind, actor=kwargs.pop("actor", system_actor), **kwargs)

    return factory


def days_ago(days: float) -> dt.datetime:
    from django.utils import timezone

    return timezone.now() - dt.timedelta(days=days)


# The migrations that write data (each function leaves existing rows alone), in migration order.
DATA_MIGRATIONS = [
    ("marketplaces.migrations.0002_load_profiles", "load"),  # the shipped marketplaces
    ("jobs.migrations.0002_clearance_templates", "install"),  # customs reminder texts
    ("scorecards.migrations.0002_default_policies", "install"),  # metric policies and bands
]


def restore_migrated_data() -> None:
    """Data that migrations create. A transactional test empties every table when it ends; put
    that data back for the next one, so that a test sees the same database whichever ran before
    it. (The support groups and schedules come back from post_migrate hooks.)"""
    import importlib

    from django.apps import apps

    from marketplaces.models import Marketplace

    if Marketplace.objects.exists():
        return
    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _migrated_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        restore_migrated_data()
