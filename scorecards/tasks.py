"""Background tasks of the scorecards (django-q2), scheduled by `setup_schedules`."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from marketplaces.models import Marketplace

from .models import ScorecardReportSent
from .reports import report_recipients, scorecard_report_send
from .services import snapshots_take_all, today_for
from .services.facts import facts_refresh

REPORT_EVERY = dt.timedelta(days=90)

logger = logging.getLogger(__name__)


def refresh_facts() -> int:
    """Bring the scorecards' daily facts up to date (idempotent); returns days recomputed."""
    report = facts_refresh()
    logger.info(
        "Scorecard facts: %s days, %s facts, %s marks, %s rebuilt",
        report.days,
        report.facts,
        report.marks,
        report.rebuilt,
    )
    return report.days


def take_daily_snapshots() -> int:
    """Yesterday's figures of every active marketplace, kept for trends (idempotent)."""
    written = snapshots_take_all()
    logger.info("Scorecard snapshots written: %s", written)
    return written


def send_quarterly_reports() -> int:
    """Run daily: each active marketplace's scorecard report goes out when its last one is 90
    days old (or none was sent yet); returns reports sent. A re-run the same day sends
    nothing."""
    now = timezone.now()
    recipients = report_recipients()
    sent = 0
    for marketplace in Marketplace.objects.filter(is_active=True).order_by("name"):
        # Claim first, in its own transaction, under the marketplace's row lock: overlapping
        # runs cannot both send, and a crash after the e-mail left cannot make the next run
        # send it again. A send that fails removes the claim, so the next daily run retries.
        with transaction.atomic():
            Marketplace.objects.select_for_update().filter(pk=marketplace.pk).first()
            last = marketplace.scorecard_reports.order_by("-sent_at").first()
            if last is not None and now - last.sent_at < REPORT_EVERY:
                continue
            as_of = today_for(marketplace, now)
            claim = ScorecardReportSent.objects.create(
                marketplace=marketplace, as_of=as_of, sent_at=now, recipients=", ".join(recipients)
            )
        try:
            delivered = scorecard_report_send(
                marketplace=marketplace, as_of=as_of, recipients=recipients
            )
        except Exception:
            claim.delete()
            raise
        if delivered:
            sent += 1
        else:
            claim.delete()
    logger.info("Scorecard reports sent: %s", sent)
    return sent
