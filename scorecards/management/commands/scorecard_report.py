"""Build the scorecard report of one or every marketplace, e-mail it, or write it to a folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplaces.models import Marketplace
from scorecards.reports import report_recipients, scorecard_report_build, scorecard_report_send
from scorecards.services import today_for


class Command(BaseCommand):
    help = (
        "The scorecard report (HTML + one CSV per metric) of a marketplace: e-mailed to "
        "--to (or SCORECARD_REPORT_RECIPIENTS, or the team), or written to --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("marketplace", nargs="?", help="marketplace code; all when omitted")
        parser.add_argument("--as-of", dest="as_of", help="last day, YYYY-MM-DD (default today)")
        parser.add_argument("--to", action="append", default=[], help="recipient (repeatable)")
        parser.add_argument("--output", help="write report.html and the CSVs here, send nothing")

    def handle(self, *args, **options):
        marketplaces = Marketplace.objects.filter(is_active=True).order_by("name")
        if options["marketplace"]:
            marketplaces = Marketplace.objects.filter(code=options["marketplace"])
            if not marketplaces:
                raise CommandError(f"Unknown marketplace {options['marketplace']!r}.")
        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError as exc:
                raise CommandError("--as-of must be a date, YYYY-MM-DD.") from exc
        for marketplace in marketplaces:
            day = as_of or today_for(marketplace)
            if options["output"]:
                folder = Path(options["output"]) / marketplace.code
                folder.mkdir(parents=True, exist_ok=True)
                report = scorecard_report_build(marketplace=marketplace, as_of=day)
                (folder / "report.html").write_text(report.html, encoding="utf-8")
                (folder / "report.txt").write_text(report.text, encoding="utf-8")
                for attachment in report.attachments:
                    (folder / attachment.filename).write_text(attachment.content, encoding="utf-8")
                self.stdout.write(f"{marketplace.code}: written to {folder}")
                continue
            recipients = options["to"] or report_recipients()
            if not recipients:
                raise CommandError("No recipient: give --to or set SCORECARD_REPORT_RECIPIENTS.")
            scorecard_report_send(marketplace=marketplace, as_of=day, recipients=recipients)
            self.stdout.write(f"{marketplace.code}: sent to {', '.join(recipients)}")
