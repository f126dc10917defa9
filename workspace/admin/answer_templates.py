"""The answer templates the team writes (supervisors edit them, agents use them in the
composer) and the outbox as a read-only list (what is queued, sent or failed, and why)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from messaging.models import MessageTemplate, OutboundMessage, OutboxStatus
from messaging.templates import PLACEHOLDERS

from .base import ReadOnlyAdmin


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ("name", "marketplace", "language", "subject", "body", "is_html", "is_active")
        widgets = {"body": forms.Textarea(attrs={"rows": 12, "cols": 90})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = format_html(
            "{}<ul>{}</ul>",
            _("Placeholders, written {{ name }}; one with no value blocks sending:"),
            format_html_join("", "<li><code>{{{{ {} }}}}</code> — {}</li>", PLACEHOLDERS.items()),
        )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("name", "marketplace", "language", "is_html", "is_active", "updated_at")
    list_filter = ("marketplace", "language", "is_active")
    search_fields = ("name", "subject", "body")
    list_select_related = ("marketplace",)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.has_perm("messaging.delete_messagetemplate")


@admin.register(OutboundMessage)
class OutboxAdmin(ReadOnlyAdmin):
    """The outbox, read only: replies change through the conversation page (edit and send
    again) and the connectors' reports."""

    list_display = ("queued_at", "marketplace", "conversation_link", "status", "reason", "sent_at")
    list_filter = ("status", "marketplace")
    list_select_related = ("marketplace", "conversation")
    ordering = ("-queued_at", "-pk")

    @admin.display(description=_("conversation"))
    def conversation_link(self, obj: OutboundMessage) -> str:
        url = reverse("admin:messaging_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}#outbound-{}">{}</a>', url, obj.pk, obj.conversation)

    @admin.display(description=_("why it failed"))
    def reason(self, obj: OutboundMessage) -> str:
        return obj.failure_reason if obj.status == OutboxStatus.FAILED else ""
