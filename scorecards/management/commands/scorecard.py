"""Print a marketplace's scorecard (the metrics the API and the admin dashboard show)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from scorecards.services import scorecard


class Command(BaseCommand):
    help = "The marketplace's scorecard: every metric with numerator, denominator, value, level."

    def add_arguments(self, parser):
        parser.add_argument("marketplace", help="marketplace code, e.g. tmall")
        parser.add_argument("--as-of", dest="as_of", help="last day of the window, YYYY-MM-DD")
        parser.add_argument("--window-days", type=int, default=30)

    def handle(self, *args, **options):
        marketplace = Marketplace.objects.filter(code=options["marketplace"]).first()
        if marketplace is None:
            raise CommandError(f"Unknown marketplace {options['marketplace']!r}.")
        if options["window_days"] < 1:
            raise CommandError("--window-days must be at least 1.")
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError("--as-of must be a date, YYYY-MM-DD.") from exc
        else:
            as_of = calendar_for(marketplace).local_date(timezone.now())
        window = options["window_days"]
        self.stdout.write(
            f"{marketplace.name} ({marketplace.code}), as of {as_of:%Y-%m-%d} "
            f"(metrics with a window of their own keep it; others use {window} days)"
        )
        for metric in scorecard(marketplace=marketplace, as_of=as_of, window_days=window):
            level = f"{metric.level or '-'}" + (f" ({metric.status})" if metric.status else "")
            self.stdout.write(
                f"  {metric.name:<30} {metric.numerator:>7} / {metric.denominator:<7} "
                f"= {metric.display:<12} {metric.window_days:>3} d  level {level}"
                + (f"  target {metric.target}" if metric.target else "")
            )
