from django.contrib import admin

from .models import (
    ClearanceReminder,
    ClearanceReminderTemplate,
    DeadlineAlert,
    LateShipmentNotice,
    NoticeClaim,
)


@admin.register(ClearanceReminderTemplate)
class ClearanceReminderTemplateAdmin(admin.ModelAdmin):
    """The customs clearance e-mail, per language (and optionally per marketplace)."""

    list_display = ("language", "marketplace", "subject", "updated_at")
    list_filter = ("language", "marketplace")
    list_select_related = ("marketplace",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the background jobs; staff read them."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeadlineAlert)
class DeadlineAlertAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "case", "clock", "level", "due_at", "notified_at", "notified_to")
    list_filter = ("level", "clock", "case__marketplace")
    list_select_related = ("case",)
    search_fields = ("case__reference",)
    date_hierarchy = "detected_at"


@admin.register(LateShipmentNotice)
class LateShipmentNoticeAdmin(ReadOnlyAdmin):
    list_display = ("detected_at", "case", "step", "due_at", "notified_at", "notified_to")
    list_filter = ("step", "case__marketplace")
    list_select_related = ("case",)
    search_fields = ("case__reference",)


@admin.register(ClearanceReminder)
class ClearanceReminderAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "case", "language", "recipient", "status", "sent_at")
    list_filter = ("status", "language")
    list_select_related = ("case",)
    search_fields = ("case__reference", "recipient")


@admin.register(NoticeClaim)
class NoticeClaimAdmin(ReadOnlyAdmin):
    """Runs sending notices now (a row that stays is a run that died: the next run frees it)."""

    list_display = ("worker", "started_at", "lease_until")
    search_fields = ("worker",)
