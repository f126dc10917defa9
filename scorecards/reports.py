"""The scorecard report: an HTML e-mail per marketplace with its scorecard, each metric's trend,
and one CSV attachment per metric listing the rows behind it (the orders, cases, refunds,
returns or messages that hurt the score). Sent every 90 days by the worker and on demand with
``python manage.py scorecard_report``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from cases.team import team_emails
from marketplaces.models import Marketplace

from .definitions import METRICS
from .services import (
    ScorecardMetric,
    TrendPoint,
    format_value,
    metric_records,
    scorecard,
    scorecard_trend,
)

# A metric with more rows behind it than this gets the first ones and a last line saying so.
MAX_CSV_ROWS = 100_000


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    rows: int


@dataclass(frozen=True)
class ScorecardReport:
    marketplace: Marketplace
    as_of: dt.date
    subject: str
    text: str
    html: str
    attachments: list[Attachment]


def records_csv(
    *, marketplace: Marketplace, metric: str, as_of: dt.date, window_days: int | None = None
) -> Attachment:
    """The rows behind one metric as CSV (one query, streamed from ``values_list``)."""
    definition = METRICS[metric]
    headers = [header for header, _path in definition.columns]
    paths = [path for _header, path in definition.columns]
    queryset = metric_records(
        marketplace=marketplace, metric=metric, as_of=as_of, window_days=window_days
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    rows = 0
    for row in queryset.values_list(*paths)[: MAX_CSV_ROWS + 1]:
        if rows == MAX_CSV_ROWS:
            writer.writerow([f"... more than {MAX_CSV_ROWS} rows; see the admin for all"])
            break
        writer.writerow(
            [value.isoformat() if hasattr(value, "isoformat") else value for value in row]
        )
        rows += 1
    return Attachment(f"{marketplace.code}-{metric}-{as_of:%Y-%m-%d}.csv", buffer.getvalue(), rows)


def _trend_cells(points: list[TrendPoint], unit: str) -> list[dict]:
    return [
        {"as_of": p.as_of, "display": format_value(p.value, unit), "level": p.level or ""}
        for p in points
    ]


def scorecard_report_build(
    *, marketplace: Marketplace, as_of: dt.date, weeks: int = 13
) -> ScorecardReport:
    """The report of one marketplace as of a day (a quarter of trend by default)."""
    metrics: list[ScorecardMetric] = scorecard(marketplace=marketplace, as_of=as_of)
    trend = scorecard_trend(marketplace=marketplace, as_of=as_of, weeks=weeks)
    attachments = [
        records_csv(marketplace=marketplace, metric=m.name, as_of=as_of) for m in metrics
    ]
    rows = [
        {
            "metric": m,
            "trend": _trend_cells(trend.get(m.name, []), m.unit),
            "attachment": attachment,
        }
        for m, attachment in zip(metrics, attachments, strict=True)
    ]
    context = {"marketplace": marketplace, "as_of": as_of, "rows": rows, "weeks": weeks}
    subject = f"[aftersales] {marketplace.name} scorecard as of {as_of:%Y-%m-%d}"
    return ScorecardReport(
        marketplace=marketplace,
        as_of=as_of,
        subject=subject,
        text=render_to_string("scorecards/email/report.txt", context),
        html=render_to_string("scorecards/email/report.html", context),
        attachments=attachments,
    )


def report_recipients() -> list[str]:
    configured = [e for e in settings.SCORECARD_REPORT_RECIPIENTS if e]
    return configured or team_emails()


def scorecard_report_send(
    *,
    marketplace: Marketplace,
    as_of: dt.date,
    recipients: list[str] | None = None,
) -> ScorecardReport | None:
    """Build and e-mail the report; returns it, or None when there is no one to send it to."""
    to = recipients or report_recipients()
    if not to:
        return None
    report = scorecard_report_build(marketplace=marketplace, as_of=as_of)
    message = EmailMultiAlternatives(subject=report.subject, body=report.text, to=to)
    message.attach_alternative(report.html, "text/html")
    for attachment in report.attachments:
        message.attach(attachment.filename, attachment.content, "text/csv")
    message.send()
    return report
