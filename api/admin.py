"""API clients (created with their key shown once, rotated, revoked), webhook subscriptions, and
webhook deliveries with every attempt and a "send again" action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .models import (
    ApiClient,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from .webhooks.delivery import delivery_replay
from .webhooks.subscriptions import limit_refusal, subscription_limit

# A URL typed without a scheme is taken as https (Django 6's default).
URL_FIELD: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class SubscriptionLimitFormSet(BaseInlineFormSet):
    """The per-client limit of subscriptions, counted over the whole formset (several rows can
    be added at once)."""

    def clean(self) -> None:
        super().clean()
        kept = 0
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]  # Django API missing from the stubs
                continue
            if form.instance.pk is None and not form.has_changed():
                continue  # an empty extra row
            kept += 1
        limit = subscription_limit()
        if kept > limit:
            raise ValidationError(
                _("A client may have at most %(limit)s webhook subscriptions (%(count)s given).")
                % {"limit": limit, "count": kept},
                code="too_many_subscriptions",
            )


class WebhookSubscriptionForm(forms.ModelForm):
    """A subscription added on its own page: within its client's limit."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("client", "url", "event_types", "is_active", "description")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        client = data.get("client")
        if self.instance.pk is None and client is not None:
            refusal = limit_refusal(client.pk, adding=1)
            if refusal:
                raise ValidationError(refusal, code="too_many_subscriptions")
        elif client is not None and client.pk != self.instance.client_id:
            refusal = limit_refusal(client.pk, adding=1)
            if refusal:
                raise ValidationError({"client": refusal}, code="too_many_subscriptions")
        return data


class WebhookSubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    formset = SubscriptionLimitFormSet
    formfield_overrides = URL_FIELD
    extra = 0
    fields = ("url", "event_types", "is_active", "description", "secret")
    readonly_fields = ("secret",)


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "marketplace_codes", "supervisor_rights", "status", "last_used_at")
    list_filter = ("marketplaces", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "key_prefix")
    filter_horizontal = ("marketplaces",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    fieldsets = (
        (None, {"fields": ("name", "marketplaces", "notes")}),
        (
            _("Supervisor rights"),
            {
                "fields": (
                    "may_reject_claims",
                    "may_reject_refunds",
                    "may_withdraw_cases",
                    "may_record_platform_rulings",
                    "may_handle_personal_data",
                ),
                "description": _(
                    "Rejecting claims and refunds, withdrawing cases and recording platform "
                    "rulings need these; without them the client does not see those transitions."
                ),
            },
        ),
        (_("Limits"), {"fields": ("throttle_rate",)}),
        (_("Key"), {"fields": ("key_prefix", "created_at", "last_used_at", "revoked_at")}),
    )
    inlines = [WebhookSubscriptionInline]
    actions = ["rotate_keys", "revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        return super().get_queryset(request).prefetch_related("marketplaces")

    @admin.display(description=_("marketplaces"))
    def marketplace_codes(self, client: ApiClient) -> str:
        return ", ".join(sorted(m.code for m in client.marketplaces.all()))

    @admin.display(description=_("supervisor rights"))
    def supervisor_rights(self, client: ApiClient) -> str:
        return ", ".join(sorted(p.split(".", 1)[1] for p in client.permissions)) or "-"

    @admin.display(description=_("status"))
    def status(self, client: ApiClient) -> str:
        if client.revoked_at:
            return str(_("revoked %(date)s") % {"date": client.revoked_at.date().isoformat()})
        return str(_("active"))

    def save_model(self, request: HttpRequest, obj: ApiClient, form: Any, change: bool) -> None:
        key = None if change else obj.set_new_key()
        super().save_model(request, obj, form, change)
        if key:
            self._show_key(request, obj, key)

    def _show_key(self, request: HttpRequest, client: ApiClient, key: str) -> None:
        messages.warning(
            request,
            format_html(
                gettext(
                    "The key of “{}” is <code>{}</code>. Copy it now: it is stored hashed and will "
                    "not be shown again."
                ),
                client.name,
                key,
            ),
        )

    @admin.action(
        description=_("Give the selected clients new keys (old keys stop working)"),
        permissions=["change"],
    )
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            key = client.set_new_key()
            client.revoked_at = None
            client.save(update_fields=["key_prefix", "key_hash", "revoked_at"])
            self._show_key(request, client, key)

    @admin.action(description=_("Revoke the selected clients' keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)s client revoked.", "%(count)s clients revoked.", count)
            % {"count": count},
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    formfield_overrides = URL_FIELD
    list_display = ("url", "client", "event_types", "is_active", "created_at")
    list_filter = ("is_active", "client")
    search_fields = ("url", "client__name")
    readonly_fields = ("secret", "created_at")
    list_select_related = ("client",)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "replay",
        "started_at",
        "duration_ms",
        "status_code",
        "outcome",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "event_type",
        "case_reference",
        "subscription",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event__event_type", "subscription__client")
    search_fields = ("event__event_id", "event__case__reference", "subscription__url")
    list_select_related = ("event__case", "subscription__client")
    readonly_fields = (
        "event_id",
        "event_type",
        "case_reference",
        "subscription",
        "status",
        "attempt_count",
        "next_attempt_at",
        "retry_until",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "replayed_at",
        "created_at",
        "payload",
    )
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        # Deliveries are read-only records; sending one again needs the model's change right.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description=_("event id"))
    def event_id(self, delivery: WebhookDelivery) -> str:
        return str(delivery.event.event_id)

    @admin.display(description=_("event"), ordering="event__event_type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_type

    @admin.display(description=_("case"))
    def case_reference(self, delivery: WebhookDelivery) -> str:
        case = delivery.event.case
        return case.reference if case is not None else "—"

    @admin.display(description=_("payload"))
    def payload(self, delivery: WebhookDelivery) -> str:
        import json

        return format_html("<pre>{}</pre>", json.dumps(delivery.event.payload, indent=2))

    @admin.action(
        description=_("Send the selected deliveries again (same event id)"),
        permissions=["replay"],
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset:
            delivery_replay(delivery)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)s delivery queued again.", "%(count)s deliveries queued again.", count
            )
            % {"count": count},
        )


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: what a retried request would get back."""

    list_display = ("key", "client", "method", "path", "response_status", "created_at")
    list_filter = ("client",)
    search_fields = ("key", "path")
    list_select_related = ("client",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
