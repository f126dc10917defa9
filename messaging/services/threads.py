"""Deriving the facts of whole conversations from their messages.

``threads_derive`` is the only writer of the derived columns of ``Message`` and
``Conversation`` (see ``messaging.models``). It reads every message of the conversations it is
given, in order, so the result does not depend on the order messages arrived in:

* the first message of each conversation, and whether the brand started it;
* for each received message: whether it needs an answer, its clock (``messaging.rules``), when
  the seller's next message left (``answered_at``) and who wrote it (``answered_by``);
* for each conversation: first/last message times, whether an answer is awaited and since
  when, the earliest running clock (due and at-risk), the count of messages;
* the status moves that follow from new messages: a new received message makes the
  conversation unread again (spam when all it received was flagged spam); a sent reply that
  leaves nothing awaited makes it "waiting for the customer". A conversation marked spam
  stays spam; "done" is left only for a new message.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from marketplaces.calendars import calendar_for

from ..models import Conversation, ConversationStatus, Direction, Message
from ..rules import MessageFacts, message_clock

_MESSAGE_DERIVED = (
    "is_conversation_start",
    "needs_response",
    "response_due_at",
    "response_at_risk_at",
    "answered_at",
    "answered_by",
)
_CONVERSATION_DERIVED = (
    "brand_started",
    "first_message_at",
    "last_message_at",
    "last_inbound_at",
    "last_outbound_at",
    "awaiting_response",
    "awaiting_since",
    "response_due_at",
    "response_at_risk_at",
    "message_count",
    "status",
)
CHUNK = 1000


def threads_derive(
    conversation_ids: Iterable[int],
    *,
    new_inbound: set[int] | frozenset[int] = frozenset(),
    new_outbound: set[int] | frozenset[int] = frozenset(),
    models: tuple[type[Any], type[Any]] = (Conversation, Message),
) -> int:
    """Re-derive the given conversations (inside the caller's transaction); returns how many
    messages changed. ``new_inbound`` / ``new_outbound``: conversations that just got a new
    received / sent message (for the status moves). ``models``: the (conversation, message)
    models, for the data migration that runs it on its historical models."""
    ids = sorted(set(conversation_ids))
    changed_messages = 0
    for start in range(0, len(ids), CHUNK):
        changed_messages += _derive_chunk(
            ids[start : start + CHUNK], new_inbound, new_outbound, models
        )
    return changed_messages


def _derive_chunk(  # noqa: C901
    ids: list[int],
    new_inbound: Iterable[int],
    new_outbound: Iterable[int],
    models: tuple[type[Any], type[Any]],
) -> int:
    conversation_model, message_model = models
    conversations = {
        c.pk: c for c in conversation_model.objects.filter(pk__in=ids).select_related("marketplace")
    }
    threads: dict[int, list[Any]] = defaultdict(list)
    for message in message_model.objects.filter(conversation_id__in=ids).order_by("sent_at", "pk"):
        threads[message.conversation_id].append(message)
    inbound_new, outbound_new = set(new_inbound), set(new_outbound)
    changed: list[Any] = []
    changed_conversations: list[Any] = []
    for pk, conversation in conversations.items():
        thread = threads.get(pk, [])
        marketplace = conversation.marketplace
        calendar = calendar_for(marketplace)
        before = {name: getattr(conversation, name) for name in _CONVERSATION_DERIVED}
        brand_started = bool(thread) and thread[0].direction == Direction.OUTBOUND
        spam = conversation.status == ConversationStatus.SPAM
        # A received message is answered by the seller's first message sent at or after it.
        outbound = [m for m in thread if m.direction == Direction.OUTBOUND]
        outbound_times = [m.sent_at for m in outbound]
        awaiting: list[Any] = []
        for position, message in enumerate(thread):
            start = position == 0
            clock = message_clock(
                marketplace,
                calendar,
                MessageFacts(
                    direction=message.direction,
                    counterpart=message.counterpart,
                    received_at=message.received_at,
                    is_spam=message.is_spam,
                    no_response_needed=message.no_response_needed,
                    received_while_paused=message.received_while_paused,
                    is_conversation_start=start,
                    brand_started=brand_started,
                    conversation_is_spam=spam,
                ),
            )
            answer: Any = None
            if message.direction == Direction.INBOUND:
                found = bisect.bisect_left(outbound_times, message.received_at)
                if found < len(outbound):
                    answer = outbound[found]
            values = {
                "is_conversation_start": start,
                "needs_response": clock.needs_response,
                "response_due_at": clock.due_at,
                "response_at_risk_at": clock.at_risk_at,
                "answered_at": answer.sent_at if answer else None,
                "answered_by_id": answer.author_id if answer else None,
            }
            if any(getattr(message, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(message, name, value)
                changed.append(message)
            if clock.needs_response and answer is None:
                awaiting.append(message)
        inbound = [m for m in thread if m.direction == Direction.INBOUND]
        conversation.brand_started = brand_started
        conversation.first_message_at = thread[0].sent_at if thread else None
        conversation.last_message_at = thread[-1].sent_at if thread else None
        conversation.last_inbound_at = max((m.received_at for m in inbound), default=None)
        conversation.last_outbound_at = max(outbound_times, default=None)
        conversation.awaiting_response = bool(awaiting)
        conversation.awaiting_since = min((m.received_at for m in awaiting), default=None)
        due = [m.response_due_at for m in awaiting if m.response_due_at]
        risk = [m.response_at_risk_at for m in awaiting if m.response_at_risk_at]
        conversation.response_due_at = min(due, default=None)
        conversation.response_at_risk_at = min(risk, default=None)
        conversation.message_count = len(thread)
        conversation.status = _next_status(
            conversation, got_inbound=pk in inbound_new, got_outbound=pk in outbound_new
        )
        if (
            conversation.status == ConversationStatus.UNREAD
            and inbound
            and all(m.is_spam for m in inbound)
        ):
            # Everything received was flagged spam by the marketplace: nothing to read.
            conversation.status = ConversationStatus.SPAM
        if any(getattr(conversation, name) != before[name] for name in _CONVERSATION_DERIVED):
            changed_conversations.append(conversation)
    if changed:
        message_model.objects.bulk_update(changed, _MESSAGE_DERIVED, batch_size=CHUNK)
    if changed_conversations:
        conversation_model.objects.bulk_update(
            changed_conversations, _CONVERSATION_DERIVED, batch_size=CHUNK
        )
    return len(changed)


def _next_status(conversation: Any, *, got_inbound: bool, got_outbound: bool) -> str:
    status = conversation.status
    if status == ConversationStatus.SPAM:
        return status
    if got_inbound and conversation.awaiting_response:
        return ConversationStatus.UNREAD
    if got_outbound and not conversation.awaiting_response and status != ConversationStatus.DONE:
        return ConversationStatus.WAITING
    return status


def marketplace_clocks_refresh(marketplace_id: int) -> int:
    """Re-derive the conversations of a marketplace whose calendar or rules changed and that
    still await an answer (answered and closed clocks keep the rule they ran under);
    returns how many messages changed."""
    from django.db import transaction

    ids = list(
        Conversation.objects.filter(marketplace_id=marketplace_id)
        .filter(
            pk__in=Message.objects.filter(
                marketplace_id=marketplace_id, direction=Direction.INBOUND, answered_at__isnull=True
            ).values("conversation_id")
        )
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        return threads_derive(ids)
