"""Business time (the clocks of 48 business hours) at the calendar's edges: weekends, public
holidays, the midnight boundary of a working day, China's adjusted working days."""

import datetime as dt

import pytest

from marketplaces.calendars import BusinessCalendar

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PARIS = dt.timezone(dt.timedelta(hours=1))
CN = BusinessCalendar(country="CN", time_zone="Asia/Shanghai")
FR = BusinessCalendar(country="FR", time_zone="Europe/Paris")


@pytest.mark.parametrize(
    ("calendar", "start", "hours", "due"),
    [
        # Saturday 27 Sep 2025: Sunday 28 is an adjusted working day in China, so it counts
        (
            CN,
            dt.datetime(2025, 9, 27, 10, 0, tzinfo=SHANGHAI),
            48,
            dt.datetime(2025, 9, 30, 0, 0, tzinfo=SHANGHAI),
        ),
        # Tuesday 30 Sep noon: 12 h that day, then Golden Week (1-8 Oct), then 12 h on the 9th
        (
            CN,
            dt.datetime(2025, 9, 30, 12, 0, tzinfo=SHANGHAI),
            24,
            dt.datetime(2025, 10, 9, 12, 0, tzinfo=SHANGHAI),
        ),
        # a second before midnight on Monday 10 Nov; Tuesday 11 is a holiday in France
        (
            FR,
            dt.datetime(2025, 11, 10, 23, 59, 59, tzinfo=PARIS),
            2 / 3600,
            dt.datetime(2025, 11, 12, 0, 0, 1, tzinfo=PARIS),
        ),
        # exactly at midnight starting a working day: the whole day counts
        (
            FR,
            dt.datetime(2025, 11, 12, 0, 0, tzinfo=PARIS),
            24,
            dt.datetime(2025, 11, 13, 0, 0, tzinfo=PARIS),
        ),
        # ending exactly at midnight stays on that midnight (not the next working day's)
        (
            FR,
            dt.datetime(2025, 11, 14, 12, 0, tzinfo=PARIS),
            12,
            dt.datetime(2025, 11, 15, 0, 0, tzinfo=PARIS),
        ),
        # Sunday: nothing counts before Monday 00:00
        (
            FR,
            dt.datetime(2025, 11, 16, 15, 0, tzinfo=PARIS),
            1,
            dt.datetime(2025, 11, 17, 1, 0, tzinfo=PARIS),
        ),
    ],
)
def test_add_business_time_at_the_edges(calendar, start, hours, due):
    assert calendar.add_business_time(start, dt.timedelta(hours=hours)) == due


def test_adjusted_working_days_are_working_days():
    assert CN.is_working_day(dt.date(2025, 9, 28)) is True  # a Sunday, worked
    assert CN.is_working_day(dt.date(2025, 10, 11)) is True  # a Saturday, worked
    assert CN.is_working_day(dt.date(2025, 10, 3)) is False  # Golden Week, a Friday
