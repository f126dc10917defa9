"""The message log's part of a customer's personal data (``cases.personal_data``).

A customer's threads are those on their orders or cases, or holding one of their messages; every
text written by or to them is replaced (subjects, first lines, bodies, replies as written and as
sent, internal notes, relay addresses) and reply attachments are deleted after commit. Times,
directions and statuses stay: they feed the response metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q

from cases.personal_data import ERASED, Subject

from .models import Conversation, ConversationNote, Message, OutboundAttachment, OutboundMessage


def _messages(subject: Subject) -> Any:
    return Message.objects.filter(
        Q(order_id__in=subject.order_ids) | Q(case_id__in=subject.case_ids)
    ).order_by("sent_at", "pk")


def _conversation_ids(subject: Subject) -> list[int]:
    return list(
        Conversation.objects.filter(
            Q(order_id__in=subject.order_ids)
            | Q(case_id__in=subject.case_ids)
            | Q(pk__in=_messages(subject).values("conversation_id"))
        ).values_list("pk", flat=True)
    )


def _rows(values: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a ``values()`` query as plain dicts (JSON values for the export)."""
    return [dict(row) for row in values]


def export(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    conversations = _conversation_ids(subject)
    return {
        "conversations": _rows(
            Conversation.objects.filter(pk__in=conversations)
            .order_by("pk")
            .values("pk", "external_id", "counterpart", "channel", "subject", "preview", "reply_to")
        ),
        "messages": _rows(
            Message.objects.filter(
                Q(conversation_id__in=conversations) | Q(pk__in=_messages(subject).values("pk"))
            )
            .order_by("sent_at", "pk")
            .values(
                "external_id",
                "conversation_id",
                "direction",
                "counterpart",
                "channel",
                "sent_at",
                "received_at",
                "subject",
                "body",
            )
        ),
        "replies": _rows(
            OutboundMessage.objects.filter(conversation_id__in=conversations)
            .order_by("queued_at", "pk")
            .values("conversation_id", "subject", "text", "status", "sent_at", "email_to")
        ),
        "internal_notes": _rows(
            ConversationNote.objects.filter(conversation_id__in=conversations)
            .order_by("created_at", "pk")
            .values("conversation_id", "text", "created_at")
        ),
    }


def erase(subject: Subject) -> int:
    """Replace every text of the customer's threads; returns the number of rows changed."""
    conversations = _conversation_ids(subject)
    changed = Message.objects.filter(
        Q(conversation_id__in=conversations) | Q(pk__in=_messages(subject).values("pk"))
    ).update(subject=ERASED, body=ERASED)
    changed += Conversation.objects.filter(pk__in=conversations).update(
        subject=ERASED, preview=ERASED, reply_to=""
    )
    changed += OutboundMessage.objects.filter(conversation_id__in=conversations).update(
        subject=ERASED, body=ERASED, text=ERASED, email_to="", failure_reason=""
    )
    changed += ConversationNote.objects.filter(conversation_id__in=conversations).update(
        text=ERASED
    )
    attachments = OutboundAttachment.objects.filter(outbound__conversation_id__in=conversations)
    files = [a.file for a in attachments if a.file]
    changed += attachments.update(name=ERASED)

    def delete_files() -> None:
        for file in files:
            if file.name:
                file.storage.delete(file.name)

    transaction.on_commit(delete_files)
    return changed
