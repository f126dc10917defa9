"""Working conversations: read, assign, status (done, spam), "no response needed", attach to a
case, open a case from a message, internal notes.

Bulk functions take ids and change them in one statement each; the thread facts that depend on
what changed (spam and "no response needed" stop clocks) are re-derived in the same
transaction. Changes to a case go through ``cases.services`` (the kernel).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.actors import Actor
from cases.choices import CaseKind, Door
from cases.errors import ErrorCode
from cases.models import Case
from cases.services import case_note_add, case_open

from ..errors import MessagingRefused
from ..models import (
    Conversation,
    ConversationNote,
    ConversationStatus,
    Direction,
    Message,
)
from .imports import _record_first_responses
from .threads import threads_derive

MAX_NOTE = 10_000
# Statuses an agent sets by hand (unread comes from new messages).
SETTABLE_STATUSES = (
    ConversationStatus.TO_DO,
    ConversationStatus.WAITING,
    ConversationStatus.DONE,
    ConversationStatus.SPAM,
)


def _ids(conversations: Iterable[Conversation | int]) -> list[int]:
    return sorted({c if isinstance(c, int) else c.pk for c in conversations})


def conversation_mark_read(*, conversation: Conversation | int, actor: Actor) -> bool:
    """An agent opened it: unread becomes to do. Returns whether it changed."""
    pk = conversation if isinstance(conversation, int) else conversation.pk
    return bool(
        Conversation.objects.filter(pk=pk, status=ConversationStatus.UNREAD).update(
            status=ConversationStatus.TO_DO, updated_at=timezone.now()
        )
    )


def conversations_set_status(
    *, conversations: Iterable[Conversation | int], status: str, actor: Actor
) -> int:
    """Mark conversations to do, waiting, done or spam (bulk); returns how many changed.

    Spam runs no clock and leaves every metric: marking (or unmarking) it re-derives the
    clocks of the conversations concerned."""
    if status not in SETTABLE_STATUSES:
        raise MessagingRefused(
            ErrorCode.INVALID_VALUE,
            _("The status must be one of: %(values)s.")
            % {"values": ", ".join(str(s) for s in SETTABLE_STATUSES)},
            field="status",
        )
    ids = _ids(conversations)
    with transaction.atomic():
        rows = Conversation.objects.select_for_update().filter(pk__in=ids).exclude(status=status)
        spam_moves = list(
            rows.filter(status=ConversationStatus.SPAM).values_list("pk", flat=True)
        ) + (list(rows.values_list("pk", flat=True)) if status == ConversationStatus.SPAM else [])
        changed = rows.update(status=status, updated_at=timezone.now())
        if spam_moves:
            threads_derive(spam_moves)
    return changed


def conversations_assign(
    *, conversations: Iterable[Conversation | int], assignee: Any, actor: Actor
) -> int:
    """Give conversations to ``assignee`` (None: unassign), in bulk; returns how many changed."""
    target = assignee.pk if assignee is not None else None
    rows = Conversation.objects.filter(pk__in=_ids(conversations))
    rows = (
        rows.filter(assignee__isnull=False) if target is None else rows.exclude(assignee_id=target)
    )
    return rows.update(assignee_id=target, updated_at=timezone.now())


def message_set_no_response_needed(
    *, message: Message | int, actor: Actor, no_response_needed: bool = True
) -> Message:
    """Amazon's "no response needed": the message leaves the clock and the metric as Amazon
    counts it (and comes back when unmarked)."""
    pk = message if isinstance(message, int) else message.pk
    with transaction.atomic():
        locked = Message.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise MessagingRefused(
                ErrorCode.NOT_FOUND, _("There is no message %(id)s.") % {"id": pk}, field="message"
            )
        if locked.direction != Direction.INBOUND:
            raise MessagingRefused(
                ErrorCode.INVALID_VALUE,
                _("Only a received message can need no response."),
                field="message",
            )
        if locked.no_response_needed != no_response_needed:
            locked.no_response_needed = no_response_needed
            locked.save(update_fields=["no_response_needed", "updated_at"])
            threads_derive([locked.conversation_id])
            locked.refresh_from_db()
    return locked


def conversation_attach_case(
    *, conversation: Conversation | int, case: Case, actor: Actor, door: Door
) -> Conversation:
    """File the conversation (and its messages filed on no case) on ``case`` of the same
    marketplace and order; the seller's answers sent since the case opened become its first
    response."""
    pk = conversation if isinstance(conversation, int) else conversation.pk
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=pk)
        if case.marketplace_id != locked.marketplace_id:
            raise MessagingRefused(
                ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
                _("Case %(ref)s is on another marketplace.") % {"ref": case.reference},
                field="case",
            )
        if locked.order_id is not None and locked.order_id != case.order_id:
            raise MessagingRefused(
                ErrorCode.INVALID_VALUE,
                _("Case %(ref)s is about another order than this conversation.")
                % {"ref": case.reference},
                field="case",
            )
        locked.case = case
        locked.order_id = case.order_id
        locked.save(update_fields=["case", "order", "updated_at"])
        messages = Message.objects.filter(conversation=locked, case__isnull=True)
        messages.update(case=case, order_id=case.order_id)
        answers = list(Message.objects.filter(conversation=locked, direction=Direction.OUTBOUND))
        _record_first_responses(answers, actor=actor, door=door)
    return locked


# Words that say what went wrong, in the customers' languages, to prefill a case's kind.
_KIND_WORDS = (
    (CaseKind.DAMAGED_ITEM, r"damag|broken|cass[ée]|abîm|endommag|破损|损坏|坏了"),
    (CaseKind.MISSING_ITEM, r"missing|manqu|incomplet|少了|缺少|漏发"),
    (CaseKind.WRONG_ITEM, r"wrong (item|product|size|colou?r)|erreur de produit|pas le bon|发错"),
    (CaseKind.CANCELLATION, r"cancel|annul|取消"),
    (
        CaseKind.LATE_SHIPMENT,
        r"not (yet )?(shipped|received)|still waiting|retard|pas reçu|没收到|还没发货",
    ),
)


def case_prefill_from_message(message: Message) -> dict[str, Any]:
    """What "open a case from this message" fills in: the marketplace, the order, a kind
    guessed from the text (None when nothing says), when it started and a description.
    ``conversation_open_case`` (or ``cases.services.case_open``) does the opening."""
    text = f"{message.subject}\n{message.body}".lower()
    kind = next((k for k, words in _KIND_WORDS if re.search(words, text)), None)
    return {
        "marketplace": message.marketplace,
        "order": message.order or message.conversation.order,
        "kind": kind,
        "opened_at": message.received_at,
        "description": (message.body or message.subject)[:500],
    }


def conversation_open_case(
    *,
    conversation: Conversation | int,
    kind: str,
    actor: Actor,
    door: Door,
    opened_at: dt.datetime | None = None,
    description: str = "",
) -> Case:
    """Open a case on the conversation's order (``cases.services.case_open``) and file the
    conversation on it."""
    pk = conversation if isinstance(conversation, int) else conversation.pk
    found = Conversation.objects.select_related("order", "marketplace").get(pk=pk)
    if found.order is None:
        raise MessagingRefused(
            ErrorCode.REQUIRED,
            _("This conversation is about no order: a case needs one."),
            field="order",
        )
    with transaction.atomic():
        case, _created = case_open(
            marketplace=found.marketplace,
            order=found.order,
            kind=kind,
            actor=actor,
            door=door,
            opened_at=opened_at,
            description=description,
        )
        conversation_attach_case(conversation=found.pk, case=case, actor=actor, door=door)
    return case


def conversation_note_add(
    *, conversation: Conversation | int, text: str, actor: Actor, door: Door
) -> ConversationNote:
    """An internal note, never sent. On a case it is also written in the case's history
    (``cases.services.case_note_add``, through the kernel), in the same transaction."""
    text = (text or "").strip()
    if not text:
        raise MessagingRefused(ErrorCode.REQUIRED, _("Write the note first."), field="note")
    if len(text) > MAX_NOTE or "\x00" in text:
        raise MessagingRefused(
            ErrorCode.INVALID_VALUE,
            _("A note is text of at most %(max)s characters.") % {"max": f"{MAX_NOTE:,}"},
            field="note",
        )
    pk = conversation if isinstance(conversation, int) else conversation.pk
    with transaction.atomic():
        found = Conversation.objects.get(pk=pk)
        if found.case_id is not None:
            case_note_add(case=found.case_id, text=text, actor=actor, door=door)
        return ConversationNote.objects.create(
            conversation=found,
            case_id=found.case_id,
            author=actor.user,
            author_name=actor.name[:150],
            text=text,
            created_at=timezone.now(),
        )
