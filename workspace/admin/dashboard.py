"""The dashboard page and the language switch."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.i18n import set_language

from cases.choices import CaseKind
from scorecards.services.facts import facts_reading

from ..charts import PALETTE, Series, line_chart, stacked_bar_chart
from ..dashboard import overview, rate_trend, weekly_openings
from ..models import Dashboard
from ..response_times import response_times
from ..urgency import marketplaces_with_calendars


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    """Not a list of rows: the admin entry of the dashboard page."""

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.is_active and request.user.has_perm("workspace.view_dashboard")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        return [
            path(
                "",
                self.admin_site.admin_view(self.dashboard_view),
                name="workspace_dashboard_changelist",
            ),
            # Django's set_language, reachable without adding a project URL; any visitor may
            # pick a language (it only sets a cookie).
            path("language/", set_language, name="workspace_set_language"),
        ]

    def dashboard_view(self, request: Any) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        with facts_reading():  # the scorecards' facts bases and marks, read once
            return self._dashboard(request)

    def _dashboard(self, request: Any) -> TemplateResponse:
        at = timezone.now()
        marketplaces = [m for m in marketplaces_with_calendars(request) if m.is_active]
        summaries = overview(marketplaces, at=at)
        selected = next(
            (s for s in summaries if s.marketplace.code == request.GET.get("marketplace")), None
        )
        if selected is None and summaries:
            selected = max(summaries, key=lambda s: (s.open, -summaries.index(s)))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("Dashboard"),
            "opts": self.model._meta,
            "summaries": summaries,
            "selected": selected,
            "changelist": reverse("admin:cases_case_changelist"),
            # Messages: response time per marketplace and agent (template response_times.html).
            "response_times": response_times(at=at, marketplaces=[m.pk for m in marketplaces]),
        }
        if selected is not None:
            context.update(self._detail(selected, at=at))
        return TemplateResponse(request, "workspace/dashboard.html", context)

    def _detail(self, summary: Any, *, at: Any) -> dict[str, Any]:
        marketplace = summary.marketplace
        trend = rate_trend(marketplace, at=at)
        labels = [point.as_of.strftime("%m-%d") for point in trend]
        rates_chart = line_chart(
            labels,
            [
                Series(
                    _("Refund-rejection rate"),
                    [_float(p.rejection.value) for p in trend],
                    PALETTE[3],
                ),
                Series(
                    _("Platform-assistance rate"),
                    [_float(p.assistance.value) for p in trend],
                    PALETTE[0],
                ),
            ],
            title=_("%(marketplace)s: 30-day rates, weekly, last 12 weeks")
            % {"marketplace": marketplace.name},
        )
        openings = weekly_openings(marketplace, at=at)
        week_labels = [week.strftime("%m-%d") for week in openings.weeks]
        kinds = dict(CaseKind.choices)
        openings_chart = stacked_bar_chart(
            week_labels,
            [
                Series(str(kinds[kind]), counts, PALETTE[i % len(PALETTE)])
                for i, (kind, counts) in enumerate(openings.by_kind.items())
            ],
            title=_("%(marketplace)s: cases opened per week by kind")
            % {"marketplace": marketplace.name},
        )
        largest = max((n for _s, _l, n in summary.open_by_state), default=0)
        from scorecards.services import scorecard, today_for

        return {
            # The marketplace's own scorecard (its metrics, targets and levels).
            "scorecard": scorecard(marketplace=marketplace, as_of=today_for(marketplace, at)),
            "trend": trend,
            "rates_chart": rates_chart,
            "openings": openings,
            "openings_rows": [
                (kinds[kind], counts) for kind, counts in openings.by_kind.items() if any(counts)
            ],
            "week_labels": week_labels,
            "openings_chart": openings_chart,
            "state_bars": [
                (state, label, n, round(100 * n / largest) if largest else 0)
                for state, label, n in summary.open_by_state
            ],
        }
