"""Answer "when is this due?" from a marketplace's business calendar."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Business-day deadlines in a marketplace's calendar. "
        "--from DATE --add N prints the due date (the start day does not count; day 1 is the "
        "first working day after it). --year YYYY lists the year's non-working weekdays and "
        "working weekend days."
    )

    def add_arguments(self, parser):
        parser.add_argument("marketplace", help="marketplace code, e.g. tmall")
        parser.add_argument("--from", dest="start", help="event date, YYYY-MM-DD")
        parser.add_argument("--add", type=int, help="business days to add")
        parser.add_argument("--year", type=int, help="list the exceptions of this year")

    def handle(self, *args, **options):
        code = options["marketplace"]
        marketplace = Marketplace.objects.filter(code=code).first()
        if marketplace is None:
            known = ", ".join(Marketplace.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown marketplace {code!r}. Known: {known}.")
        calendar = calendar_for(marketplace)
        if options["year"]:
            self._year(marketplace, calendar, options["year"])
            return
        if not options["start"] or options["add"] is None:
            raise CommandError("Give --from YYYY-MM-DD and --add N, or --year YYYY.")
        if options["add"] < 0:
            raise CommandError("--add must be zero or more.")
        start = parse_date(options["start"])
        due = calendar.add_business_days(start, options["add"])
        end_utc = calendar.end_of_day(due)
        self.stdout.write(
            f"{marketplace.code}: {options['add']} business days after {start:%Y-%m-%d} "
            f"({start:%a}) -> due {due:%Y-%m-%d} ({due:%a}) at 23:59:59 {marketplace.time_zone} "
            f"= {end_utc:%Y-%m-%d %H:%M:%S} UTC"
        )
        skipped = [
            day
            for day in (start + dt.timedelta(days=i) for i in range(1, (due - start).days))
            if not calendar.is_working_day(day)
        ]
        if skipped and options["verbosity"] > 0:
            self.stdout.write(
                f"  not counted: {len(skipped)} days off ("
                + ", ".join(f"{day:%m-%d}" for day in skipped)
                + ")"
            )
        self.stdout.write(due.isoformat())

    def _year(self, marketplace, calendar, year):
        if not 1970 <= year <= 2100:
            raise CommandError("--year must be between 1970 and 2100.")
        rows = calendar.year_exceptions(year)
        off = [row for row in rows if not row[1]]
        on = [row for row in rows if row[1]]
        self.stdout.write(
            f"{marketplace.code} {year} ({calendar.country}"
            f"{'-' + calendar.subdivision if calendar.subdivision else ''}, "
            f"{marketplace.time_zone})"
        )
        self.stdout.write(f"Non-working weekdays ({len(off)}):")
        for day, _, label in off:
            self.stdout.write(f"  {day:%Y-%m-%d} {day:%a}  {label}")
        self.stdout.write(f"Working weekend days ({len(on)}):")
        for day, _, label in on:
            self.stdout.write(f"  {day:%Y-%m-%d} {day:%a}  {label}")
