"""Shared fixtures. Data is set up through the real services."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from cases.actors import Actor
from cases.choices import Door

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CI = os.environ.get("AFTERSALES_CI") == "1"


def pytest_collection_modifyitems(config, items):
    """Browser and PostgreSQL tests skip with a visible reason where the part is missing, and
    fail instead in CI (AFTERSALES_CI=1), where they must run."""
    chromium = Path("/usr/bin/chromium").exists()
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


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    """Evidence goes to a fresh folder per test, so tests can check nothing is left."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
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


@pytest.fixture
def now():
    from django.utils import timezone

    return timezone.now()


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


def restore_migrated_data() -> None:
    """Data that migrations create (the shipped marketplaces...). A transactional test empties
    every table when it ends; put that data back for the next one."""
    from marketplaces.models import Marketplace
    from marketplaces.profiles import load_profiles

    if not Marketplace.objects.exists():
        load_profiles(Marketplace)


@pytest.fixture(autouse=True)
def _migrated_data_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        restore_migrated_data()
