"""Return requests: the work list of unanswered requests, most urgent first, each with its
answer clock (Amazon: 48 hours, weekends included), and the answers (authorise, close, reject
with a reason) through ``cases.services.returns.return_request_answer``.

Imported by the marketplace connectors (``/api/v1/return-requests/``): nothing here creates or
edits a request; the only write is the answer, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from cases.actors import Actor
from cases.choices import Door, ReturnDecision
from cases.errors import DomainError
from cases.models import ReturnRequest
from cases.services.returns import return_request_answer

from ..counting import EstimatedCountPaginator
from ..returns import AT_RISK_HOURS, clock_q, unanswered_q
from .base import case_link

ANSWER_PERMISSION = "cases.change_returnrequest"


class AnswerFilter(admin.SimpleListFilter):
    """Unanswered requests unless asked otherwise: they are the work."""

    title = _("answer")
    parameter_name = "answered"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("Awaiting an answer")), ("yes", _("Answered")), ("all", _("All"))]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        value = self.value() or "no"
        if value == "no":
            return queryset.filter(unanswered_q())
        if value == "yes":
            return queryset.exclude(decision="")
        return queryset


class ClockFilter(admin.SimpleListFilter):
    title = _("answer clock")
    parameter_name = "clock"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("overdue", _("Overdue")),
            (
                "at_risk",
                ngettext("Due within %(hours)d hour", "Due within %(hours)d hours", AT_RISK_HOURS)
                % {"hours": AT_RISK_HOURS},
            ),
        ]

    def queryset(self, request: Any, queryset: QuerySet) -> QuerySet:
        condition = clock_q(self.value() or "", at=timezone.now())
        return queryset if condition is None else queryset.filter(condition)


def clock_badge(request_row: ReturnRequest, *, at: dt.datetime) -> str:
    """Time left or overdue by, for an unanswered request; the answer's timeliness otherwise."""
    due = request_row.response_due_at
    if request_row.decision:
        if due is None or request_row.responded_at is None:
            return ""
        on_time = request_row.responded_at <= due
        return format_html(
            '<span class="ws-badge ws-badge-{}">{}</span>',
            "on-track" if on_time else "overdue",
            _("answered in time") if on_time else _("answered late"),
        )
    if due is None:
        return format_html('<span class="ws-muted">{}</span>', _("no clock"))
    left = due - at
    hours = int(abs(left).total_seconds() // 3600)
    minutes = int(abs(left).total_seconds() // 60) % 60
    if left.total_seconds() < 0:
        css, text = (
            "overdue",
            gettext("overdue by %(hours)d h %(minutes)02d")
            % {
                "hours": hours,
                "minutes": minutes,
            },
        )
    else:
        css = "at-risk" if left <= dt.timedelta(hours=AT_RISK_HOURS) else "on-track"
        text = gettext("%(hours)d h %(minutes)02d left") % {"hours": hours, "minutes": minutes}
    local = timezone.localtime(due, request_row.marketplace.tz)
    return format_html(
        '<span class="ws-badge ws-badge-{}" title="{} ({})">{}</span>',
        css,
        local.strftime("%Y-%m-%d %H:%M"),
        request_row.marketplace.time_zone,
        text,
    )


def _answer_all(
    model_admin: Any, request: Any, queryset: QuerySet, decision: ReturnDecision
) -> None:
    if not request.user.has_perm(ANSWER_PERMISSION):
        raise PermissionDenied
    actor = Actor.for_user(request.user)
    done, refused = [], []
    for row in queryset.filter(decision="").order_by("pk")[:500]:
        try:
            return_request_answer(
                return_request=row.pk, decision=decision, actor=actor, door=Door.ADMIN
            )
            done.append(row.external_id)
        except DomainError as error:
            refused.append((row.external_id, error.message))
    if done:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d return request answered: %(ids)s.",
                "%(count)d return requests answered: %(ids)s.",
                len(done),
            )
            % {"count": len(done), "ids": ", ".join(done[:50])},
            messages.SUCCESS,
        )
    for external_id, reason in refused[:20]:
        model_admin.message_user(
            request,
            gettext("%(id)s not answered: %(reason)s") % {"id": external_id, "reason": reason},
            messages.WARNING,
        )


@admin.action(description=_("Authorise the selected returns"), permissions=["answer"])
def authorise(model_admin: Any, request: Any, queryset: QuerySet) -> None:
    _answer_all(model_admin, request, queryset, ReturnDecision.AUTHORIZED)


@admin.action(description=_("Close the selected requests (no return)"), permissions=["answer"])
def close(model_admin: Any, request: Any, queryset: QuerySet) -> None:
    _answer_all(model_admin, request, queryset, ReturnDecision.CLOSED)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    """The return requests work list; a request's page answers it (rejecting needs a reason)."""

    list_display = (
        "external_id",
        "marketplace",
        "order_column",
        "case_column",
        "requested_column",
        "clock_column",
        "reason_column",
        "decision",
        "answered_by_name",
    )
    list_filter = (AnswerFilter, ClockFilter, "marketplace", "decision")
    list_select_related = ("marketplace", "order", "case")
    search_fields = ("=external_id", "=order__external_id", "=case__reference")
    # The most urgent answer first; requests without a clock last.
    ordering = (F("response_due_at").asc(nulls_last=True), "requested_at", "pk")
    actions = (authorise, close)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    change_form_template = "workspace/return_request_form.html"
    readonly_fields = (
        "external_id",
        "marketplace",
        "order",
        "case",
        "requested_at",
        "is_valid",
        "customer_reason",
        "response_due_at",
        "responded_at",
        "decision",
        "rejection_reason",
        "answered_by_name",
        "rejection_overturned_at",
        "negative_feedback_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: Any) -> bool:
        return False  # the connectors import them

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        # Nothing is edited by hand: the page shows the request and its answer buttons.
        return False

    def has_answer_permission(self, request: Any) -> bool:
        return request.user.has_perm(ANSWER_PERMISSION)

    @admin.display(description=_("order"), ordering="order__external_id")
    def order_column(self, obj: ReturnRequest) -> str:
        return format_html('<span class="ws-clip" title="{0}">{0}</span>', obj.order.external_id)

    @admin.display(description=_("case"), ordering="case__reference")
    def case_column(self, obj: ReturnRequest) -> str:
        return case_link(obj.case) if obj.case is not None else "—"

    @admin.display(description=_("requested at"), ordering="requested_at")
    def requested_column(self, obj: ReturnRequest) -> str:
        return timezone.localtime(obj.requested_at, obj.marketplace.tz).strftime("%Y-%m-%d %H:%M")

    @admin.display(
        description=_("answer clock"), ordering=F("response_due_at").asc(nulls_last=True)
    )
    def clock_column(self, obj: ReturnRequest) -> str:
        return clock_badge(obj, at=timezone.now())

    @admin.display(description=_("the customer's reason"))
    def reason_column(self, obj: ReturnRequest) -> str:
        text = obj.customer_reason or "—"
        return format_html('<span class="ws-clip ws-clip-wide" title="{0}">{0}</span>', text)

    def change_view(
        self, request: Any, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        obj = self.get_object(request, object_id)
        context = {
            "return_request": obj,
            "can_answer": obj is not None
            and not obj.decision
            and self.has_answer_permission(request),
            "clock": clock_badge(obj, at=timezone.now()) if obj is not None else "",
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:object_id>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="cases_returnrequest_answer",
            ),
            *super().get_urls(),
        ]

    def answer_view(self, request: Any, object_id: int) -> Any:
        """Authorise, close or reject (with a reason) one return request."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_answer_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, str(object_id))
        if obj is None:
            raise Http404
        page = _back(request, reverse("admin:cases_returnrequest_change", args=[obj.pk]))
        decision = request.POST.get("decision", "")
        if decision not in ReturnDecision.values:
            messages.error(
                request,
                gettext("Choose an answer: authorise, close, refund without a return or reject."),
            )
            return HttpResponseRedirect(page)
        try:
            answered = return_request_answer(
                return_request=obj.pk,
                decision=decision,
                reason=request.POST.get("reason", ""),
                actor=Actor.for_user(request.user),
                door=Door.ADMIN,
            )
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(page)
        messages.success(
            request,
            gettext("Return request %(id)s: %(decision)s.")
            % {"id": answered.external_id, "decision": answered.get_decision_display().lower()},
        )
        return HttpResponseRedirect(_back(request, reverse("admin:cases_returnrequest_changelist")))


def _back(request: Any, default: str) -> str:
    """Where an answer returns to: its ``next`` (the inbox, say) when it is a page of this
    site, ``default`` otherwise."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
