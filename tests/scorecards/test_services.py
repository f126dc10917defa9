"""Scorecard services: the API entry point, the "what if", trends, snapshots, the report."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail

from cases.services import refund_decide
from marketplaces.models import Marketplace
from scorecards.models import MetricPolicy, ScorecardReportSent, ScorecardSnapshot
from scorecards.reports import scorecard_report_build
from scorecards.services import (
    policies_for,
    policies_install_defaults,
    refund_rejection_rate_if_rejected,
    scorecard,
    scorecard_dashboard,
    scorecard_trend,
    snapshot_take,
    snapshots_take_all,
    trend_dates,
)
from scorecards.tasks import send_quarterly_reports
from tests.factories import open_case

from .helpers import SHANGHAI, at, order

pytestmark = pytest.mark.django_db


@pytest.fixture
def tmall():
    return Marketplace.objects.get(code="tmall")


def refund_case(actor, marketplace, moment, decision=None):
    case = open_case(
        "damaged_item",
        actor=actor,
        order=order(marketplace, placed_at=moment - dt.timedelta(days=5)),
        opened_at=moment - dt.timedelta(days=2),
        refund_request={
            "amount": "10",
            "currency": "CNY",
            "requested_at": moment - dt.timedelta(days=1),
        },
    )
    if decision:
        refund_decide(
            refund_request=case.refund_requests.get(),
            decision=decision,
            reason_code="customer_fault" if decision == "rejected" else "",
            actor=actor,
            door="api",
            decided_at=moment,
        )
    return case


def test_the_api_entry_point_returns_every_metric_with_its_extras(tmall):
    metrics = scorecard(marketplace=tmall, as_of=dt.date(2025, 10, 31))
    assert [m.name for m in metrics] == [
        "refund_rejection_rate",
        "platform_assistance_rate",
        "carrier_pickup_24h_rate",
        "average_delivery_time",
        "average_first_response_time",
        "abnormal_logistics_rate",
        "average_shipping_time",
        "average_service_response_time",
    ]
    first = metrics[0].as_dict()
    for key in (
        "name",
        "numerator",
        "denominator",
        "value",
        "window_start",
        "window_end",
        "target",
        "level",
        "status",
        "unit",
        "levels",
        "note",
    ):
        assert key in first
    assert first["levels"][0] == {
        "level": "5",
        "bound": Decimal("0.005000"),
        "inclusive": True,
        "text": "≤ 0.50 %",
    }


def test_marketplaces_without_published_levels_show_figures_only():
    metrics = scorecard(
        marketplace=Marketplace.objects.get(code="cdiscount"), as_of=dt.date(2025, 10, 31)
    )
    assert [(m.name, m.level, m.target) for m in metrics] == [
        ("refund_rejection_rate", None, None),
        ("platform_assistance_rate", None, None),
    ]


def test_disabled_metrics_are_hidden_and_defaults_are_installed_once(tmall):
    MetricPolicy.objects.filter(marketplace=tmall, metric="average_delivery_time").update(
        is_enabled=False
    )
    assert "average_delivery_time" not in [p.metric for p in policies_for(tmall)]
    assert policies_install_defaults(marketplace=tmall) == 0  # never overwrites
    MetricPolicy.objects.filter(marketplace=tmall).delete()
    assert len(policies_for(tmall)) == 8  # shipped defaults, unsaved
    assert policies_install_defaults(marketplace=tmall) == 8
    assert MetricPolicy.objects.filter(marketplace=tmall).count() == 8


def test_what_if_a_refund_is_rejected(tmall, supervisor_actor):
    now = dt.datetime.now(dt.UTC)
    refund_case(supervisor_actor, tmall, now - dt.timedelta(days=3), "rejected")
    for day in (4, 5, 6):
        refund_case(supervisor_actor, tmall, now - dt.timedelta(days=day), "approved")
    pending = refund_case(supervisor_actor, tmall, now - dt.timedelta(hours=1))

    what_if = refund_rejection_rate_if_rejected(refund_request=pending.refund_requests.get())

    # now 1 rejected of 4 decided (25 %); after: 2 of 5 (40 %)
    assert (what_if.before.numerator, what_if.before.denominator) == (1, 4)
    assert (what_if.after.numerator, what_if.after.denominator) == (2, 5)
    assert (what_if.before.value, what_if.after.value) == (Decimal("0.25"), Decimal("0.4"))
    assert what_if.summary == "25.00 % → 40.00 %"
    by_case = refund_rejection_rate_if_rejected(case=pending)
    assert by_case.rejected == 1 and by_case.after.value == Decimal("0.4")


def test_what_if_shows_a_level_change(tmall, supervisor_actor):
    now = dt.datetime.now(dt.UTC)
    for day in range(1, 200):
        refund_case(supervisor_actor, tmall, now - dt.timedelta(days=2, minutes=day), "approved")
    pending = refund_case(supervisor_actor, tmall, now - dt.timedelta(hours=1))

    what_if = refund_rejection_rate_if_rejected(case=pending)

    # 0 of 199 (5) -> 1 of 200 = 0.5 %, still within the 0.5 % edge of 5 (inclusive)
    assert (what_if.before.level, what_if.after.level) == ("5", "5")
    assert not what_if.level_changes
    refund_case(supervisor_actor, tmall, now - dt.timedelta(days=1), "rejected")
    # 1 of 200 now -> 2 of 201 = 0.995 %: level 4.6
    what_if = refund_rejection_rate_if_rejected(case=pending)
    assert (what_if.before.level, what_if.after.level) == ("5", "4.6")
    assert what_if.level_changes


def test_trend_points_are_sundays_then_the_day():
    assert trend_dates(dt.date(2025, 11, 5), 3) == [
        dt.date(2025, 10, 26),
        dt.date(2025, 11, 2),
        dt.date(2025, 11, 5),
    ]
    # on a Sunday the previous Sunday comes before it
    assert trend_dates(dt.date(2025, 11, 2), 2) == [dt.date(2025, 10, 26), dt.date(2025, 11, 2)]


def test_trend_uses_snapshots_and_computes_what_is_missing(tmall, supervisor_actor):
    as_of = dt.date(2025, 10, 29)  # a Wednesday
    refund_case(supervisor_actor, tmall, at(2025, 10, 20, 12, tz=SHANGHAI), "rejected")
    refund_case(supervisor_actor, tmall, at(2025, 10, 27, 12, tz=SHANGHAI), "approved")
    snapshot_take(marketplace=tmall, as_of=dt.date(2025, 10, 26))
    # a stored figure wins over a computation: prove it by altering the stored one
    ScorecardSnapshot.objects.filter(
        marketplace=tmall, metric="refund_rejection_rate", as_of=dt.date(2025, 10, 26)
    ).update(numerator=7, denominator=7, value=Decimal("1"))

    trend = scorecard_trend(marketplace=tmall, as_of=as_of, weeks=3)["refund_rejection_rate"]

    assert [(p.as_of, p.numerator, p.denominator) for p in trend] == [
        (dt.date(2025, 10, 19), 0, 0),  # computed: nothing decided yet
        (dt.date(2025, 10, 26), 7, 7),  # from the snapshot
        (dt.date(2025, 10, 29), 1, 2),  # computed
    ]
    skipped = scorecard_trend(marketplace=tmall, as_of=as_of, weeks=3, compute_missing=False)
    assert [p.as_of for p in skipped["refund_rejection_rate"]] == [dt.date(2025, 10, 26)]


def test_daily_snapshots_are_idempotent_and_backfill_the_trend(tmall):
    at_time = dt.datetime(2025, 11, 5, 12, tzinfo=dt.UTC)  # Wednesday
    first = snapshots_take_all(at=at_time, backfill_weeks=3)
    rows = ScorecardSnapshot.objects.filter(marketplace=tmall)
    # yesterday (Tue 4 Nov) and the two Sundays before it, eight metrics each
    assert sorted(set(rows.values_list("as_of", flat=True))) == [
        dt.date(2025, 10, 26),
        dt.date(2025, 11, 2),
        dt.date(2025, 11, 4),
    ]
    assert rows.count() == 24
    again = snapshots_take_all(at=at_time, backfill_weeks=3)
    assert ScorecardSnapshot.objects.count() == first  # same rows, none added
    assert again < first  # only yesterday's figures were refreshed


def test_dashboard_lists_every_active_marketplace(django_assert_max_num_queries):
    Marketplace.objects.exclude(code__in=["tmall", "amazon_fr"]).update(is_active=False)
    with django_assert_max_num_queries(200):
        boards = scorecard_dashboard(as_of=dt.date(2025, 10, 31), weeks=2)
    assert [b.marketplace.code for b in boards] == ["amazon_fr", "tmall"]
    assert len(boards[0].metrics) == 13 and len(boards[1].trend["refund_rejection_rate"]) == 2


def test_report_has_the_scorecard_and_a_csv_per_metric(tmall, supervisor_actor):
    rejected = refund_case(supervisor_actor, tmall, at(2025, 10, 20, 12, tz=SHANGHAI), "rejected")
    refund_case(supervisor_actor, tmall, at(2025, 10, 21, 12, tz=SHANGHAI), "approved")

    report = scorecard_report_build(marketplace=tmall, as_of=dt.date(2025, 10, 31), weeks=3)

    assert report.subject == "[aftersales] Tmall scorecard as of 2025-10-31"
    assert "Refund-rejection rate: 50.00 % (3.8; target ≤ 0.50 %)" in report.text
    assert "<strong>50.00 %</strong>" in report.html
    names = [a.filename for a in report.attachments]
    assert names[0] == "tmall-refund_rejection_rate-2025-10-31.csv" and len(names) == 8
    rows = list(csv.reader(io.StringIO(report.attachments[0].content)))
    assert rows[0][:3] == ["case", "order", "amount"]
    assert [r[0] for r in rows[1:]] == [rejected.reference]


def test_quarterly_report_goes_every_90_days(settings, supervisor_actor):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SCORECARD_REPORT_RECIPIENTS = ["boss@example.com"]
    Marketplace.objects.exclude(code="faire").update(is_active=False)

    assert send_quarterly_reports() == 1
    assert send_quarterly_reports() == 0  # not again before 90 days
    message = mail.outbox[0]
    assert message.to == ["boss@example.com"]
    assert {name.split("-")[1] for name, _content, _type in message.attachments} == {
        "faire_late_shipments",
        "faire_cancelled_orders",
        "faire_missing_damaged",
        "faire_missed_messages",
    }
    assert message.alternatives[0][1] == "text/html"
    ScorecardReportSent.objects.update(sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=90))
    assert send_quarterly_reports() == 1


def test_quarterly_report_is_sent_at_most_once_even_after_a_crash(
    settings, supervisor_actor, monkeypatch
):
    from scorecards import tasks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SCORECARD_REPORT_RECIPIENTS = ["boss@example.com"]
    Marketplace.objects.exclude(code="faire").update(is_active=False)
    real_send = tasks.scorecard_report_send

    def send_then_die(**kwargs):
        real_send(**kwargs)
        raise SystemExit("worker killed after the e-mail left")

    monkeypatch.setattr(tasks, "scorecard_report_send", send_then_die)
    with pytest.raises(SystemExit):
        send_quarterly_reports()
    monkeypatch.setattr(tasks, "scorecard_report_send", real_send)

    assert send_quarterly_reports() == 0  # the claim stands: not sent twice
    assert len(mail.outbox) == 1


def test_a_quarterly_report_that_failed_to_send_is_tried_again(
    settings, supervisor_actor, monkeypatch
):
    from scorecards import tasks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SCORECARD_REPORT_RECIPIENTS = ["boss@example.com"]
    Marketplace.objects.exclude(code="faire").update(is_active=False)
    real_send = tasks.scorecard_report_send

    def refused(**kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(tasks, "scorecard_report_send", refused)
    with pytest.raises(ConnectionRefusedError):
        send_quarterly_reports()
    monkeypatch.setattr(tasks, "scorecard_report_send", real_send)

    assert not ScorecardReportSent.objects.exists()
    assert send_quarterly_reports() == 1
    assert len(mail.outbox) == 1
