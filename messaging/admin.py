from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The message log is imported from the marketplaces: staff read it, integrations write it."""

    list_display = (
        "sent_at",
        "marketplace",
        "direction",
        "counterpart",
        "channel",
        "order",
        "case",
        "is_conversation_start",
        "answered_at",
        "is_spam",
    )
    list_filter = ("marketplace", "direction", "counterpart", "channel", "is_spam")
    search_fields = (
        "external_id",
        "conversation__external_id",
        "order__external_id",
        "case__reference",
    )
    list_select_related = ("marketplace", "order__marketplace", "case")
    date_hierarchy = "sent_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
