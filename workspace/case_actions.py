"""What the buttons of the case page do. Each handler checks the user's right, reads its form,
and calls one service; a refusal comes back as the service's own words, never as a 500.

When a service refuses, the form's data is kept for one page view (the session's
``workspace_retry``), so the case page opens the same form again with what was typed and the
reason it was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from cases import workflows
from cases.actors import Actor
from cases.choices import Door, EvidenceSource, RefundDecision
from cases.errors import DomainError
from cases.models import Case
from cases.selectors import case_evidence, case_evidence_request, case_refund_request
from cases.services import (
    case_assign,
    case_transition,
    evidence_add,
    evidence_request_create,
    evidence_request_revoke,
    evidence_review,
    refund_decide,
    refund_request_create,
)
from cases.services.evidence_requests import MESSAGE_REMINDER, evidence_request_send_message
from intake.emails import sender

from .forms import (
    REVIEW_CHOICES,
    EvidenceRequestForm,
    EvidenceReviewForm,
    EvidenceUploadForm,
    RefundDecisionForm,
    RefundRequestForm,
    TransitionForm,
)

RETRY_KEY = "workspace_retry"
Handler = Callable[..., HttpResponse]


def case_url(case: Case, anchor: str = "") -> str:
    url = reverse("admin:cases_case_change", args=[case.pk])
    return f"{url}#{anchor}" if anchor else url


def _back(case: Case, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(case_url(case, anchor))


def _keep_for_retry(request: Any, case: Case, key: str, message: str, field: str = "") -> None:
    data = {name: value for name, value in request.POST.items() if name != "csrfmiddlewaretoken"}
    request.session[RETRY_KEY] = {
        "case": case.pk,
        "key": key,
        "data": data,
        "error": message,
        "field": field or "",
    }


def pop_retry(request: Any, case: Case) -> dict[str, Any] | None:
    """The refused form to show again on this case's page, once."""
    retry = request.session.pop(RETRY_KEY, None)
    if retry and retry.get("case") == case.pk:
        return retry
    return None


def _refused(  # noqa: PLR0917
    request: Any, case: Case, key: str, anchor: str, error: DomainError | str, field: str = ""
) -> HttpResponseRedirect:
    message = error.message if isinstance(error, DomainError) else str(error)
    field = (error.field or "") if isinstance(error, DomainError) else field
    messages.error(request, message)
    _keep_for_retry(request, case, key, message, field)
    return _back(case, anchor)


def _form_error(form: Any) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


def _require(request: Any, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _actor(request: Any) -> Actor:
    return Actor.for_user(request.user)


# -- handlers ----------------------------------------------------------------------------------


def transition(request: Any, case: Case) -> HttpResponse:
    _require(request, "cases.change_case")
    name = request.POST.get("transition", "")
    key = f"transition:{name}"
    form = TransitionForm(request.POST, case=case)
    if not form.is_valid():
        return _refused(request, case, key, "actions", _form_error(form))
    data = form.cleaned_data
    spec = workflows.TRANSITIONS.get(name)
    try:
        updated = case_transition(
            case=case.pk,
            transition=name,
            actor=_actor(request),
            door=Door.ADMIN,
            occurred_at=data["occurred_at"],
            note=data["note"],
            reason=data["reason"],
            reason_code=data["reason_code"],
            expected_version=data["version"],
        )
    except DomainError as error:
        return _refused(request, case, key, "actions", error)
    messages.success(
        request,
        _("%(ref)s: “%(label)s” done; the case is now %(state)s.")
        % {
            "ref": updated.reference,
            "label": spec.label if spec else name,
            "state": updated.get_state_display(),
        },
    )
    return _back(case)


def pack_download(request: Any, case: Case) -> HttpResponse:
    """The case's dispute pack, in the language chosen (its SHA-256 goes to the history)."""
    from packs.build import LANGUAGES, pack_build

    _require(request, "cases.view_case")
    language = request.POST.get("language", "")
    if language not in LANGUAGES:
        messages.error(request, _("Choose the pack's language: English, French or Chinese."))
        return _back(case)
    pack = pack_build(
        case=case,
        language=language,
        include_internal_notes=request.POST.get("internal_notes") == "1",
        actor=_actor(request),
        door=Door.ADMIN,
    )
    response = HttpResponse(pack.data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    response["X-Pack-SHA256"] = pack.sha256
    return response


def assign_to_me(request: Any, case: Case) -> HttpResponse:
    _require(request, "cases.change_case")
    try:
        case_assign(case=case.pk, assignee=request.user, actor=_actor(request), door=Door.ADMIN)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(case)
    messages.success(request, _("%(ref)s is now assigned to you.") % {"ref": case.reference})
    return _back(case)


def evidence_upload(request: Any, case: Case) -> HttpResponse:
    _require(request, "cases.add_evidence")
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back(case, "evidence")
    added: list[str] = []
    duplicates: list[str] = []
    for upload in form.cleaned_data["files"]:
        try:
            result = evidence_add(
                case=case,
                upload=upload,
                source=EvidenceSource.STAFF,
                actor=_actor(request),
                door=Door.ADMIN,
            )
        except DomainError as error:
            messages.error(request, error.message)
            continue
        (duplicates if result.duplicate else added).append(result.evidence.original_name)
    if added:
        messages.success(
            request, _("Added: %(names)s.") % {"names": ", ".join(f"“{n}”" for n in added)}
        )
    if duplicates:
        messages.warning(
            request,
            _("Already on this case, not added again: %(names)s.")
            % {"names": ", ".join(f"“{n}”" for n in duplicates)},
        )
    return _back(case, "evidence")


def evidence_review_view(request: Any, case: Case, evidence_pk: int) -> HttpResponse:
    _require(request, "cases.change_evidence")
    item = case_evidence(case=case, pk=evidence_pk)
    if item is None:
        raise Http404
    key = f"review:{item.pk}"
    form = EvidenceReviewForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, key, f"evidence-{item.pk}", _form_error(form))
    try:
        evidence_review(
            evidence=item.pk,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            actor=_actor(request),
            door=Door.ADMIN,
        )
    except DomainError as error:
        return _refused(request, case, key, f"evidence-{item.pk}", error)
    messages.success(
        request,
        _("“%(name)s” marked %(status)s.")
        % {
            "name": item.original_name,
            "status": dict(REVIEW_CHOICES)[form.cleaned_data["status"]].lower(),
        },
    )
    return _back(case, f"evidence-{item.pk}")


def evidence_request_create_view(request: Any, case: Case) -> HttpResponse:
    _require(request, "cases.add_evidencerequest")
    key = "request:new"
    form = EvidenceRequestForm(request.POST, case=case)
    if not form.is_valid():
        return _refused(request, case, key, "requests", _form_error(form))
    try:
        evidence_request_create(
            case=case,
            actor=_actor(request),
            door=Door.ADMIN,
            audience=form.cleaned_data["audience"],
            message=form.cleaned_data["message"],
            due_at=form.cleaned_data["due_at"],
        )
    except DomainError as error:
        return _refused(request, case, key, "requests", error)
    messages.success(request, _("Evidence request created: copy its link below."))
    return _back(case, "requests")


def evidence_request_revoke_view(request: Any, case: Case, request_pk: int) -> HttpResponse:
    _require(request, "cases.change_evidencerequest")
    item = case_evidence_request(case=case, pk=request_pk)
    if item is None:
        raise Http404
    try:
        evidence_request_revoke(evidence_request=item.pk, actor=_actor(request), door=Door.ADMIN)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(case, "requests")
    messages.success(request, _("The link was revoked: it no longer opens the upload form."))
    return _back(case, "requests")


def evidence_request_remind_view(request: Any, case: Case, request_pk: int) -> HttpResponse:
    _require(request, "cases.change_evidencerequest")
    item = case_evidence_request(case=case, pk=request_pk)
    if item is None:
        raise Http404
    try:
        sent = evidence_request_send_message(
            evidence_request=item.pk,
            kind=MESSAGE_REMINDER,
            send=sender(MESSAGE_REMINDER),
            actor=_actor(request),
            door=Door.ADMIN,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(case, "requests")
    except Exception as error:  # the mail server refused: say so, nothing was recorded
        messages.error(request, _("The e-mail could not be sent (%(error)s).") % {"error": error})
        return _back(case, "requests")
    if sent:
        messages.success(request, _("Reminder e-mailed to the customer."))
    else:
        messages.warning(
            request,
            _("No reminder sent: one was sent already, or the customer has no e-mail address."),
        )
    return _back(case, "requests")


def refund_create_view(request: Any, case: Case) -> HttpResponse:
    _require(request, "cases.add_refundrequest")
    key = "refund:new"
    form = RefundRequestForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, key, "refunds", _form_error(form))
    try:
        refund_request_create(
            case=case,
            amount=form.cleaned_data["amount"],
            currency=form.cleaned_data["currency"],
            actor=_actor(request),
            door=Door.ADMIN,
        )
    except DomainError as error:
        return _refused(request, case, key, "refunds", error)
    messages.success(request, _("Refund request recorded."))
    return _back(case, "refunds")


def refund_decide_view(request: Any, case: Case, refund_pk: int) -> HttpResponse:
    _require(request, "cases.change_refundrequest")
    refund = case_refund_request(case=case, pk=refund_pk)
    if refund is None:
        raise Http404
    decision = request.POST.get("decision", "")
    if decision == RefundDecision.REJECTED:
        _require(request, workflows.SUPERVISE_REJECT_REFUND)
    key = f"refund:{refund.pk}:{decision}"
    form = RefundDecisionForm(request.POST)
    if not form.is_valid():
        return _refused(request, case, key, f"refund-{refund.pk}", _form_error(form))
    data = form.cleaned_data
    try:
        decided = refund_decide(
            refund_request=refund.pk,
            decision=data["decision"],
            approved_amount=data["approved_amount"],
            reason_code=data["reason_code"],
            note=data["note"],
            actor=_actor(request),
            door=Door.ADMIN,
            expected_version=data["version"],
        )
    except DomainError as error:
        return _refused(request, case, key, f"refund-{refund.pk}", error)
    messages.success(
        request,
        _("Refund request of %(amount)s %(currency)s: %(decision)s.")
        % {
            "amount": decided.amount,
            "currency": decided.currency,
            "decision": decided.get_decision_display().lower(),
        },
    )
    return _back(case, "refunds")


def post_only(model_admin: Any, handler: Handler) -> Callable[..., HttpResponse]:
    """Wrap a handler as an admin view on one case: POST only, the case must be visible to the
    user through the admin's queryset."""

    def view(request: Any, object_id: str, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = model_admin.get_object(request, object_id)
        if case is None:
            raise Http404
        if not model_admin.has_change_permission(request, case):
            raise PermissionDenied
        return handler(request, case, **kwargs)

    return view
