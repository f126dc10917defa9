"""Business calendars: which days count when a deadline is given in business days.

Counting convention (also in the README):

* the day of the event does not count;
* day 1 is the first working day after the event's local date (in the marketplace's time zone);
* a deadline of N business days ends at 23:59:59 on day N, local time, and is stored in UTC.

A working day is a weekday that is not a public holiday, or a weekend day the government declared
a working day (China's adjusted working days around Spring Festival and Golden Week); the seller's
own closure days and extra working days override both.

Holiday tables come from the ``holidays`` package. Each (country, subdivision, year) table is built
once per process and kept; each marketplace's calendar is cached under its ``calendar_version``, so
a deadline computation costs a few set look-ups per day counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import holidays

if TYPE_CHECKING:
    from .models import Marketplace

END_OF_DAY = dt.time(23, 59, 59)
# A deadline further than this is a configuration error, not a real deadline.
MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class YearTable:
    """Public holidays and adjusted working days of one country and year."""

    holidays: dict[dt.date, str]
    weekend_workdays: frozenset[dt.date]
    weekend: frozenset[int]


# Holiday names in English where the package has them. Left unset, ``holidays`` picks the language
# from LANGUAGE / LC_ALL / LC_MESSAGES / LANG, so the same calendar printed Chinese or French names
# depending on the shell that started the process.
HOLIDAY_NAMES_LANGUAGE = "en_US"


@functools.lru_cache(maxsize=512)
def year_table(country: str, subdivision: str, year: int) -> YearTable:
    calendar = holidays.country_holidays(
        country, subdiv=subdivision or None, years=year, language=_names_language(country)
    )
    days = {day: name for day, name in calendar.items() if day.year == year}
    workdays = frozenset(
        day for day in getattr(calendar, "weekend_workdays", ()) if day.year == year
    )
    return YearTable(holidays=days, weekend_workdays=workdays, weekend=frozenset(calendar.weekend))


@dataclass(frozen=True)
class BusinessCalendar:
    """The working days of one marketplace, in its time zone."""

    country: str
    subdivision: str = ""
    time_zone: str = "UTC"
    closures: frozenset[dt.date] = field(default_factory=frozenset)
    extra_working_days: frozenset[dt.date] = field(default_factory=frozenset)
    labels: dict[dt.date, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    # -- days ---------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.closures:
            return False
        if day in self.extra_working_days:
            return True
        table = year_table(self.country, self.subdivision, day.year)
        if day in table.weekend_workdays:
            return True
        return day.weekday() not in table.weekend and day not in table.holidays

    def local_date(self, moment: dt.datetime) -> dt.date:
        if moment.tzinfo is None:
            raise ValueError("Aware datetimes only.")
        return moment.astimezone(self.tz).date()

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """23:59:59 of a local day, as an aware UTC datetime."""
        local = dt.datetime.combine(day, END_OF_DAY, tzinfo=self.tz)
        return local.astimezone(dt.UTC)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
        return local.astimezone(dt.UTC)

    def add_business_days(self, start: dt.date, days: int) -> dt.date:
        """Day ``days`` counted after ``start`` (which does not count); 0 gives ``start``."""
        if days < 0:
            raise ValueError("days must be zero or more")
        current, counted = start, 0
        for _ in range(MAX_SEARCH_DAYS):
            if counted == days:
                return current
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        raise ValueError(f"No {days} working days found within {MAX_SEARCH_DAYS} days.")

    def deadline(self, event_at: dt.datetime, business_days: int) -> dt.datetime:
        """The UTC moment a deadline of ``business_days`` after ``event_at`` ends."""
        return self.end_of_day(self.add_business_days(self.local_date(event_at), business_days))

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end == start:
            return 0
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = sum(
            1 for day in _days(start + dt.timedelta(days=1), end) if self.is_working_day(day)
        )
        return sign * count

    def add_business_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """Add time that only runs on working days (whole local days), e.g. 48 business hours."""
        remaining = duration
        tz = self.tz
        local = start.astimezone(tz)
        day = local.date()
        # Time already spent on a non-working day does not count: start at the next working day.
        if not self.is_working_day(day):
            day = self.add_business_days(day, 1)
            local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        for _ in range(MAX_SEARCH_DAYS):
            next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
            left_today = next_midnight - local
            if remaining <= left_today:
                return (local + remaining).astimezone(dt.UTC)
            remaining -= left_today
            day = self.add_business_days(day, 1)
            local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        raise ValueError("Duration too long for the calendar.")

    # -- listing ------------------------------------------------------------------------------

    def year_exceptions(self, year: int) -> list[tuple[dt.date, bool, str]]:
        """Every weekday that is not worked and every weekend day that is, with a label.

        Returns (date, is_working_day, label) sorted by date.
        """
        table = year_table(self.country, self.subdivision, year)
        out = []
        for day in _days(dt.date(year, 1, 1), dt.date(year, 12, 31)):
            working = self.is_working_day(day)
            weekend = day.weekday() in table.weekend
            if working == weekend:  # a non-working weekday or a working weekend day
                if day in self.labels:
                    label = self.labels[day]
                elif working:
                    label = "Adjusted working day"
                else:
                    label = table.holidays.get(day, "Closed")
                out.append((day, working, label))
        return out


@functools.cache
def _names_language(country: str) -> str | None:
    """English where translated; a country without translations has its names in one language."""
    languages = holidays.list_localized_countries().get(country, [])
    return HOLIDAY_NAMES_LANGUAGE if HOLIDAY_NAMES_LANGUAGE in languages else None


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


_cache: dict[tuple, BusinessCalendar] = {}
_cache_lock = threading.Lock()


def calendar_for(marketplace: Marketplace) -> BusinessCalendar:
    """The marketplace's calendar, built once per ``calendar_version`` and process."""
    key = (
        marketplace.pk,
        marketplace.calendar_version,
        marketplace.calendar_country,
        marketplace.calendar_subdivision,
        marketplace.time_zone,
    )
    cached = _cache.get(key)
    if cached is not None:
        return cached
    from .models import CalendarExceptionKind

    closures: set[dt.date] = set()
    extra: set[dt.date] = set()
    labels: dict[dt.date, str] = {}
    for exception in marketplace.calendar_exceptions.all():
        (closures if exception.kind == CalendarExceptionKind.CLOSED else extra).add(exception.date)
        if exception.label:
            labels[exception.date] = exception.label
    calendar = BusinessCalendar(
        country=marketplace.calendar_country.upper(),
        subdivision=marketplace.calendar_subdivision,
        time_zone=marketplace.time_zone,
        closures=frozenset(closures),
        extra_working_days=frozenset(extra),
        labels=labels,
    )
    with _cache_lock:
        _cache[key] = calendar
    return calendar
