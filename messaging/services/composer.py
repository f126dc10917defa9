"""The composer: what an agent writes in a conversation becomes a reply in the outbox, checked
against the marketplace's content rules at compose (the preview) and again at send.

* ``template_fill``: a template's text with the conversation's order and case filled in
  (``messaging.templates``), and the placeholders that have no value.
* ``reply_preview``: the reply as the marketplace will show it (plain text where it takes no
  HTML) and every reason it cannot be sent yet (placeholders without a value, attachments
  where none are taken, too long, a conversation the seller may not start).
* ``reply_send``: the same checks, then an ``OutboundMessage`` queued in the outbox (with its
  attachments); on commit, the e-mail task is queued where the marketplace's replies are
  e-mailed by the system, and ``messaging.signals.outbound_queued`` is sent (webhooks).
* ``conversation_start``: a conversation the seller opens (refused where the marketplace takes
  only replies), with its first message queued.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.actors import Actor
from cases.choices import Door
from cases.errors import ErrorCode
from cases.models import Case, Order
from marketplaces.models import Marketplace

from ..content import ContentProblem, content_check
from ..errors import MessagingRefused
from ..models import (
    Conversation,
    ConversationStatus,
    Counterpart,
    Direction,
    MessageChannel,
    MessageTemplate,
    OutboundAttachment,
    OutboundMessage,
    OutboxStatus,
    Topic,
)
from ..signals import outbound_queued
from ..templates import Filled, TemplateContext, UploadLink, fill, unfilled

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
EMAIL_TASK = "messaging.tasks.send_outbound_email"
_CODES = {
    "attachments_refused": ErrorCode.ATTACHMENTS_REFUSED,
    "too_long": ErrorCode.MESSAGE_TOO_LONG,
    "seller_may_not_write_first": ErrorCode.SELLER_MAY_NOT_WRITE_FIRST,
    "empty": ErrorCode.REQUIRED,
    "placeholder_missing": ErrorCode.PLACEHOLDER_MISSING,
}


@dataclass(frozen=True)
class ReplyPreview:
    """A reply as the marketplace will receive it, and why it cannot be sent yet."""

    text: str
    is_html: bool
    problems: tuple[ContentProblem, ...]

    @property
    def sendable(self) -> bool:
        return not self.problems


def _context(
    conversation: Conversation, *, actor: Actor | None, upload_link: UploadLink | None
) -> TemplateContext:
    agent = ""
    if actor is not None:
        user = actor.user
        agent = (user.get_full_name() or user.get_username()) if user is not None else actor.name
    return TemplateContext(
        marketplace=conversation.marketplace,
        order=conversation.order,
        case=conversation.case,
        language=conversation.language,
        agent_name=agent,
        upload_link=upload_link,
    )


def template_fill(
    *,
    template: MessageTemplate,
    conversation: Conversation,
    actor: Actor | None = None,
    upload_link: UploadLink | None = None,
) -> tuple[Filled, Filled]:
    """(subject, body) of ``template`` filled for ``conversation``; each lists its missing
    placeholders. ``upload_link(case)`` makes the upload link when the template uses one."""
    context = _context(conversation, actor=actor, upload_link=upload_link)
    return fill(template.subject, context), fill(template.body, context, html=template.is_html)


def templates_for(conversation: Conversation) -> list[MessageTemplate]:
    """The active templates offered in ``conversation``: its marketplace's and those for every
    marketplace, its language first."""
    return templates_for_each([conversation])[conversation.pk]


def templates_for_each(conversations: Sequence[Conversation]) -> dict[int, list[MessageTemplate]]:
    """``templates_for`` of each conversation (by its id), in one query whatever their number
    (a case page shows a composer per conversation)."""
    if not conversations:
        return {}
    marketplace_ids = sorted({c.marketplace_id for c in conversations})
    rows = list(
        MessageTemplate.objects.filter(is_active=True).filter(
            Q(marketplace_id__in=marketplace_ids) | Q(marketplace__isnull=True)
        )
    )
    offered = {}
    for conversation in conversations:
        language = conversation.language
        offered[conversation.pk] = sorted(
            (t for t in rows if t.marketplace_id in (None, conversation.marketplace_id)),
            key=lambda t: (t.language != language, t.name, t.marketplace_id is None),
        )
    return offered


def _problems(
    marketplace: Marketplace,
    body: str,
    *,
    is_html: bool,
    attachment_count: int,
    starts_conversation: bool,
) -> ReplyPreview:
    rendition = content_check(
        marketplace,
        body,
        is_html=is_html,
        attachment_count=attachment_count,
        starts_conversation=starts_conversation,
    )
    problems = list(rendition.problems)
    missing = unfilled(body)
    if missing:
        problems.insert(
            0,
            ContentProblem(
                "placeholder_missing",
                "body",
                _("These placeholders have no value: %(names)s. Fill them in or remove them.")
                % {"names": ", ".join(missing)},
            ),
        )
    return ReplyPreview(rendition.text, rendition.is_html, tuple(problems))


def reply_preview(
    *,
    conversation: Conversation,
    body: str,
    is_html: bool = False,
    attachment_count: int = 0,
) -> ReplyPreview:
    """The reply as ``conversation``'s marketplace will show it, with what blocks sending."""
    return _problems(
        conversation.marketplace,
        body,
        is_html=is_html,
        attachment_count=attachment_count,
        starts_conversation=_starts(conversation),
    )


def _starts(conversation: Conversation) -> bool:
    """A reply in a conversation the counterpart has not written in starts it."""
    if conversation.pk is None:
        return True
    return not conversation.messages.filter(direction=Direction.INBOUND).exists()


def _refuse(preview: ReplyPreview) -> None:
    first = preview.problems[0]
    raise MessagingRefused(
        _CODES.get(first.code, ErrorCode.INVALID_VALUE),
        first.message,
        field=first.field,
        errors=[
            {"field": problem.field, "code": problem.code, "message": problem.message}
            for problem in preview.problems
        ],
    )


def _check_files(files: Sequence[Any]) -> None:
    for upload in files:
        if getattr(upload, "size", 0) > MAX_ATTACHMENT_BYTES:
            raise MessagingRefused(
                ErrorCode.FILE_TOO_LARGE,
                _("%(name)s is larger than %(max)d MB.")
                % {"name": upload.name, "max": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
                field="attachments",
            )


def reply_send(
    *,
    conversation: Conversation | int,
    body: str,
    actor: Actor,
    door: Door,
    is_html: bool = False,
    subject: str = "",
    template: MessageTemplate | None = None,
    attachments: Sequence[Any] = (),
    at: dt.datetime | None = None,
) -> OutboundMessage:
    """Queue a reply in the outbox. Refused (``MessagingRefused``, nothing written) when a
    placeholder has no value, the marketplace takes no attachments and some are given, the
    text is over its limit, or the conversation would be started where the seller may not."""
    pk = conversation if isinstance(conversation, int) else conversation.pk
    found = Conversation.objects.select_related("marketplace", "order", "case").get(pk=pk)
    return _queue(
        found,
        body=body,
        actor=actor,
        is_html=is_html,
        subject=subject,
        template=template,
        attachments=attachments,
        at=at,
    )


def _queue(
    conversation: Conversation,
    *,
    body: str,
    actor: Actor,
    is_html: bool,
    subject: str,
    template: MessageTemplate | None,
    attachments: Sequence[Any],
    at: dt.datetime | None,
    starts: bool | None = None,
) -> OutboundMessage:
    marketplace = conversation.marketplace
    preview = _problems(
        marketplace,
        body,
        is_html=is_html,
        attachment_count=len(attachments),
        starts_conversation=_starts(conversation) if starts is None else starts,
    )
    if unfilled(subject):
        preview = ReplyPreview(
            preview.text,
            preview.is_html,
            (
                ContentProblem(
                    "placeholder_missing",
                    "subject",
                    _("These placeholders have no value: %(names)s. Fill them in or remove them.")
                    % {"names": ", ".join(unfilled(subject))},
                ),
                *preview.problems,
            ),
        )
    if not preview.sendable:
        _refuse(preview)
    _check_files(attachments)
    by_email = marketplace.send_replies_by_email and conversation.channel == MessageChannel.EMAIL
    if by_email and not conversation.reply_to:
        raise MessagingRefused(
            ErrorCode.REQUIRED,
            _(
                "%(marketplace)s's replies are e-mailed to the customer's relay address, and "
                "this conversation has none: import it with its reply_to address."
            )
            % {"marketplace": marketplace.name},
            field="reply_to",
        )
    with transaction.atomic():
        if conversation.pk is None:
            conversation.save()
        outbound = OutboundMessage.objects.create(
            conversation=conversation,
            marketplace=marketplace,
            author=actor.user,
            author_name=actor.name[:150],
            template=template,
            subject=subject[:255],
            body=body,
            is_html=is_html,
            text=preview.text,
            text_is_html=preview.is_html,
            by_email=by_email,
            email_to=conversation.reply_to if by_email else "",
            queued_at=at or timezone.now(),
        )
        for upload in attachments:
            OutboundAttachment.objects.create(
                outbound=outbound,
                file=upload,
                name=upload.name[:200],
                content_type=getattr(upload, "content_type", "") or "application/octet-stream",
                size=upload.size,
            )
        if conversation.status == ConversationStatus.UNREAD:
            Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.TO_DO)
        transaction.on_commit(functools.partial(outbound_announce, outbound.pk))
    return outbound


def outbound_announce(outbound_id: int) -> None:
    """After commit: tell the push connectors (signal, webhooks) and, where the system e-mails
    replies itself, queue the e-mail task (never run while a case lock is held)."""
    outbound = OutboundMessage.objects.filter(pk=outbound_id).first()
    if outbound is None:
        return
    outbound_queued.send(sender=OutboundMessage, outbound=outbound)
    if outbound.by_email and outbound.status == OutboxStatus.QUEUED:
        from django_q.tasks import async_task

        async_task(
            EMAIL_TASK, outbound.pk, task_name=f"outbound-email-{outbound.pk}-{outbound.attempts}"
        )


def conversation_start(
    *,
    marketplace: Marketplace,
    body: str,
    actor: Actor,
    door: Door,
    counterpart: str = Counterpart.CUSTOMER,
    channel: str | None = None,
    order: Order | None = None,
    case: Case | None = None,
    subject: str = "",
    is_html: bool = False,
    language: str = "",
    reply_to: str = "",
) -> OutboundMessage:
    """Open a conversation with a first message from the seller (to warn of a delay, say).
    Refused with the reason where the marketplace allows only replies."""
    if order is not None and order.marketplace_id != marketplace.pk:
        raise MessagingRefused(
            ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
            _("Order %(order)s belongs to another marketplace.") % {"order": order.external_id},
            field="order",
        )
    default_channel = {
        "email": MessageChannel.EMAIL,
        "chat": MessageChannel.CHAT,
    }.get(marketplace.channel, MessageChannel.PORTAL)
    conversation = Conversation(
        marketplace=marketplace,
        # The marketplace's thread id is learnt when the connector reports the message sent.
        external_id=f"local-{uuid.uuid4().hex}",
        counterpart=counterpart,
        channel=channel or default_channel,
        topic=Topic.AFTER_SALE if order is not None else Topic.PRE_SALE,
        language=language or (order.customer_language if order is not None else ""),
        subject=subject[:255],
        order=order or (case.order if case is not None else None),
        case=case,
        status=ConversationStatus.WAITING,
        reply_to=reply_to,
    )
    return _queue(
        conversation,
        body=body,
        actor=actor,
        is_html=is_html,
        subject=subject,
        template=None,
        attachments=(),
        at=None,
        starts=True,
    )
