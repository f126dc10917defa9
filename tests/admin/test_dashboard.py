"""The dashboard: per-marketplace numbers equal to the engine's metrics, charts drawn on the
server, snapshots reused for the trend."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.services import case_transition, refund_decide, refund_request_create
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from scorecards.services import platform_assistance_rate, refund_rejection_rate
from tests.factories import make_order, open_case, run
from workspace.charts import Series, line_chart, stacked_bar_chart
from workspace.dashboard import median_time_to_resolution, rate_trend

from .helpers import SYSTEM, case_due_in_minutes, case_with_resolution_due_in

pytestmark = pytest.mark.django_db
URL = "/admin/workspace/dashboard/"


def resolved_case(marketplace: str, hours_to_resolve: float, *, opened_days_ago: float = 3):
    opened = timezone.now() - dt.timedelta(days=opened_days_ago)
    case = open_case("cancellation", actor=SYSTEM, marketplace=marketplace, opened_at=opened)
    case_transition(
        case=case,
        transition="request_refund",
        actor=SYSTEM,
        door=Door.COMMAND,
        occurred_at=opened + dt.timedelta(hours=1),
    )
    return case_transition(
        case=case,
        transition="mark_refunded",
        actor=SYSTEM,
        door=Door.COMMAND,
        occurred_at=opened + dt.timedelta(hours=hours_to_resolve),
    )


def test_overview_counts_per_marketplace(supervisor_client, supervisor_user):
    # Tmall: one overdue, one claim awaiting evidence, one withdrawn (not open)
    case_due_in_minutes(-90)
    open_case("damaged_item", actor=SYSTEM, marketplace="tmall")
    run(open_case("cancellation", actor=SYSTEM, marketplace="tmall"), ["withdraw"], SYSTEM)
    # Amazon: one due within its at-risk window, one later
    case_with_resolution_due_in(1, marketplace="amazon_fr")
    case_with_resolution_due_in(6, marketplace="amazon_fr")
    # a rejected refund on Tmall, decided today
    claim = open_case("cancellation", actor=SYSTEM, marketplace="tmall")
    refund = refund_request_create(
        case=claim, amount="5", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    refund_decide(
        refund_request=refund,
        decision="rejected",
        reason_code="duplicate",
        actor=Actor.for_user(supervisor_user),
        door=Door.ADMIN,
    )

    response = supervisor_client.get(URL)

    assert response.status_code == 200
    summaries = {s.marketplace.code: s for s in response.context["summaries"]}
    tmall, amazon = summaries["tmall"], summaries["amazon_fr"]
    assert (tmall.open, amazon.open) == (3, 2)
    # The opened-long-ago Tmall cases are all overdue on their 3-minute first response.
    assert tmall.overdue == 3
    assert (amazon.overdue, amazon.at_risk) == (0, 1)
    assert {s: n for s, _label, n in tmall.open_by_state} == {"new": 3}
    today = calendar_for(tmall.marketplace).local_date(timezone.now())
    expected = refund_rejection_rate(marketplace=tmall.marketplace, as_of=today)
    assert (tmall.rejection.numerator, tmall.rejection.denominator) == (1, 1)
    assert tmall.rejection == expected
    assert tmall.assistance == platform_assistance_rate(marketplace=tmall.marketplace, as_of=today)


def test_median_time_to_resolution():
    for hours in (10, 30, 50, 70):
        resolved_case("jd", hours)
    median, count = median_time_to_resolution(Marketplace.objects.get(code="jd"), at=timezone.now())
    assert (median, count) == (dt.timedelta(hours=40), 4)

    resolved_case("jd", 20)
    median, count = median_time_to_resolution(Marketplace.objects.get(code="jd"), at=timezone.now())
    assert (median, count) == (dt.timedelta(hours=30), 5)


def test_selected_marketplace_detail_with_charts(supervisor_client):
    opened = timezone.now() - dt.timedelta(minutes=30)
    for kind in ("damaged_item", "damaged_item", "late_shipment"):
        open_case(kind, actor=SYSTEM, marketplace="faire", opened_at=opened)

    response = supervisor_client.get(URL, {"marketplace": "faire"})

    html = response.content.decode()
    assert response.context["selected"].marketplace.code == "faire"
    openings = response.context["openings"]
    assert len(openings.weeks) == 12
    assert openings.by_kind["damaged_item"][-1] == 2
    assert openings.by_kind["late_shipment"][-1] == 1
    assert sum(openings.totals) == 3
    assert html.count('<svg class="ws-chart') == 2
    assert "Damaged item · " in html  # a bar's tooltip
    trend = response.context["trend"]
    assert len(trend) == 12 and trend[-1].as_of == calendar_for(
        Marketplace.objects.get(code="faire")
    ).local_date(timezone.now())
    assert "Faire scorecard" in html


def test_trend_reads_the_daily_facts():
    from scorecards.services.facts import facts_refresh

    tmall = Marketplace.objects.get(code="tmall")
    for days_ago in (3, 20, 45):
        resolved_case("tmall", 5, opened_days_ago=days_ago)
    run(open_case("cancellation", actor=SYSTEM, marketplace="tmall"), ["escalate"], SYSTEM)
    now = timezone.now()

    computed = rate_trend(tmall, at=now)  # no facts yet: each point counted from the rows
    facts_refresh(marketplaces=[tmall], now=now)
    later = now + dt.timedelta(seconds=1)
    with CaptureQueriesContext(connection) as queries:
        from_facts = rate_trend(tmall, at=later)

    def figures(points):
        return [
            (
                p.as_of,
                p.rejection.numerator,
                p.rejection.denominator,
                p.assistance.numerator,
                p.assistance.denominator,
            )
            for p in points
        ]

    assert figures(from_facts) == figures(computed)
    assert sum(p.assistance.denominator for p in from_facts) > 0
    # 12 points x 2 rates: the facts' basis, the facts, the marked days
    assert len(queries) == 3


def test_dashboard_reads_at_most_twenty_queries(supervisor_client):
    from scorecards.services.facts import facts_refresh

    now = timezone.now()
    for marketplace in ("tmall", "amazon_fr", "faire", "jd"):
        resolved_case(marketplace, 5)
        # orders of today and yesterday: days the clock can still change, read from the rows
        for hours in (1, 20):
            make_order(
                marketplace,
                placed_at=now - dt.timedelta(hours=hours),
                promised_ship_date=(now - dt.timedelta(hours=hours)).date(),
            )
        run(open_case("cancellation", actor=SYSTEM, marketplace=marketplace), ["escalate"], SYSTEM)
    facts_refresh()
    supervisor_client.get(URL)  # the session and the calendars warmed up
    for selected in ("tmall", "amazon_fr", "faire"):
        with CaptureQueriesContext(connection) as queries:
            response = supervisor_client.get(URL, {"marketplace": selected})
        assert response.status_code == 200
        assert response.context["selected"].marketplace.code == selected
        assert len(queries) <= 20, "\n".join(q["sql"][:150] for q in queries)


def test_dashboard_needs_its_permission(django_user_model, client):
    user = django_user_model.objects.create_user("visitor", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(URL).status_code == 403


def test_line_chart_escapes_labels_and_leaves_gaps():
    svg = line_chart(
        ["09-01", "09-08", "<b>"],
        [Series("rate <script>", [0.1, None, 0.3])],
        title="A & B",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<title>A &amp; B</title>" in svg
    assert svg.count("<polyline") == 2  # the None splits the line
    assert svg.count("<circle") == 2


def test_stacked_bars_skip_empty_series_and_use_whole_ticks():
    svg = stacked_bar_chart(
        ["w1", "w2"],
        [Series("A", [3, 0]), Series("B", [0, 0]), Series("C", [2, 5])],
        title="Opened",
    )
    assert svg.count("<rect") == 3 + 2  # 3 bar segments + 2 legend swatches (A, C)
    assert ">B<" not in svg
    assert ">2.5<" not in svg
