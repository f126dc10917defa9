"""Evidence files and evidence requests: read-only lists (changes happen on the case page)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.models import Evidence, EvidenceRequest

from .base import ReadOnlyAdmin, case_link


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = (
        "preview",
        "case_column",
        "media_type",
        "original_name",
        "size_bytes",
        "review_status",
        "source",
        "uploaded_at",
    )
    list_filter = ("media_type", "review_status", "source")
    list_select_related = ("case",)
    search_fields = ("=case__reference", "original_name", "=sha256")
    ordering = ("-uploaded_at", "-pk")

    @admin.display(description=_("preview"))
    def preview(self, obj: Evidence) -> str:
        if not obj.thumbnail:
            return "—"
        return format_html(
            '<img src="{}" alt="" class="ws-list-thumb" loading="lazy">',
            reverse("intake:evidence-thumbnail", args=[obj.pk]),
        )

    @admin.display(description=_("case"), ordering="case__reference")
    def case_column(self, obj: Evidence) -> str:
        return case_link(obj.case)


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "case_column",
        "audience",
        "due_at",
        "created_at",
        "reminder_sent_at",
        "fulfilled_at",
        "revoked_at",
    )
    list_filter = ("audience",)
    list_select_related = ("case",)
    search_fields = ("=case__reference",)
    ordering = ("-created_at", "-pk")
    exclude = ("token_nonce",)

    @admin.display(description=_("case"), ordering="case__reference")
    def case_column(self, obj: EvidenceRequest) -> str:
        return case_link(obj.case)
