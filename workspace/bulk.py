"""Bulk actions of the case list. Each runs the same service as the case page, one case at a
time (each in its own transaction: one refusal does not undo the others), and reports the cases
where it did not apply and why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cases import workflows
from cases.actors import Actor
from cases.choices import Door
from cases.errors import DomainError
from cases.models import Case
from cases.services import case_assign, case_available_transitions, case_transition
from cases.services.evidence_requests import (
    MESSAGE_REMINDER,
    active_customer_request,
    evidence_request_send_message,
)
from intake.emails import sender

from .forms import BulkAssignForm, BulkTransitionForm

# Refusals listed one by one up to this many; the rest are counted.
REPORT_LIMIT = 20


def bulk_limit() -> int:
    return int(settings.WORKSPACE_BULK_ACTION_LIMIT)


def _within_limit(model_admin: Any, request: Any, queryset: QuerySet) -> list[Case] | None:
    limit = bulk_limit()
    cases = list(queryset.select_related("marketplace", "order").order_by("pk")[: limit + 1])
    if len(cases) > limit:
        model_admin.message_user(
            request,
            _("Select at most %(limit)d cases for a bulk action (narrow the list with filters).")
            % {"limit": limit},
            messages.ERROR,
        )
        return None
    return cases


@dataclass
class Outcome:
    done: list[str]
    refused: list[tuple[str, str]]
    unchanged: list[str]


def _already(count: int, refs: str) -> str:
    return ngettext(
        "%(count)d case was already so: %(refs)s.",
        "%(count)d cases were already so: %(refs)s.",
        count,
    ) % {"count": count, "refs": refs}


def report(
    model_admin: Any,
    request: Any,
    outcome: Outcome,
    *,
    done: Callable[[int, str], str],
    unchanged: Callable[[int, str], str] = _already,
) -> None:
    """Tell the user what was done, what was already so, and what was refused and why."""
    if outcome.done:
        model_admin.message_user(
            request, done(len(outcome.done), ", ".join(outcome.done[:50])), messages.SUCCESS
        )
    if outcome.unchanged:
        model_admin.message_user(
            request,
            unchanged(len(outcome.unchanged), ", ".join(outcome.unchanged[:50])),
            messages.INFO,
        )
    for reference, reason in outcome.refused[:REPORT_LIMIT]:
        model_admin.message_user(
            request,
            _("%(ref)s not changed: %(reason)s") % {"ref": reference, "reason": reason},
            messages.WARNING,
        )
    if len(outcome.refused) > REPORT_LIMIT:
        reasons = Counter(reason for _ref, reason in outcome.refused[REPORT_LIMIT:])
        for reason, count in reasons.most_common():
            model_admin.message_user(
                request,
                ngettext(
                    "%(count)d more case not changed: %(reason)s",
                    "%(count)d more cases not changed: %(reason)s",
                    count,
                )
                % {"count": count, "reason": reason},
                messages.WARNING,
            )


def assign_cases(cases: list[Case], *, assignee: Any, actor: Actor) -> Outcome:
    outcome = Outcome([], [], [])
    target = assignee.pk if assignee is not None else None
    for case in cases:
        if case.assignee_id == target:
            outcome.unchanged.append(case.reference)
            continue
        try:
            case_assign(case=case.pk, assignee=assignee, actor=actor, door=Door.ADMIN)
        except DomainError as error:
            outcome.refused.append((case.reference, error.message))
            continue
        outcome.done.append(case.reference)
    return outcome


@admin.action(description=gettext_lazy("Assign to me"), permissions=["change"])
def assign_to_me(model_admin: Any, request: Any, queryset: QuerySet) -> None:
    cases = _within_limit(model_admin, request, queryset)
    if cases is None:
        return
    outcome = assign_cases(cases, assignee=request.user, actor=Actor.for_user(request.user))
    report(
        model_admin,
        request,
        outcome,
        done=lambda count, refs: (
            ngettext(
                "%(count)d case assigned to you: %(refs)s.",
                "%(count)d cases assigned to you: %(refs)s.",
                count,
            )
            % {"count": count, "refs": refs}
        ),
    )


@admin.action(description=gettext_lazy("Assign to someone…"), permissions=["change"])
def assign_to(model_admin: Any, request: Any, queryset: QuerySet) -> HttpResponse | None:
    cases = _within_limit(model_admin, request, queryset)
    if cases is None:
        return None
    if request.POST.get("apply"):
        form = BulkAssignForm(request.POST)
        if form.is_valid():
            assignee = form.cleaned_data["assignee"]
            outcome = assign_cases(cases, assignee=assignee, actor=Actor.for_user(request.user))
            name = assignee.get_username() if assignee else _("nobody")
            report(
                model_admin,
                request,
                outcome,
                done=lambda count, refs: (
                    ngettext(
                        "%(count)d case assigned to %(name)s: %(refs)s.",
                        "%(count)d cases assigned to %(name)s: %(refs)s.",
                        count,
                    )
                    % {"count": count, "refs": refs, "name": name}
                ),
            )
            return None
    else:
        form = BulkAssignForm()
    return _intermediate(
        model_admin,
        request,
        cases,
        form,
        action="assign_to",
        title=_("Assign cases"),
        template="workspace/bulk_assign.html",
    )


def remind_cases(cases: list[Case], *, actor: Actor) -> Outcome:
    """E-mail the customer of each case a reminder of its open evidence request (once per
    request, as the scheduled reminders)."""
    outcome = Outcome([], [], [])
    for case in cases:
        request = active_customer_request(case)
        if request is None:
            outcome.refused.append((case.reference, _("no open evidence request to the customer.")))
            continue
        if request.reminder_sent_at is not None:
            outcome.unchanged.append(case.reference)
            continue
        try:
            sent = evidence_request_send_message(
                evidence_request=request,
                kind=MESSAGE_REMINDER,
                send=sender(MESSAGE_REMINDER),
                actor=actor,
                door=Door.ADMIN,
            )
        except DomainError as error:
            outcome.refused.append((case.reference, error.message))
            continue
        except Exception as error:  # the mail server said no: the agent must know
            outcome.refused.append(
                (case.reference, _("the e-mail could not be sent (%(error)s).") % {"error": error})
            )
            continue
        if sent:
            outcome.done.append(case.reference)
        else:
            outcome.refused.append(
                (case.reference, _("the customer has no e-mail address, or the case is closed."))
            )
    return outcome


@admin.action(description=gettext_lazy("Send an evidence reminder"), permissions=["change"])
def send_evidence_reminder(model_admin: Any, request: Any, queryset: QuerySet) -> None:
    cases = _within_limit(model_admin, request, queryset)
    if cases is None:
        return
    outcome = remind_cases(cases, actor=Actor.for_user(request.user))
    report(
        model_admin,
        request,
        outcome,
        done=lambda count, refs: (
            ngettext(
                "Evidence reminder e-mailed for %(count)d case: %(refs)s.",
                "Evidence reminders e-mailed for %(count)d cases: %(refs)s.",
                count,
            )
            % {"count": count, "refs": refs}
        ),
        unchanged=lambda count, refs: (
            ngettext(
                "%(count)d case was already reminded: %(refs)s.",
                "%(count)d cases were already reminded: %(refs)s.",
                count,
            )
            % {"count": count, "refs": refs}
        ),
    )


@dataclass
class Applicability:
    name: str
    label: str
    cases: list[str]


def transition_applicability(cases: list[Case], actor: Actor) -> list[Applicability]:
    """Each transition available to ``actor`` on at least one of ``cases``, with those cases."""
    found: dict[str, list[str]] = {}
    for case in cases:
        for option in case_available_transitions(case, actor):
            found.setdefault(option.name, []).append(case.reference)
    ordered = [name for name in workflows.TRANSITIONS if name in found]
    return [
        Applicability(name, str(workflows.TRANSITIONS[name].label), found[name]) for name in ordered
    ]


def transition_cases(
    cases: list[Case], *, name: str, actor: Actor, note: str, reason: str, reason_code: str
) -> Outcome:
    outcome = Outcome([], [], [])
    for case in cases:
        try:
            case_transition(
                case=case.pk,
                transition=name,
                actor=actor,
                door=Door.ADMIN,
                note=note,
                reason=reason,
                reason_code=reason_code,
            )
        except DomainError as error:
            outcome.refused.append((case.reference, error.message))
            continue
        outcome.done.append(case.reference)
    return outcome


@admin.action(
    description=gettext_lazy("Apply a transition where it applies…"), permissions=["change"]
)
def apply_transition(model_admin: Any, request: Any, queryset: QuerySet) -> HttpResponse | None:
    cases = _within_limit(model_admin, request, queryset)
    if cases is None:
        return None
    actor = Actor.for_user(request.user)
    applicable = transition_applicability(cases, actor)
    if not applicable:
        model_admin.message_user(
            request,
            _("No transition is available to you on the selected cases."),
            messages.WARNING,
        )
        return None
    choices = [(item.name, f"{item.label} ({len(item.cases)}/{len(cases)})") for item in applicable]
    if request.POST.get("apply"):
        form = BulkTransitionForm(request.POST, transitions=choices)
        if form.is_valid():
            data = form.cleaned_data
            outcome = transition_cases(
                cases,
                name=data["transition"],
                actor=actor,
                note=data["note"],
                reason=data["reason"],
                reason_code=data["reason_code"],
            )
            label = workflows.TRANSITIONS[data["transition"]].label
            report(
                model_admin,
                request,
                outcome,
                done=lambda count, refs: (
                    ngettext(
                        "“%(label)s” done on %(count)d case: %(refs)s.",
                        "“%(label)s” done on %(count)d cases: %(refs)s.",
                        count,
                    )
                    % {"count": count, "refs": refs, "label": label}
                ),
            )
            return None
    else:
        form = BulkTransitionForm(transitions=choices)
    return _intermediate(
        model_admin,
        request,
        cases,
        form,
        action="apply_transition",
        title=_("Apply a transition"),
        template="workspace/bulk_transition.html",
        extra={"applicable": applicable},
    )


def _intermediate(
    model_admin: Any,
    request: Any,
    cases: list[Case],
    form: Any,
    *,
    action: str,
    title: str,
    template: str,
    extra: dict[str, Any] | None = None,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "cases": cases,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media,
        **(extra or {}),
    }
    return TemplateResponse(request, template, context)
