"""The inbox (one list of conversations across marketplaces, most urgent first) and the
conversation page (the thread, the order and its cases, the composer).

Reads are ``messaging.selectors``; every change is a ``messaging.services`` call (cases change
through the kernel inside them). A refusal comes back as the service's own words, with what the
agent typed kept for the page it returns to (``workspace.inbox.composer_keep``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from cases.actors import Actor
from cases.choices import CaseKind, Door
from cases.errors import DomainError, ErrorCode
from cases.models import Case
from cases.services import case_note_add
from intake.reply_links import upload_link_maker
from marketplaces.models import Marketplace
from messaging.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from messaging.selectors import conversation_detail, inbox_counts, inbox_list
from messaging.services import (
    case_prefill_from_message,
    conversation_attach_case,
    conversation_mark_read,
    conversation_note_add,
    conversation_open_case,
    conversation_start,
    conversations_assign,
    conversations_set_status,
    message_set_no_response_needed,
    outbound_retry,
    reply_preview,
    reply_send,
    template_fill,
    templates_for,
)

from ..forms import staff_users
from ..inbox import (
    PAGE_SIZES,
    clock_badge,
    composer_keep,
    composer_pop,
    inbox_filters,
    inbox_lines,
)
from ..returns import AT_RISK_HOURS as RETURN_AT_RISK_HOURS
from ..returns import return_request_counts, return_requests_to_answer
from .returns import ANSWER_PERMISSION as RETURN_ANSWER_PERMISSION
from .returns import clock_badge as return_clock_badge

BULK_OPERATIONS = ("assign", "done", "spam", "to_do")
# The most urgent return requests answered from the inbox itself (the rest: their work list).
RETURNS_SHOWN = 5


def _actor(request: Any) -> Actor:
    return Actor.for_user(request.user)


def _back(request: Any, default: str) -> str:
    """Where a form returns to: its ``next`` when it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Not Django's change list: the inbox and the conversation page are the workspace's own
    views (the selectors order and filter them; the services change them)."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("", view(self.inbox_view), name="messaging_conversation_changelist"),
            path("bulk/", view(self.bulk_view), name="messaging_conversation_bulk"),
            path(
                "<int:object_id>/change/",
                view(self.conversation_view),
                name="messaging_conversation_change",
            ),
            path(
                "<int:object_id>/reply/",
                view(self.composer_view),
                name="messaging_conversation_reply",
            ),
            path(
                "case/<int:case_id>/note/",
                view(self.case_note_view),
                name="messaging_conversation_case_note",
            ),
            path(
                "case/<int:case_id>/write/",
                view(self.case_write_view),
                name="messaging_conversation_case_write",
            ),
            path(
                "<int:object_id>/act/",
                view(self.action_view),
                name="messaging_conversation_act",
            ),
        ]

    # -- the inbox -------------------------------------------------------------------------

    def inbox_view(self, request: Any) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        at = timezone.now()
        # The filter's choices only: no calendar is needed (the clocks are stored).
        marketplaces = list(Marketplace.objects.order_by("name").only("pk", "code", "name"))
        form, problems = inbox_filters(request, marketplaces)
        for problem in problems:
            messages.warning(request, problem)
        data = form.cleaned_data
        page_size = data.get("size") or 50
        page = inbox_list(
            at=at,
            page=data.get("p") or 1,
            page_size=page_size,
            **form.selector_filters(request.user),
        )
        rows = inbox_lines(page.rows)
        # The queue links' counts: one query for the conversations, one for the return
        # requests and one for the most urgent of these, whatever the page size.
        counts = inbox_counts(at=at, user=request.user)
        returns = None
        if request.user.has_perm("cases.view_returnrequest"):
            returns = {
                "counts": return_request_counts(at=at),
                "rows": [
                    (row, return_clock_badge(row, at=at))
                    for row in return_requests_to_answer(limit=RETURNS_SHOWN)
                ],
                "can_answer": request.user.has_perm(RETURN_ANSWER_PERMISSION),
                "url": reverse("admin:cases_returnrequest_changelist"),
                "at_risk_hours": RETURN_AT_RISK_HOURS,
            }
        query = request.GET.copy()
        query.pop("p", None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Inbox"),
            "opts": self.model._meta,
            "form": form,
            "rows": rows,
            "page": page,
            "query": query.urlencode(),
            "page_sizes": PAGE_SIZES,
            # Row links built by joining (one reverse per page, not per row).
            "change_url": reverse("admin:messaging_conversation_changelist"),
            "case_url": reverse("admin:cases_case_changelist"),
            "staff": list(staff_users()) if self.has_change_permission(request) else [],
            "can_change": self.has_change_permission(request),
            "now": at,
            "counts": counts,
            "returns": returns,
            "here": request.get_full_path(),
        }
        return TemplateResponse(request, "workspace/inbox.html", context)

    def bulk_view(self, request: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        inbox = reverse("admin:messaging_conversation_changelist")
        query = request.POST.get("query", "")
        back = f"{inbox}?{query}" if query else inbox
        ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
        operation = request.POST.get("operation", "")
        if not ids:
            messages.warning(request, _("Select the conversations first."))
            return HttpResponseRedirect(back)
        if operation not in BULK_OPERATIONS:
            messages.error(request, _("Choose what to do with the selected conversations."))
            return HttpResponseRedirect(back)
        actor = _actor(request)
        try:
            if operation == "assign":
                assignee = _assignee(request, request.POST.get("assignee", ""))
                changed = conversations_assign(conversations=ids, assignee=assignee, actor=actor)
            else:
                changed = conversations_set_status(conversations=ids, status=operation, actor=actor)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        messages.success(
            request,
            _("%(changed)d of %(selected)d conversations changed.")
            % {"changed": changed, "selected": len(ids)},
        )
        return HttpResponseRedirect(back)

    # -- one conversation --------------------------------------------------------------------

    def conversation_view(self, request: Any, object_id: int) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if self.has_change_permission(request):
            conversation_mark_read(conversation=object_id, actor=_actor(request))
        at = timezone.now()
        detail = conversation_detail(object_id, at=at)
        if detail is None:
            raise Http404
        conversation = detail.conversation
        inbound = [
            item.item
            for item in detail.thread
            if item.kind == "message" and item.item.direction == Direction.INBOUND
        ]
        prefill = None
        if inbound:
            # Its relations are the conversation's, already loaded: no query per message.
            last = inbound[-1]
            last.conversation = conversation
            if last.order_id in (None, conversation.order_id):
                last.order = conversation.order
            prefill = case_prefill_from_message(last)
        context = {
            **self.admin_site.each_context(request),
            "title": str(conversation),
            "opts": self.model._meta,
            "conversation": conversation,
            "detail": detail,
            "badge": clock_badge(detail.clock),
            "composer": composer_context(request, conversation),
            "can_change": self.has_change_permission(request),
            "staff": list(staff_users()),
            "statuses": [
                (value, label)
                for value, label in ConversationStatus.choices
                if value != ConversationStatus.UNREAD
            ],
            "kinds": CaseKind.choices,
            "prefill": prefill,
            "prefill_message": inbound[-1] if inbound else None,
            "inbox": reverse("admin:messaging_conversation_changelist"),
        }
        return TemplateResponse(request, "workspace/conversation.html", context)

    def _conversation_for_post(self, request: Any, object_id: int) -> Conversation:
        if not self.has_change_permission(request):
            raise PermissionDenied
        conversation = (
            Conversation.objects.select_related("marketplace", "order", "case")
            .filter(pk=object_id)
            .first()
        )
        if conversation is None:
            raise Http404
        return conversation

    def composer_view(self, request: Any, object_id: int) -> HttpResponse:
        """The composer's buttons: use a template, preview, send, or write an internal note."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        conversation = self._conversation_for_post(request, object_id)
        page = reverse("admin:messaging_conversation_change", args=[conversation.pk])
        back = f"{_back(request, page)}#composer-{conversation.pk}"
        actor = _actor(request)
        post = request.POST
        state: dict[str, Any] = {
            "mode": "note" if post.get("mode") == "note" else "reply",
            "body": post.get("body", ""),
            "subject": post.get("subject", ""),
            "is_html": post.get("is_html") == "on",
            "template": post.get("template", ""),
        }
        action = post.get("action", "send")
        files = request.FILES.getlist("attachments")
        try:
            if action == "template":
                template = next(
                    (t for t in templates_for(conversation) if str(t.pk) == state["template"]),
                    None,
                )
                if template is None:
                    raise DomainError(
                        ErrorCode.INVALID_VALUE, _("Choose a template from the list.")
                    )
                subject, body = template_fill(
                    template=template,
                    conversation=conversation,
                    actor=actor,
                    upload_link=upload_link_maker(actor=actor, door=Door.ADMIN),
                )
                missing = [*subject.missing, *body.missing]
                state.update(
                    mode="reply",
                    body=body.text,
                    subject=subject.text,
                    is_html=template.is_html,
                    missing=missing,
                )
            elif action == "preview":
                preview = reply_preview(
                    conversation=conversation,
                    body=state["body"],
                    is_html=state["is_html"],
                    attachment_count=len(files),
                )
                state["preview"] = {"text": preview.text, "is_html": preview.is_html}
                state["problems"] = [problem.message for problem in preview.problems]
            elif state["mode"] == "note":
                conversation_note_add(
                    conversation=conversation, text=state["body"], actor=actor, door=Door.ADMIN
                )
                messages.success(request, _("Internal note saved (it is never sent)."))
                return HttpResponseRedirect(back)
            else:
                template_id = state["template"]
                template = (
                    next((t for t in templates_for(conversation) if str(t.pk) == template_id), None)
                    if template_id
                    else None
                )
                outbound = reply_send(
                    conversation=conversation,
                    body=state["body"],
                    subject=state["subject"],
                    is_html=state["is_html"],
                    template=template,
                    attachments=files,
                    actor=actor,
                    door=Door.ADMIN,
                )
                messages.success(
                    request,
                    _("Reply queued in the outbox; it counts as answered when it has left."),
                )
                if outbound.is_html and not outbound.text_is_html:
                    messages.info(
                        request,
                        _("%(marketplace)s takes no HTML: the reply is sent as plain text.")
                        % {"marketplace": conversation.marketplace.name},
                    )
                return HttpResponseRedirect(back)
        except DomainError as error:
            state["error"] = error.message
            state["problems"] = [
                item.get("message", "") for item in error.details.get("errors", []) or []
            ] or [error.message]
            if files:
                state["problems"].append(
                    _("Attached files are not kept when a reply is refused: attach them again.")
                )
            messages.error(request, error.message)
        composer_keep(request, conversation.pk, state)
        return HttpResponseRedirect(back)

    def action_view(self, request: Any, object_id: int) -> HttpResponse:
        """The conversation's other buttons: assign, status, no response needed, open or
        attach a case, edit and retry a failed reply."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        conversation = self._conversation_for_post(request, object_id)
        page = reverse("admin:messaging_conversation_change", args=[conversation.pk])
        back = _back(request, page)
        actor = _actor(request)
        post = request.POST
        operation = post.get("operation", "")
        try:
            if operation == "assign":
                assignee = _assignee(request, post.get("assignee", ""))
                conversations_assign(
                    conversations=[conversation.pk], assignee=assignee, actor=actor
                )
                messages.success(request, _("Assignee changed."))
            elif operation == "status":
                conversations_set_status(
                    conversations=[conversation.pk], status=post.get("status", ""), actor=actor
                )
                messages.success(request, _("Status changed."))
            elif operation == "no_response":
                message = _message_of(conversation, post.get("message", ""))
                needed = post.get("value") != "0"
                message_set_no_response_needed(
                    message=message, actor=actor, no_response_needed=needed
                )
                messages.success(
                    request,
                    _("Marked “no response needed”: this message leaves the clock and the metric.")
                    if needed
                    else _("The message needs an answer again; its clock runs."),
                )
            elif operation == "open_case":
                message = _message_of(conversation, post.get("message", ""))
                kind = post.get("kind", "")
                if kind not in CaseKind.values:
                    raise DomainError(ErrorCode.REQUIRED, _("Choose the kind of case."))
                case = conversation_open_case(
                    conversation=conversation,
                    kind=kind,
                    actor=actor,
                    door=Door.ADMIN,
                    opened_at=message.received_at,
                    description=post.get("description", "")[:2000],
                )
                messages.success(
                    request,
                    _("Case %(reference)s opened; this conversation is filed on it.")
                    % {"reference": case.reference},
                )
                return HttpResponseRedirect(reverse("admin:cases_case_change", args=[case.pk]))
            elif operation == "attach_case":
                reference = post.get("case", "").strip()
                case = Case.objects.filter(reference__iexact=reference).first()
                if case is None:
                    raise DomainError(
                        ErrorCode.NOT_FOUND,
                        _("There is no case %(reference)s.") % {"reference": reference},
                    )
                conversation_attach_case(
                    conversation=conversation, case=case, actor=actor, door=Door.ADMIN
                )
                messages.success(
                    request,
                    _("Conversation filed on case %(reference)s.") % {"reference": case.reference},
                )
            elif operation == "retry":
                outbound_id = post.get("outbound", "")
                if (
                    not outbound_id.isdigit()
                    or not conversation.outbound_messages.filter(pk=int(outbound_id)).exists()
                ):
                    raise DomainError(
                        ErrorCode.NOT_FOUND, _("This reply is not in this conversation.")
                    )
                outbound_retry(
                    outbound=int(outbound_id),
                    actor=actor,
                    body=post.get("body", ""),
                    is_html=post.get("is_html") == "on",
                )
                messages.success(request, _("Reply queued again in the outbox."))
            else:
                messages.error(request, _("Unknown action."))
        except DomainError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(back)

    # -- from the case page -------------------------------------------------------------------

    def _case_for_post(self, request: Any, case_id: int) -> Case:
        if not self.has_change_permission(request) or not request.user.has_perm("cases.view_case"):
            raise PermissionDenied
        case = Case.objects.select_related("marketplace", "order").filter(pk=case_id).first()
        if case is None:
            raise Http404
        return case

    def case_note_view(self, request: Any, case_id: int) -> HttpResponse:
        """An internal note on a case with no conversation: in the case's history (kernel)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self._case_for_post(request, case_id)
        try:
            case_note_add(
                case=case.pk,
                text=(request.POST.get("text") or "").strip(),
                actor=_actor(request),
                door=Door.ADMIN,
            )
            messages.success(request, _("Internal note saved in the case's history."))
        except DomainError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(
            reverse("admin:cases_case_change", args=[case.pk]) + "#conversations"
        )

    def case_write_view(self, request: Any, case_id: int) -> HttpResponse:
        """The seller writes first (to warn of a delay, say); refused with the reason where the
        marketplace takes only replies."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self._case_for_post(request, case_id)
        try:
            conversation_start(
                marketplace=case.marketplace,
                body=request.POST.get("body", ""),
                subject=request.POST.get("subject", ""),
                actor=_actor(request),
                door=Door.ADMIN,
                order=case.order,
                case=case,
            )
            messages.success(
                request,
                _("Message queued in the outbox; a new conversation is filed on this case."),
            )
        except DomainError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(
            reverse("admin:cases_case_change", args=[case.pk]) + "#conversations"
        )


def _assignee(request: Any, value: str) -> Any:
    if value == "me":
        return request.user
    if value in ("", "none"):
        return None
    user = staff_users().filter(pk=int(value)).first() if value.isdigit() else None
    if user is None:
        raise DomainError(ErrorCode.INVALID_VALUE, _("Choose a member of the support team."))
    return user


def _message_of(conversation: Conversation, value: str) -> Message:
    message = (
        Message.objects.filter(conversation=conversation, pk=int(value)).first()
        if value.isdigit()
        else None
    )
    if message is None:
        raise DomainError(ErrorCode.NOT_FOUND, _("This message is not in this conversation."))
    return message


def composer_context(
    request: Any, conversation: Conversation, *, templates: list[Any] | None = None
) -> dict[str, Any]:
    """The composer of ``conversation``: its templates (``templates`` when the caller read
    them for several conversations at once), the marketplace's rules, and what was typed,
    previewed or refused just before (once)."""
    marketplace = conversation.marketplace
    state = composer_pop(request, conversation.pk) or {}
    return {
        "conversation": conversation,
        "templates": templates_for(conversation) if templates is None else templates,
        "state": state,
        "rules": {
            "html": marketplace.html_allowed,
            "attachments": marketplace.attachments_allowed,
            "max_length": marketplace.max_message_length,
            "write_first": marketplace.seller_may_write_first,
        },
        "action": reverse("admin:messaging_conversation_reply", args=[conversation.pk]),
    }
