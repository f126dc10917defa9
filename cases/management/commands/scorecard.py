"""Print a marketplace's seller-rating metrics."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.metrics import platform_assistance_rate, refund_rejection_rate
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace


class Command(BaseCommand):
    help = "Refund-rejection rate and platform-assistance rate over a window ending on a date."

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
            f"{marketplace.name} ({marketplace.code}), {window} days ending {as_of:%Y-%m-%d}"
        )
        for metric in (
            refund_rejection_rate(marketplace=marketplace, as_of=as_of, window_days=window),
            platform_assistance_rate(marketplace=marketplace, as_of=as_of, window_days=window),
        ):
            self.stdout.write(
                f"  {metric.name:<26} {metric.numerator:>6} / {metric.denominator:<6} "
                f"= {metric.percent}"
            )
