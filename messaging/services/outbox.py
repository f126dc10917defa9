"""The outbox: replies written here until a connector (or the system's own e-mail) reports
that they left.

* ``outbound_mark_sent``: the marketplace's message id and the time it left (never in the
  future, never before it was queued). The reply becomes a ``Message`` (outbound, dated when it
  left, written by its author) in the conversation; the thread is re-derived, so the received
  messages it answers get ``answered_at`` = that time (the clocks and the metrics read it), and
  the open cases it answers get their first response (``cases.services``). Idempotent: the same
  report again changes nothing; another id for a reply already sent is refused.
* ``outbound_mark_failed``: the reason, shown on the thread; idempotent; refused once sent.
* ``outbound_retry``: a failed reply edited (or not) and queued again, checked again.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.actors import Actor
from cases.choices import Door
from cases.errors import ErrorCode

from ..errors import MessagingRefused
from ..models import Conversation, Direction, Message, OutboundMessage, OutboxStatus
from .composer import _problems, _refuse, outbound_announce
from .imports import _record_first_responses
from .threads import threads_derive

MAX_REASON = 2000


def _already_sent(locked: OutboundMessage) -> MessagingRefused:
    # A sent reply always has its time (a check constraint of the table); "" keeps the
    # refusal readable should a row ever lack it.
    when = locked.sent_at.isoformat() if locked.sent_at is not None else ""
    return MessagingRefused(
        ErrorCode.OUTBOUND_ALREADY_SENT,
        _("This reply was already reported sent as %(id)s on %(when)s.")
        % {"id": locked.marketplace_message_id, "when": when},
    )


def _locked(outbound: OutboundMessage | int) -> OutboundMessage:
    pk = outbound if isinstance(outbound, int) else outbound.pk
    found = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("conversation", "marketplace")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise MessagingRefused(
            ErrorCode.NOT_FOUND,
            _("There is no outbound message %(id)s.") % {"id": pk},
            field="outbound",
        )
    return found


def outbound_mark_sent(
    *,
    outbound: OutboundMessage | int,
    marketplace_message_id: str,
    sent_at: dt.datetime,
    actor: Actor,
    door: Door,
    conversation_id: str = "",
) -> tuple[OutboundMessage, bool]:
    """Record that the reply left; returns (outbound, changed). ``conversation_id``: the
    marketplace's thread id, for a conversation the seller started here."""
    message_id = (marketplace_message_id or "").strip()
    if not message_id or len(message_id) > 100 or "\x00" in message_id:
        raise MessagingRefused(
            ErrorCode.REQUIRED,
            _("Give the marketplace's id of the message (at most 100 characters)."),
            field="marketplace_message_id",
        )
    now = timezone.now()
    if sent_at is None or timezone.is_naive(sent_at):
        raise MessagingRefused(
            ErrorCode.INVALID_VALUE,
            _("Give the time it left, with its time zone offset."),
            field="sent_at",
        )
    if sent_at > now:
        raise MessagingRefused(
            ErrorCode.OCCURRED_IN_FUTURE,
            _("The time %(moment)s is in the future; give the time the message left.")
            % {"moment": sent_at.isoformat()},
            field="sent_at",
        )
    with transaction.atomic():
        locked = _locked(outbound)
        if locked.status == OutboxStatus.SENT:
            if locked.marketplace_message_id == message_id:
                return locked, False
            raise _already_sent(locked)
        if sent_at < locked.queued_at:
            raise MessagingRefused(
                ErrorCode.OCCURRED_BEFORE_PREVIOUS,
                _("A reply cannot leave before it was written (%(when)s).")
                % {"when": locked.queued_at.isoformat()},
                field="sent_at",
            )
        conversation = Conversation.objects.select_for_update().get(pk=locked.conversation_id)
        thread = (conversation_id or "").strip()[:100]
        if thread and conversation.external_id.startswith("local-"):
            taken = Conversation.objects.filter(
                marketplace_id=conversation.marketplace_id, external_id=thread
            ).exists()
            if not taken:
                conversation.external_id = thread
                conversation.save(update_fields=["external_id", "updated_at"])
        message = Message.objects.filter(
            marketplace_id=locked.marketplace_id, external_id=message_id
        ).first()
        if message is None:
            message = Message.objects.create(
                marketplace_id=locked.marketplace_id,
                external_id=message_id,
                conversation=conversation,
                order_id=conversation.order_id,
                case_id=conversation.case_id,
                direction=Direction.OUTBOUND,
                counterpart=conversation.counterpart,
                channel=conversation.channel,
                sent_at=sent_at,
                received_at=sent_at,
                subject=locked.subject,
                body=locked.text,
                author_id=locked.author_id,
            )
        elif message.conversation_id != conversation.pk or message.direction != Direction.OUTBOUND:
            raise MessagingRefused(
                ErrorCode.DUPLICATE,
                _("Message %(id)s is another message of this marketplace.") % {"id": message_id},
                field="marketplace_message_id",
            )
        elif message.author_id is None and locked.author_id is not None:
            # The connector imported it first: it is this reply, written here.
            message.author_id = locked.author_id
            message.save(update_fields=["author", "updated_at"])
        locked.status = OutboxStatus.SENT
        locked.sent_at = message.sent_at
        locked.marketplace_message_id = message_id
        locked.message = message
        locked.failure_reason = ""
        locked.failed_at = None
        locked.save(
            update_fields=[
                "status",
                "sent_at",
                "marketplace_message_id",
                "message",
                "failure_reason",
                "failed_at",
                "updated_at",
            ]
        )
        threads_derive([conversation.pk], new_outbound={conversation.pk})
        _record_first_responses([message], actor=actor, door=door)
    return locked, True


def outbound_mark_failed(
    *,
    outbound: OutboundMessage | int,
    reason: str,
    actor: Actor,
    failed_at: dt.datetime | None = None,
) -> tuple[OutboundMessage, bool]:
    """Record that the reply could not be sent, and why (shown on the thread); returns
    (outbound, changed)."""
    reason = (reason or "").strip()
    if not reason or "\x00" in reason:
        raise MessagingRefused(
            ErrorCode.REQUIRED, _("Say why the message could not be sent."), field="reason"
        )
    reason = reason[:MAX_REASON]
    with transaction.atomic():
        locked = _locked(outbound)
        if locked.status == OutboxStatus.SENT:
            raise _already_sent(locked)
        if locked.status == OutboxStatus.FAILED and locked.failure_reason == reason:
            return locked, False
        locked.status = OutboxStatus.FAILED
        locked.failure_reason = reason
        locked.failed_at = failed_at or timezone.now()
        locked.save(update_fields=["status", "failure_reason", "failed_at", "updated_at"])
    return locked, True


def outbound_retry(
    *,
    outbound: OutboundMessage | int,
    actor: Actor,
    body: str | None = None,
    is_html: bool | None = None,
) -> OutboundMessage:
    """Queue a failed reply again, edited when ``body`` is given, checked again."""
    with transaction.atomic():
        locked = _locked(outbound)
        if locked.status != OutboxStatus.FAILED:
            raise MessagingRefused(
                ErrorCode.OUTBOUND_NOT_FAILED,
                _("Only a reply that failed can be sent again (this one is %(status)s).")
                % {"status": locked.get_status_display().lower()},
            )
        new_body = locked.body if body is None else body
        html = locked.is_html if is_html is None else is_html
        preview = _problems(
            locked.marketplace,
            new_body,
            is_html=html,
            attachment_count=locked.attachments.count(),
            starts_conversation=not locked.conversation.messages.filter(
                direction=Direction.INBOUND
            ).exists(),
        )
        if not preview.sendable:
            _refuse(preview)
        locked.body, locked.is_html = new_body, html
        locked.text, locked.text_is_html = preview.text, preview.is_html
        locked.status = OutboxStatus.QUEUED
        locked.attempts += 1
        locked.queued_at = timezone.now()
        locked.save(
            update_fields=[
                "body",
                "is_html",
                "text",
                "text_is_html",
                "status",
                "attempts",
                "queued_at",
                "updated_at",
            ]
        )
        transaction.on_commit(functools.partial(outbound_announce, locked.pk))
    return locked
