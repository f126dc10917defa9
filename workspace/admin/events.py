"""The audit trail: visible, never editable or deletable."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cases.models import CaseEvent

from .base import ReadOnlyAdmin, case_link


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    """The audit trail: visible, never editable or deletable."""

    list_display = (
        "occurred_at",
        "case_column",
        "event_type",
        "transition",
        "from_state",
        "to_state",
        "actor_name",
        "door",
        "recorded_at",
    )
    list_filter = ("event_type", "door", "actor_type")
    list_select_related = ("case",)
    search_fields = ("=case__reference",)
    ordering = ("-occurred_at", "-pk")

    @admin.display(description=_("case"), ordering="case__reference")
    def case_column(self, obj: CaseEvent) -> str:
        return case_link(obj.case)
