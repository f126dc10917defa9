"""Refund requests: a read-only list (decisions are taken on the case page)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.models import RefundRequest

from .base import ReadOnlyAdmin, case_link


class UndecidedFilter(admin.SimpleListFilter):
    title = _("decision")
    parameter_name = "decided"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Awaiting a decision")), ("yes", _("Decided"))]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() == "no":
            return queryset.filter(decision="")
        if self.value() == "yes":
            return queryset.exclude(decision="")
        return queryset


@admin.register(RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "case_column",
        "amount",
        "currency",
        "requested_at",
        "decision",
        "approved_amount",
        "decided_at",
        "decided_by_name",
        "rejection_reason",
        "overturned_at",
    )
    list_filter = (UndecidedFilter, "decision", "marketplace", "rejection_reason")
    list_select_related = ("case",)
    search_fields = ("=case__reference",)
    ordering = ("-requested_at", "-pk")

    @admin.display(description=_("case"), ordering="case__reference")
    def case_column(self, obj: RefundRequest) -> str:
        return case_link(obj.case)
