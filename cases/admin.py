"""The support workspace in the Django admin: the case list agents work from, the case page
with its transition buttons, evidence gallery, evidence requests, refund decisions and
timeline, and read-only views of the audit trail.

Every change goes through ``cases.services`` (the admin never saves a case, an order, a file or a
decision itself); a refusal is shown in the service's own words. The pieces live in the
``workspace`` app: filters, deadline windows, the case page, bulk actions, counting.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import F
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workspace import bulk, case_actions
from workspace.case_page import case_page
from workspace.counting import EstimatedCountPaginator
from workspace.filters import (
    AssigneeFilter,
    DueFilter,
    KindFilter,
    MarketplaceFilter,
    RefundFilter,
    StateFilter,
    StatusFilter,
)
from workspace.forms import SavedViewForm, staff_users
from workspace.search import case_search_q
from workspace.urgency import next_deadline_badge

from .actors import Actor
from .choices import TERMINAL_STATES, Audience, Door, RefundRejectionReason
from .errors import DomainError
from .models import Case, CaseEvent, Evidence, EvidenceRequest, Order, RefundRequest
from .services import case_assign, case_open, case_update_details, order_upsert
from .services.cases import EDITABLE_DETAILS
from .services.orders import ORDER_FIELDS


class ServiceRefused(Exception):
    """A service refused what a change form asked; the form is shown again with the reason."""

    def __init__(self, form: forms.BaseForm, error: DomainError) -> None:
        super().__init__(error.message)
        self.form = form
        self.error = error


class ServiceFormAdmin(admin.ModelAdmin):
    """A ModelAdmin whose ``save_model`` calls services. A refusal (``ServiceRefused``) rolls
    back everything the save did and shows the form again, with what was typed and the
    service's message on the field it concerns."""

    def changeform_view(
        self,
        request: Any,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            return self._render_refused(request, object_id, form_url, refused, extra_context)

    def _render_refused(
        self,
        request: Any,
        object_id: str | None,
        form_url: str,
        refused: ServiceRefused,
        extra_context: dict[str, Any] | None,
    ) -> Any:
        form, error = refused.form, refused.error
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        add = object_id is None
        obj = None if add else self.get_object(request, object_id)
        fieldsets = self.get_fieldsets(request, obj)
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            self.get_prepopulated_fields(request, obj),
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        title = gettext("Add %s") if add else gettext("Change %s")
        context = {
            **self.admin_site.each_context(request),
            "title": title % self.opts.verbose_name,
            "subtitle": str(obj) if obj else None,
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(
            request, context, add=add, change=not add, obj=obj, form_url=form_url
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists that only show: changes happen on the case page, through the services."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


def case_link(case: Case) -> str:
    url = reverse("admin:cases_case_change", args=[case.pk])
    return format_html('<a href="{}">{}</a>', url, case.reference)


# -- orders --------------------------------------------------------------------------------------


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ("marketplace", "external_id", *ORDER_FIELDS)


@admin.register(Order)
class OrderAdmin(ServiceFormAdmin):
    list_display = (
        "external_id",
        "marketplace",
        "customer_name",
        "customer_email",
        "placed_at",
        "promised_ship_date",
        "shipped_at",
        "shipping_scope",
        "total",
        "currency",
    )
    list_filter = ("marketplace", "shipping_scope")
    list_select_related = ("marketplace",)
    search_fields = ("=external_id", "customer_name", "=customer_email")
    search_help_text = _("Order id (exact), customer name, customer e-mail (exact)")
    ordering = ("-placed_at", "-pk")
    form = OrderForm
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("cases_of_order",)

    def get_fields(self, request: Any, obj: Any = None) -> list[str]:
        fields = ["marketplace", "external_id", *ORDER_FIELDS]
        return [*fields, "cases_of_order"] if obj else fields

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        # Integrations refer to an order by marketplace and id: both are fixed once created.
        return ("marketplace", "external_id", "cases_of_order") if obj else ()

    @admin.display(description=_("cases"))
    def cases_of_order(self, obj: Order) -> str:
        links = [case_link(case) for case in obj.cases.order_by("opened_at")[:50]]
        return format_html(", ".join(["{}"] * len(links)), *links) if links else "—"

    def save_model(self, request: Any, obj: Order, form: forms.ModelForm, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in ORDER_FIELDS if name in form.fields}
        if change:
            fields = {name: value for name, value in fields.items() if name in form.changed_data}
        marketplace = obj.marketplace if change else form.cleaned_data["marketplace"]
        external_id = obj.external_id if change else form.cleaned_data["external_id"]
        order, _created = order_upsert(marketplace=marketplace, external_id=external_id, **fields)
        obj.pk = order.pk

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


# -- cases ---------------------------------------------------------------------------------------


class CaseAddForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = (
            "order",
            "kind",
            "opened_at",
            "priority",
            "assignee",
            "external_claim_id",
            "description",
        )


class CaseDetailsForm(forms.ModelForm):
    """What staff edit by hand on a case; ``expected_version`` catches a concurrent change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Case
        fields = ("assignee", "priority", "external_claim_id", "description")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean_expected_version(self) -> int:
        version = self.cleaned_data["expected_version"]
        if self.instance.pk and version != self.instance.version:
            raise forms.ValidationError(
                _(
                    "This case changed since you opened it (someone else acted on it). Reload "
                    "the page and make your change again."
                ),
                code="case_changed",
            )
        return version


RECORD_FIELDS = (
    "reference",
    "marketplace",
    "order",
    "kind",
    "state",
    "opened_at",
    "first_responded_at",
    "escalated_at",
    "confirmed_at",
    "resolved_at",
    "closed_at",
    "resolution_outcome",
    "resolution_met",
    "response_due_at",
    "evidence_due_at",
    "resolution_due_at",
    "supplier_contact_due_at",
    "supplier_switch_due_at",
    "next_due_at",
    "version",
)


@admin.register(Case)
class CaseAdmin(ServiceFormAdmin):
    list_display = (
        "reference",
        "marketplace_column",
        "kind_column",
        "state_column",
        "order_column",
        "customer_column",
        "assignee_column",
        "deadline_column",
        "opened_column",
    )
    list_display_links = ("reference",)
    list_filter = (
        StatusFilter,
        DueFilter,
        AssigneeFilter,
        MarketplaceFilter,
        KindFilter,
        StateFilter,
        "escalated",
        RefundFilter,
    )
    # The search itself is ``workspace.search.case_search_q`` (exact identifiers, then names).
    search_fields = ("reference",)
    search_help_text = _(
        "Reference, order id, customer name or e-mail, or the marketplace's claim id"
    )
    # Most urgent first: the earliest running deadline, cases with none last.
    ordering = (F("next_due_at").asc(nulls_last=True), "opened_at", "pk")
    list_per_page = 50
    list_max_show_all = 200
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    raw_id_fields = ("order",)
    actions = (
        bulk.assign_to_me,
        bulk.assign_to,
        bulk.send_evidence_reminder,
        bulk.apply_transition,
    )
    change_list_template = "workspace/case_change_list.html"
    change_form_template = "workspace/case_change_form.html"

    # -- list ------------------------------------------------------------------------------

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("marketplace", "order", "assignee")

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Any:
        condition = case_search_q(search_term)
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False

    @admin.display(description=_("marketplace"), ordering="marketplace__name")
    def marketplace_column(self, obj: Case) -> str:
        return obj.marketplace.name

    @admin.display(description=_("kind"), ordering="kind")
    def kind_column(self, obj: Case) -> str:
        return obj.get_kind_display()

    @admin.display(description=_("state"), ordering="state")
    def state_column(self, obj: Case) -> str:
        css = "closed" if obj.state in TERMINAL_STATES else obj.state
        return format_html(
            '<span class="ws-state ws-state-{}">{}</span>{}',
            css,
            obj.get_state_display(),
            format_html(' <span class="ws-flag" title="{}">⚑</span>', _("Escalated"))
            if obj.escalated
            else "",
        )

    @admin.display(description=_("order"))
    def order_column(self, obj: Case) -> str:
        return obj.order.external_id

    @admin.display(description=_("customer"))
    def customer_column(self, obj: Case) -> str:
        order = obj.order
        if order.customer_email:
            return format_html(
                '{}<br><span class="ws-muted">{}</span>',
                order.customer_name or "—",
                order.customer_email,
            )
        return order.customer_name or "—"

    @admin.display(description=_("assignee"), ordering="assignee__username")
    def assignee_column(self, obj: Case) -> str:
        if obj.assignee is None:
            return format_html('<span class="ws-muted">{}</span>', _("unassigned"))
        return obj.assignee.get_full_name() or obj.assignee.get_username()

    @admin.display(description=_("next deadline"), ordering=F("next_due_at").asc(nulls_last=True))
    def deadline_column(self, obj: Case) -> str:
        badge = next_deadline_badge(obj, at=timezone.now())
        if badge is None:
            return format_html('<span class="ws-muted">{}</span>', _("none"))
        local = timezone.localtime(badge.due_at, obj.marketplace.tz)
        return format_html(
            '<span class="ws-badge ws-badge-{}" title="{}">{}</span>'
            '<br><span class="ws-muted">{} · {}</span>',
            badge.css,
            badge.status_label,
            badge.text,
            badge.clock_label,
            local.strftime("%Y-%m-%d %H:%M"),
        )

    @admin.display(description=_("opened"), ordering="opened_at")
    def opened_column(self, obj: Case) -> str:
        local = timezone.localtime(obj.opened_at, obj.marketplace.tz)
        return local.strftime("%Y-%m-%d")

    def changelist_view(self, request: Any, extra_context: dict[str, Any] | None = None) -> Any:
        query = request.GET.copy()
        for name in ("p", "e", "_changelist_filters"):  # the ordering ("o") is kept
            query.pop(name, None)
        context = {
            "title": _("Cases"),
            "save_view_form": SavedViewForm(initial={"query": query.urlencode()}),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    # -- case page -------------------------------------------------------------------------

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = CaseDetailsForm if obj is not None else CaseAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: Any, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": list(CaseAddForm.Meta.fields)})]
        return [
            (None, {"fields": ["assignee", "priority", "external_claim_id", "description"]}),
            (None, {"fields": ["expected_version"], "classes": ["hidden"]}),
            (_("Record"), {"fields": list(RECORD_FIELDS), "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        # ``state`` and the moments are the engine's: only transitions change them.
        return RECORD_FIELDS if obj is not None else ()

    def get_changeform_initial_data(self, request: Any) -> dict[str, Any]:
        return {"opened_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = staff_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request: Any, obj: Any = None) -> list[str]:
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    def save_model(self, request: Any, obj: Case, form: forms.ModelForm, change: bool) -> None:
        actor = Actor.for_user(request.user)
        data = form.cleaned_data
        try:
            if not change:
                order = data["order"]
                case, _created = case_open(
                    marketplace=order.marketplace,
                    order=order,
                    kind=data["kind"],
                    opened_at=data["opened_at"],
                    priority=data["priority"],
                    assignee=data["assignee"],
                    description=data["description"],
                    external_claim_id=data["external_claim_id"],
                    actor=actor,
                    door=Door.ADMIN,
                )
                obj.pk, obj.reference = case.pk, case.reference
                return
            details = {name: data[name] for name in EDITABLE_DETAILS if name in form.changed_data}
            if details:
                case_update_details(
                    case=obj.pk,
                    actor=actor,
                    door=Door.ADMIN,
                    expected_version=data["expected_version"],
                    **details,
                )
            if "assignee" in form.changed_data:
                case_assign(case=obj.pk, assignee=data["assignee"], actor=actor, door=Door.ADMIN)
        except DomainError as error:
            raise ServiceRefused(form, error) from error

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        """A case has no inline to save: its parts change through the case page's buttons."""

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def render_change_form(
        self,
        request: Any,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        if obj is not None and change:
            fresh = self.get_object(request, str(obj.pk))
            context["page"] = case_page(request, fresh)
            context["retry"] = case_actions.pop_retry(request, fresh)
            context["case"] = fresh
            context["reason_codes"] = RefundRejectionReason.choices
            context["rejection_reasons"] = RefundRejectionReason.choices
            context["audiences"] = Audience.choices
            context["show_save_and_add_another"] = False
            context["title"] = gettext("Case %(reference)s") % {"reference": fresh.reference}
            context["subtitle"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self) -> list[Any]:
        def wrap(handler: Any) -> Any:
            return self.admin_site.admin_view(case_actions.post_only(self, handler))

        return [
            path(
                "<int:object_id>/transition/",
                wrap(case_actions.transition),
                name="cases_case_transition",
            ),
            path(
                "<int:object_id>/assign-to-me/",
                wrap(case_actions.assign_to_me),
                name="cases_case_assign_to_me",
            ),
            path(
                "<int:object_id>/evidence/",
                wrap(case_actions.evidence_upload),
                name="cases_case_evidence_upload",
            ),
            path(
                "<int:object_id>/evidence/<int:evidence_pk>/review/",
                wrap(case_actions.evidence_review_view),
                name="cases_case_evidence_review",
            ),
            path(
                "<int:object_id>/evidence-requests/",
                wrap(case_actions.evidence_request_create_view),
                name="cases_case_evidence_request_create",
            ),
            path(
                "<int:object_id>/evidence-requests/<int:request_pk>/revoke/",
                wrap(case_actions.evidence_request_revoke_view),
                name="cases_case_evidence_request_revoke",
            ),
            path(
                "<int:object_id>/evidence-requests/<int:request_pk>/remind/",
                wrap(case_actions.evidence_request_remind_view),
                name="cases_case_evidence_request_remind",
            ),
            path(
                "<int:object_id>/refunds/",
                wrap(case_actions.refund_create_view),
                name="cases_case_refund_create",
            ),
            path(
                "<int:object_id>/refunds/<int:refund_pk>/decide/",
                wrap(case_actions.refund_decide_view),
                name="cases_case_refund_decide",
            ),
            path(
                "save-view/",
                self.admin_site.admin_view(self.save_view),
                name="cases_case_save_view",
            ),
            *super().get_urls(),
        ]

    def save_view(self, request: Any) -> Any:
        """Save the current list (filters, search, ordering) under a name, for the index."""
        from workspace.models import SavedView

        if request.method != "POST" or not request.user.has_perm("workspace.add_savedview"):
            return redirect("admin:cases_case_changelist")
        form = SavedViewForm(request.POST)
        changelist = reverse("admin:cases_case_changelist")
        if not form.is_valid():
            messages.error(request, gettext("Give the list a name to save it."))
            return HttpResponseRedirect(changelist)
        query = form.cleaned_data["query"]
        SavedView.objects.update_or_create(
            owner=request.user, name=form.cleaned_data["name"], defaults={"query": query}
        )
        messages.success(
            request,
            gettext("Saved as “%(name)s”: it is on the home page of the admin.")
            % {"name": form.cleaned_data["name"]},
        )
        return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)


# -- evidence, requests, refunds, audit: read-only lists ---------------------------------------


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


admin.site.site_header = _("aftersales · support workspace")
admin.site.site_title = _("aftersales")
admin.site.index_title = _("Work queues")
# The case list needs the width: its filters are on the right, the header links to the rest.
admin.site.enable_nav_sidebar = False
