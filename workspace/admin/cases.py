"""The case list agents work from, and the case page with its transition buttons, evidence
gallery, evidence requests, refund decisions and timeline.

Every change goes through ``cases.services`` (the admin never saves a case, an order, a file or a
decision itself); a refusal is shown in the service's own words. The pieces are the
workspace's own modules: filters, deadline windows, the case page, bulk actions, counting.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.actors import Actor
from cases.choices import (
    TERMINAL_STATES,
    Audience,
    CaseKind,
    CaseState,
    Door,
    Priority,
    RefundRejectionReason,
)
from cases.errors import DomainError
from cases.models import Case
from cases.selectors import case_list
from cases.services import case_assign, case_open, case_update_details
from cases.services.cases import EDITABLE_DETAILS

from .. import bulk, case_actions
from ..case_page import case_page
from ..changelist import CaseChangeList, list_total
from ..counting import EstimatedCountPaginator
from ..filters import (
    AssigneeFilter,
    DueFilter,
    KindFilter,
    MarketplaceFilter,
    OpenedBetweenFilter,
    PriorityFilter,
    RefundFilter,
    StateFilter,
    StatusFilter,
)
from ..forms import SavedViewForm, staff_users
from ..labels import choice_labels
from ..models import SavedView
from ..next_case import FILTERS_VAR, next_case, remember_list
from ..search import case_search_q
from ..urgency import next_deadline_badge
from .base import ServiceFormAdmin, ServiceRefused


def clip(text: str) -> str:
    """A value kept on one line: cut with an ellipsis when too long, whole in its title (an
    order id or an e-mail is never broken mid-word)."""
    return format_html('<span class="ws-clip" title="{}">{}</span>', text, text)


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
    "review_due_at",
    "refund_decision_due_at",
    "next_due_at",
    "version",
)


# Words written on every row of the list, translated once per language (``workspace.labels``).
_ROW_LABELS = {
    "select": _("Select this object for an action - {}"),
    "unassigned": _("unassigned"),
    "none": _("none"),
}


@admin.register(Case)
class CaseAdmin(ServiceFormAdmin):
    list_display = (
        "reference",
        "marketplace_column",
        "kind_column",
        "state_column",
        "priority_column",
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
        PriorityFilter,
        OpenedBetweenFilter,
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
        queryset = case_list(with_marketplace=True)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_changelist(self, request: Any, **kwargs: Any) -> Any:
        return CaseChangeList

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> Any:
        condition = case_search_q(search_term)
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False

    def action_checkbox(self, obj: Case) -> SafeString:  # Django's type
        # Django's own, with its label taken from the page's table instead of translated per row.
        label = choice_labels(_ROW_LABELS)["select"]
        checkbox = forms.CheckboxInput(
            {"class": "action-select", "aria-label": format_html(label, str(obj))},
            lambda value: False,
        )
        return checkbox.render(ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.display(description=_("marketplace"), ordering="marketplace__name")
    def marketplace_column(self, obj: Case) -> str:
        return clip(obj.marketplace.name)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_column(self, obj: Case) -> str:
        return clip(choice_labels(CaseKind).get(obj.kind, obj.kind))

    @admin.display(description=_("state"), ordering="state")
    def state_column(self, obj: Case) -> str:
        css = "closed" if obj.state in TERMINAL_STATES else obj.state
        return format_html(
            '<span class="ws-state ws-state-{}" title="{}">{}</span>{}',
            css,
            choice_labels(CaseState).get(obj.state, obj.state),
            choice_labels(CaseState).get(obj.state, obj.state),
            format_html(' <span class="ws-flag" title="{}">⚑</span>', _("Escalated"))
            if obj.escalated
            else "",
        )

    @admin.display(description=_("priority"), ordering="-priority")
    def priority_column(self, obj: Case) -> str:
        return format_html(
            '<span class="ws-priority ws-priority-{}">{}</span>',
            obj.priority,
            choice_labels(Priority).get(obj.priority, str(obj.priority)),
        )

    @admin.display(description=_("order"))
    def order_column(self, obj: Case) -> str:
        return clip(obj.order.external_id)

    @admin.display(description=_("customer"))
    def customer_column(self, obj: Case) -> str:
        order = obj.order
        name = order.customer_name or "—"
        if not order.customer_email:
            return clip(name)
        # One line: the name, then the e-mail, cut with an ellipsis (the title has both).
        return format_html(
            '<span class="ws-clip ws-clip-wide" title="{} · {}">{} · '
            '<span class="ws-muted">{}</span></span>',
            name,
            order.customer_email,
            name,
            order.customer_email,
        )

    @admin.display(description=_("assignee"), ordering="assignee__username")
    def assignee_column(self, obj: Case) -> str:
        if obj.assignee is None:
            return format_html(
                '<span class="ws-muted">{}</span>', choice_labels(_ROW_LABELS)["unassigned"]
            )
        return clip(obj.assignee.get_full_name() or obj.assignee.get_username())

    @admin.display(description=_("next deadline"), ordering=F("next_due_at").asc(nulls_last=True))
    def deadline_column(self, obj: Case) -> str:
        badge = next_deadline_badge(obj, at=timezone.now())
        if badge is None:
            return format_html(
                '<span class="ws-muted">{}</span>', choice_labels(_ROW_LABELS)["none"]
            )
        local = timezone.localtime(badge.due_at, obj.marketplace.tz)
        # The badge says how urgent; its title which clock and when, in the marketplace's time.
        return format_html(
            '<span class="ws-badge ws-badge-{}" title="{} · {} · {} ({})">{}</span>',
            badge.css,
            badge.status_label,
            badge.clock_label,
            local.strftime("%Y-%m-%d %H:%M"),
            obj.marketplace.time_zone,
            badge.text,
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
        response = super().changelist_view(request, context)
        if request.method == "GET" and response.status_code == 200:
            remember_list(request)
        context_data: dict[str, Any] | None = getattr(response, "context_data", None)
        changelist = (context_data or {}).get("cl")
        if context_data is not None and changelist is not None:
            # Django words "0 of N selected" with the paginator's count: say an estimate is one.
            total = list_total(changelist)
            context_data["selection_note"] = ngettext(
                "0 of %(total)s selected", "0 of %(total)s selected", changelist.result_count
            ) % {"total": total.text}
        return response

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

    def get_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return tuple(flatten_fieldsets(self.get_fieldsets(request, obj)))

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

    def render_change_form(  # noqa: PLR0917 (Django's signature)
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
            if fresh is None:  # it was just shown or saved: only a concurrent delete gets here
                raise Http404
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
                "<int:object_id>/pack/",
                wrap(case_actions.pack_download),
                name="cases_case_pack",
            ),
            path(
                "<int:object_id>/next/",
                self.admin_site.admin_view(self.next_case_view),
                name="cases_case_next",
            ),
            path(
                "save-view/",
                self.admin_site.admin_view(self.save_view),
                name="cases_case_save_view",
            ),
            *super().get_urls(),
        ]

    def next_case_view(self, request: Any, object_id: int) -> Any:
        """Open the next case of the list the agent came from (see ``workspace.next_case``)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        found = next_case(self, request, object_id)
        if found is None:
            messages.info(request, gettext("That was the last case of the list."))
            changelist = reverse("admin:cases_case_changelist")
            query = request.GET.get(FILTERS_VAR, "")
            return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)
        change = reverse("admin:cases_case_change", args=[found.pk])
        return HttpResponseRedirect(f"{change}?{urlencode({FILTERS_VAR: found.query})}")

    def save_view(self, request: Any) -> Any:
        """Save the current list (filters, search, ordering) under a name, for the index."""
        if request.method != "POST" or not request.user.has_perm("workspace.add_savedview"):
            return redirect("admin:cases_case_changelist")
        form = SavedViewForm(request.POST)
        changelist = reverse("admin:cases_case_changelist")
        if not form.is_valid():
            messages.error(request, gettext("Give the list a name to save it."))
            return HttpResponseRedirect(changelist)
        query = form.cleaned_data["query"]
        shared = form.cleaned_data["shared"]
        SavedView.objects.update_or_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            defaults={"query": query, "shared": shared},
        )
        messages.success(
            request,
            (
                gettext("Saved as “%(name)s” and shared: it is on the team's home pages.")
                if shared
                else gettext("Saved as “%(name)s”: it is on the home page of the admin.")
            )
            % {"name": form.cleaned_data["name"]},
        )
        return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)
