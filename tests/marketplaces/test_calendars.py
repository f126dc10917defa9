import datetime as dt
import zoneinfo

import pytest
from django.core.management import call_command

from marketplaces.calendars import BusinessCalendar, calendar_for, year_table
from marketplaces.models import Marketplace
from marketplaces.services import calendar_exception_remove, calendar_exception_set

D = dt.date
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CN = BusinessCalendar(country="CN", time_zone="Asia/Shanghai")
FR = BusinessCalendar(country="FR", time_zone="Europe/Paris")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 10, 1), False),  # National Day
        (D(2025, 10, 8), False),  # day off in lieu, Golden Week 2025
        (D(2025, 9, 28), True),  # Sunday worked before Golden Week
        (D(2025, 10, 11), True),  # Saturday worked after Golden Week
        (D(2025, 10, 9), True),  # back to work
        (D(2026, 2, 14), True),  # Saturday worked before Spring Festival 2026
        (D(2026, 2, 17), False),  # Spring Festival
        (D(2026, 2, 23), False),  # Monday off in lieu of Saturday 28 Feb
        (D(2026, 2, 28), True),  # Saturday worked
        (D(2026, 2, 22), False),  # ordinary Sunday
    ],
)
def test_chinese_calendar_knows_holidays_and_adjusted_working_days(day, working):
    assert CN.is_working_day(day) is working


def test_golden_week_2025_deadline_counts_the_working_saturday():
    # Event on Friday 26 Sep 2025. Day 1 = Sun 28 Sep (adjusted working day), then 29, 30,
    # 1-8 Oct off, 9 (4), 10 (5), Sat 11 worked (6), 13-17 (7-11), 20-23 (12-15).
    assert CN.add_business_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    assert CN.add_business_days(D(2025, 9, 26), 3) == D(2025, 9, 30)
    assert CN.add_business_days(D(2025, 9, 26), 4) == D(2025, 10, 9)
    assert CN.add_business_days(D(2025, 9, 26), 6) == D(2025, 10, 11)
    assert CN.add_business_days(D(2025, 9, 26), 15) == D(2025, 10, 23)


def test_spring_festival_2026_fifteen_business_days():
    # Confirmation on Thu 12 Feb 2026: 13 (1), Sat 14 (2), 16-20 off, 21-22 weekend, 23 off,
    # 24-27 (3-6), Sat 28 (7), 2-6 Mar (8-12), 9-11 Mar (13-15).
    assert CN.add_business_days(D(2026, 2, 12), 2) == D(2026, 2, 14)
    assert CN.add_business_days(D(2026, 2, 12), 3) == D(2026, 2, 24)
    assert CN.add_business_days(D(2026, 2, 12), 7) == D(2026, 2, 28)
    assert CN.add_business_days(D(2026, 2, 12), 15) == D(2026, 3, 11)


@pytest.mark.parametrize("variable", ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"])
@pytest.mark.parametrize("locale_name", ["zh_CN.UTF-8", "fr_FR.UTF-8", "C"])
def test_holiday_names_do_not_depend_on_the_shell_locale(monkeypatch, variable, locale_name):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, locale_name)
    year_table.cache_clear()
    try:
        assert year_table("CN", "", 2026).holidays[D(2026, 10, 1)] == "National Day"
        assert year_table("FR", "", 2026).holidays[D(2026, 7, 14)] == "National Day"
        assert year_table("FR", "", 2026).holidays[D(2026, 12, 25)] == "Christmas Day"
    finally:
        year_table.cache_clear()  # no table built under this test's locale outlives it


def test_french_public_holidays_are_skipped():
    assert not FR.is_working_day(D(2026, 5, 14))  # Ascension
    assert not FR.is_working_day(D(2026, 7, 14))  # Bastille Day
    assert not FR.is_working_day(D(2026, 5, 25))  # Whit Monday
    # Wed 13 May 2026 + 1 business day skips Ascension (Thu 14) -> Fri 15.
    assert FR.add_business_days(D(2026, 5, 13), 1) == D(2026, 5, 15)
    # Thu 24 Dec + 2: 25 off, 26-27 weekend -> Mon 28 (1), Tue 29 (2).
    assert FR.add_business_days(D(2026, 12, 24), 2) == D(2026, 12, 29)


def test_subdivision_holidays_apply():
    moselle = BusinessCalendar(country="FR", subdivision="57", time_zone="Europe/Paris")
    assert not moselle.is_working_day(D(2025, 12, 26))  # St Stephen's Day in Moselle
    assert FR.is_working_day(D(2025, 12, 26))
    assert not moselle.is_working_day(D(2026, 4, 3))  # Good Friday in Moselle
    assert FR.is_working_day(D(2026, 4, 3))


def test_deadline_ends_at_local_end_of_day_stored_in_utc():
    event = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    due = CN.deadline(event, 1)
    assert due == dt.datetime(2026, 3, 3, 23, 59, 59, tzinfo=SHANGHAI)
    assert due.tzinfo == dt.UTC
    assert due == dt.datetime(2026, 3, 3, 15, 59, 59, tzinfo=dt.UTC)


def test_event_day_is_the_local_date_not_the_utc_date():
    # 13 Feb 2026 15:30 UTC is 23:30 in Shanghai, still Friday 13: day 1 is Saturday 14 (worked).
    before_midnight = dt.datetime(2026, 2, 13, 15, 30, tzinfo=dt.UTC)
    assert CN.deadline(before_midnight, 1).astimezone(SHANGHAI).date() == D(2026, 2, 14)
    # 16:30 UTC is 00:30 on Saturday 14 locally: the event day is the 14th, day 1 is the 24th.
    after_midnight = dt.datetime(2026, 2, 13, 16, 30, tzinfo=dt.UTC)
    assert CN.deadline(after_midnight, 1).astimezone(SHANGHAI).date() == D(2026, 2, 24)


def test_paris_deadline_across_daylight_saving_change():
    # Sat 28 Mar 2026 (winter time) + 1 -> Mon 30 Mar, summer time: 23:59:59 CEST = 21:59:59 UTC.
    event = dt.datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)
    assert FR.deadline(event, 1) == dt.datetime(2026, 3, 30, 21, 59, 59, tzinfo=dt.UTC)


def test_zero_business_days_is_the_end_of_the_event_day():
    assert CN.add_business_days(D(2026, 2, 17), 0) == D(2026, 2, 17)


def test_business_time_runs_only_on_working_days():
    # Cdiscount: 48 business hours from Friday 15:00 -> Tuesday 15:00.
    friday = dt.datetime(2026, 11, 20, 15, 0, tzinfo=PARIS)
    assert FR.add_business_time(friday, dt.timedelta(hours=48)) == dt.datetime(
        2026, 11, 24, 15, 0, tzinfo=PARIS
    )
    # Received on a Sunday: the clock starts Monday 00:00.
    sunday = dt.datetime(2026, 11, 22, 18, 0, tzinfo=PARIS)
    assert FR.add_business_time(sunday, dt.timedelta(hours=48)) == dt.datetime(
        2026, 11, 25, 0, 0, tzinfo=PARIS
    )


def test_business_days_between_counts_working_days():
    assert FR.business_days_between(D(2026, 11, 20), D(2026, 11, 24)) == 2
    assert FR.business_days_between(D(2026, 11, 24), D(2026, 11, 20)) == -2
    assert FR.business_days_between(D(2026, 11, 24), D(2026, 11, 24)) == 0


def test_holiday_tables_are_built_once_per_year():
    year_table.cache_clear()
    for _ in range(50):
        CN.add_business_days(D(2026, 1, 5), 15)
    info = year_table.cache_info()
    assert info.misses == 1
    assert info.hits > 50


def test_year_exceptions_list_weekdays_off_and_weekend_days_worked():
    rows = CN.year_exceptions(2026)
    worked = [day for day, working, _ in rows if working]
    assert worked == [
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    off = {day for day, working, _ in rows if not working}
    assert D(2026, 10, 1) in off and all(day.weekday() < 5 for day in off)


@pytest.mark.django_db
def test_seller_closures_and_extra_days_override_and_invalidate_the_cache():
    tmall = Marketplace.objects.get(code="tmall")
    before = calendar_for(tmall)
    assert before.is_working_day(D(2026, 3, 2))
    calendar_exception_set(
        marketplace=tmall, date=D(2026, 3, 2), kind="closed", label="Warehouse inventory"
    )
    calendar_exception_set(marketplace=tmall, date=D(2026, 3, 7), kind="working")
    after = calendar_for(tmall)
    assert after is not before
    assert not after.is_working_day(D(2026, 3, 2))
    assert after.is_working_day(D(2026, 3, 7))  # a Saturday
    assert calendar_for(tmall) is after  # cached until the next change
    assert calendar_exception_remove(marketplace=tmall, date=D(2026, 3, 2))
    assert calendar_for(tmall).is_working_day(D(2026, 3, 2))


@pytest.mark.django_db
def test_calendar_command_prints_the_due_date(capsys):
    call_command("calendar", "tmall", "--from", "2026-02-12", "--add", "15")
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "2026-03-11"
    assert "2026-03-11 (Wed) at 23:59:59 Asia/Shanghai = 2026-03-11 15:59:59 UTC" in out


@pytest.mark.django_db
def test_calendar_command_lists_the_year(capsys):
    call_command("calendar", "tmall", "--year", "2026")
    out = capsys.readouterr().out
    assert "Working weekend days (6):" in out
    assert "2026-02-14 Sat" in out
    assert "2026-10-01 Thu  National Day" in out


@pytest.mark.django_db
def test_calendar_command_refuses_bad_input():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown marketplace 'nope'"):
        call_command("calendar", "nope", "--year", "2026")
    with pytest.raises(CommandError, match="is not a date"):
        call_command("calendar", "tmall", "--from", "12/02/2026", "--add", "3")
    with pytest.raises(CommandError, match="--from YYYY-MM-DD and --add N"):
        call_command("calendar", "tmall")


@pytest.mark.django_db
def test_shipped_marketplaces_have_stable_codes():
    codes = set(Marketplace.objects.values_list("code", flat=True))
    assert {
        "tmall",
        "tmall_global",
        "jd",
        "amazon_fr",
        "cdiscount",
        "aliexpress",
        "rakuten",
        "spartoo",
        "faire",
    } <= codes
    rakuten = Marketplace.objects.get(code="rakuten")
    assert rakuten.attachments_allowed is False and rakuten.html_allowed is False
    assert Marketplace.objects.get(code="tmall").calendar_country == "CN"
