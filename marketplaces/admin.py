"""Marketplaces in the admin: their rules and business calendar. Supervisors edit them; a change
of calendar or deadline policy moves the deadlines of the marketplace's open cases (recomputed
by a background job)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .calendars import calendar_for
from .models import CalendarException, Marketplace
from .services import CALENDAR_CHANGE, POLICY_CHANGE, marketplace_calendar_changed

# Fields whose change moves deadlines.
DEADLINE_POLICY_FIELDS = {
    "time_zone",
    "calendar_country",
    "calendar_subdivision",
    "resolution_business_days",
    "evidence_wait_business_days",
    "first_response_amount",
    "first_response_unit",
    "first_response_counting",
    "evidence_review_business_days",
    "refund_decision_business_days",
    # The message clocks follow the same rule (``messaging`` recomputes the unanswered ones).
    "response_scope",
    "response_from",
    "response_goal_seconds",
    "response_at_risk_percent",
}
PREVIEW_DAYS = 120


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 1
    verbose_name = _("closure or extra working day")
    verbose_name_plural = _("the seller's own closures and extra working days")


@admin.register(Marketplace)
class MarketplaceAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "calendar_country",
        "time_zone",
        "resolution_business_days",
        "first_response_amount",
        "first_response_unit",
        "first_response_counting",
        "mediation",
        "is_active",
    )
    list_filter = ("calendar_country", "mediation", "channel", "is_active")
    search_fields = ("code", "name")
    inlines = [CalendarExceptionInline]
    readonly_fields = ("calendar_preview",)
    fieldsets = (
        (None, {"fields": ("code", "name", "is_active", "notes")}),
        (
            _("Calendar"),
            {
                "fields": (
                    "time_zone",
                    "calendar_country",
                    "calendar_subdivision",
                    "calendar_preview",
                )
            },
        ),
        (
            _("Deadlines"),
            {
                "fields": (
                    "resolution_business_days",
                    "evidence_wait_business_days",
                    "at_risk_business_days",
                    "first_response_amount",
                    "first_response_unit",
                    "first_response_counting",
                    "evidence_review_business_days",
                    "refund_decision_business_days",
                    "return_response_hours",
                )
            },
        ),
        (
            _("Customer service"),
            {
                "fields": (
                    "channel",
                    "mediation",
                    "response_scope",
                    "response_from",
                    "response_goal_seconds",
                    "response_at_risk_percent",
                    "seller_may_write_first",
                    "attachments_allowed",
                    "html_allowed",
                    "max_message_length",
                    "send_replies_by_email",
                )
            },
        ),
        (
            _("Carrier tracking and dispute packs"),
            {
                "fields": (
                    "tracking_opens_customs_cases",
                    "tracking_clears_customs_cases",
                    "tracking_delivers_customs_cases",
                    "tracking_ships_late_cases",
                    "tracking_confirms_interceptions",
                    "tracking_flags_lost_parcels",
                    "pack_max_embedded_video_mb",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        # Integrations refer to marketplaces by code: it never changes once created.
        return ("code", "calendar_preview") if obj else ("calendar_preview",)

    @admin.display(description=_("next days off and extra working days"))
    def calendar_preview(self, obj: Marketplace) -> str:
        """What the calendar says for the coming months, so a supervisor sees the effect of an
        edit (public holidays, adjusted working days, the seller's own days)."""
        if obj.pk is None:
            return "—"
        calendar = calendar_for(obj)
        today = calendar.local_date(timezone.now())
        end = today + dt.timedelta(days=PREVIEW_DAYS)
        rows = [
            (day, working, label)
            for year in range(today.year, end.year + 1)
            for day, working, label in calendar.year_exceptions(year)
            if today <= day <= end
        ]
        if not rows:
            return gettext("No exception in the next %(days)d days.") % {"days": PREVIEW_DAYS}
        items = format_html_join(
            "",
            "<li>{} {} — {}</li>",
            (
                (
                    day.isoformat(),
                    day.strftime("%a"),
                    format_html("<strong>{}</strong>", gettext("worked")) if working else label,
                )
                for day, working, label in rows
            ),
        )
        return format_html('<ul class="ws-calendar-preview">{}</ul>', items)

    @transaction.atomic
    def changeform_view(
        self,
        request: Any,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calendar_changed = any(formset.has_changed() for formset in formsets)
        policy_changed = bool(DEADLINE_POLICY_FIELDS & set(form.changed_data))
        if change and (calendar_changed or policy_changed):
            marketplace_calendar_changed(
                marketplace=form.instance,
                cause=CALENDAR_CHANGE if calendar_changed else POLICY_CHANGE,
            )
            messages.info(
                request,
                gettext(
                    "The deadlines of %(marketplace)s's open cases are being recomputed in the "
                    "background with the new calendar and rules."
                )
                % {"marketplace": form.instance.name},
            )
