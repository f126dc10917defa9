"""The suite runs in a random order: what a test leaves behind is undone before the next."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone, translation

from jobs.models import ClearanceReminderTemplate
from marketplaces import calendars
from marketplaces.models import Marketplace
from scorecards.models import MetricBand, MetricPolicy
from tests.conftest import FROZEN_NOW, reset_process_state, restore_migrated_data


@pytest.mark.django_db
def test_language_time_zone_cache_and_calendars_are_reset():
    translation.activate("zh-hans")
    timezone.activate(zoneinfo.ZoneInfo("Asia/Shanghai"))
    cache.set("intake:rl:upload:someone:1", 99)
    calendars.calendar_for(Marketplace.objects.get(code="tmall"))

    reset_process_state()

    assert translation.get_language() == "en"
    assert timezone.get_current_timezone_name() == "UTC"
    assert cache.get("intake:rl:upload:someone:1") is None
    assert calendars._cache == {}


@pytest.mark.django_db(transaction=True)
def test_data_of_the_migrations_comes_back_after_a_transactional_test_empties_the_tables():
    def counts():
        return (
            Marketplace.objects.count(),
            ClearanceReminderTemplate.objects.count(),
            MetricPolicy.objects.count(),
            MetricBand.objects.count(),
        )

    migrated = counts()
    assert all(migrated), migrated
    call_command("flush", interactive=False, verbosity=0)  # what the end of this test does
    assert counts() == (0, 0, 0, 0)

    restore_migrated_data()

    assert counts() == migrated


def test_frozen_now_starts_at_a_fixed_noon_in_paris_and_ticks(frozen_now):
    assert frozen_now == FROZEN_NOW
    paris = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Paris"))
    assert (paris.date(), paris.hour) == (dt.date(2026, 6, 10), 12)
    first = timezone.now()
    time.sleep(0.01)
    assert FROZEN_NOW <= first < timezone.now() < FROZEN_NOW + dt.timedelta(minutes=1)
