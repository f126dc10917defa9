"""Importing messages, in bulk and idempotently by external id.

``message_import`` validates every item first and refuses the whole batch (nothing written) with
one error per bad item; then it writes the batch in one transaction: each message joins the
conversation of its ``conversation_id`` (created on first sight, with the counterpart, channel,
topic, language, subject, order and case of its first message), the facts of every conversation
it touched are re-derived (``threads.threads_derive``: clocks, answers, status), and the seller's
first answer is recorded on the cases concerned through
``cases.services.case_record_first_response``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cases.actors import Actor
from cases.choices import TERMINAL_STATES, Door
from cases.errors import DomainError, ErrorCode
from cases.models import Case, Order
from cases.services import case_record_first_response
from marketplaces.models import Marketplace

from ..models import (
    ANSWERED_COUNTERPARTS,
    Conversation,
    Counterpart,
    Direction,
    Message,
    MessageChannel,
    Topic,
)
from .threads import threads_derive

MAX_BATCH = 10_000
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Keys of an imported message that describe its conversation (used when the conversation is
# first seen; later messages fill in only what it lacks).
CONVERSATION_KEYS = ("topic", "language", "reply_to")
# Fields an import may change on a message it already has (the thread facts are derived).
MESSAGE_FIELDS = (
    "conversation",
    "order",
    "case",
    "direction",
    "counterpart",
    "channel",
    "sent_at",
    "received_at",
    "subject",
    "body",
    "is_spam",
    "received_while_paused",
    "no_response_needed",
)
# The keys of an imported message (``POST /api/v1/messages/``).
WRITABLE_FIELDS = (
    "conversation_id",
    *(name for name in MESSAGE_FIELDS if name != "conversation"),
    *CONVERSATION_KEYS,
)
_FLAGS = ("is_spam", "received_while_paused", "no_response_needed")
_KNOWN_KEYS = {"external_id", *WRITABLE_FIELDS}
_LANGUAGES = {"en", "fr", "zh-hans"}


class MessageImportRefused(DomainError):
    """A batch of messages was refused; ``errors`` lists each bad item (index, field, message)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        super().__init__(
            ErrorCode.INVALID_VALUE,
            _(
                "%(count)d message(s) are invalid; nothing was imported. First: item %(index)d, "
                "%(field)s: %(message)s"
            )
            % {"count": len({e["index"] for e in errors}), **first},
            field=f"messages[{first['index']}].{first['field']}",
            errors=errors,
        )
        self.errors = errors


@dataclass
class MessageImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # References of the cases whose first response this import recorded.
    first_responses: list[str] = field(default_factory=list)


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        return parse_datetime(value)
    return None


def _validate(  # noqa: C901, PLR0912, PLR0915 (one rule per field, each with its message)
    marketplace: Marketplace, items: Sequence[Mapping[str, Any]], now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Clean the items; returns (rows, errors). Orders and cases are resolved in two queries."""
    errors: list[dict[str, Any]] = []

    def refuse(index: int, name: str, message: str) -> None:
        errors.append({"index": index, "field": name, "message": str(message)})

    order_ids = {str(i["order"]) for i in items if isinstance(i, Mapping) and i.get("order")}
    case_refs = {str(i["case"]) for i in items if isinstance(i, Mapping) and i.get("case")}
    orders = {
        o.external_id: o
        for o in Order.objects.filter(marketplace=marketplace, external_id__in=order_ids)
    }
    cases = {
        c.reference: c
        for c in Case.objects.filter(marketplace=marketplace, reference__in=case_refs)
    }
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            refuse(index, "non_field_errors", _("Each message must be an object."))
            continue
        unknown = set(item) - _KNOWN_KEYS
        for name in sorted(unknown):
            refuse(index, name, _("Unknown field."))
        row: dict[str, Any] = {}
        for name in ("external_id", "conversation_id"):
            value = str(item.get(name) or "").strip()
            if not value:
                refuse(index, name, _("This field is required."))
            elif len(value) > 100:
                refuse(index, name, _("At most 100 characters."))
            elif "\x00" in value:
                refuse(index, name, _("Null characters are not allowed."))
            row[name] = value
        if row["external_id"] in seen:
            refuse(index, "external_id", _("The same message appears twice in the batch."))
        seen.add(row["external_id"])
        for name, choices in (
            ("direction", Direction),
            ("counterpart", Counterpart),
            ("channel", MessageChannel),
        ):
            choice = item.get(name)
            if choice not in choices.values:
                refuse(
                    index,
                    name,
                    _("'%(value)s' is not one of %(choices)s.")
                    % {"value": choice, "choices": ", ".join(choices.values)},
                )
            row[name] = choice
        for name in ("sent_at", "received_at"):
            raw = item.get(name)
            if raw in (None, "") and name == "received_at":
                row[name] = row.get("sent_at")
                continue
            moment = _moment(raw)
            if moment is None:
                refuse(index, name, _("Give a date and time, e.g. 2026-03-01T09:30:00+01:00."))
            elif timezone.is_naive(moment):
                refuse(index, name, _("The time must include a time zone offset."))
                moment = None
            elif moment > now:
                refuse(index, name, _("The time is in the future."))
            row[name] = moment
        if row.get("sent_at") and row.get("received_at") and row["received_at"] < row["sent_at"]:
            refuse(index, "received_at", _("A message cannot be received before it was sent."))
        for name in _FLAGS:
            value = item.get(name, False)
            if not isinstance(value, bool):
                refuse(index, name, _("Must be true or false."))
            row[name] = bool(value)
        for name, limit in (("subject", 255), ("body", None)):
            value = item.get(name) or ""
            if not isinstance(value, str):
                refuse(index, name, _("Must be text."))
                value = ""
            if limit and len(value) > limit:
                refuse(index, name, _("At most %(limit)d characters.") % {"limit": limit})
            # PostgreSQL cannot store NUL in text: refuse it here rather than fail on write.
            if "\x00" in value:
                refuse(index, name, _("Null characters are not allowed."))
            row[name] = value
        topic = item.get("topic")
        if topic not in (None, "") and topic not in Topic.values:
            refuse(
                index,
                "topic",
                _("'%(value)s' is not one of %(choices)s.")
                % {"value": topic, "choices": ", ".join(Topic.values)},
            )
        row["topic"] = topic or ""
        language = item.get("language")
        if language not in (None, "") and language not in _LANGUAGES:
            refuse(
                index,
                "language",
                _("'%(value)s' is not one of %(choices)s.")
                % {"value": language, "choices": ", ".join(sorted(_LANGUAGES))},
            )
        row["language"] = language or ""
        reply_to = item.get("reply_to") or ""
        if not isinstance(reply_to, str) or (reply_to and not _EMAIL.fullmatch(reply_to.strip())):
            refuse(index, "reply_to", _("Give an e-mail address."))
            reply_to = ""
        row["reply_to"] = reply_to.strip()[:254]
        order = case = None
        if item.get("order"):
            order = orders.get(str(item["order"]))
            if order is None:
                refuse(
                    index,
                    "order",
                    _("No order %(id)s on %(marketplace)s.")
                    % {"id": item["order"], "marketplace": marketplace.name},
                )
        if item.get("case"):
            case = cases.get(str(item["case"]))
            if case is None:
                refuse(
                    index,
                    "case",
                    _("No case %(ref)s on %(marketplace)s.")
                    % {"ref": item["case"], "marketplace": marketplace.name},
                )
            elif order is not None and case.order_id != order.pk:
                refuse(
                    index,
                    "case",
                    _("Case %(ref)s is about another order.") % {"ref": case.reference},
                )
            elif order is None:
                order = case.order
        row["order"], row["case"] = order, case
        rows.append(row)
    return rows, errors


def message_import(
    *,
    marketplace: Marketplace,
    messages: Iterable[Mapping[str, Any]],
    actor: Actor,
    door: Door,
) -> MessageImportResult:
    """Create or update messages of one marketplace by ``external_id``; returns the counts.

    Idempotent: importing the same batch again changes nothing. Raises ``MessageImportRefused``
    (nothing written) when any item is invalid.
    """
    items = list(messages)
    _refuse_oversize(len(items))
    rows, errors = _validate(marketplace, items, timezone.now())
    if errors:
        raise MessageImportRefused(errors)
    with transaction.atomic():
        return _write(marketplace, rows, actor=actor, door=door)


def message_import_batch(
    *,
    messages: Sequence[Mapping[str, Any]],
    marketplaces: Mapping[str, Marketplace],
    actor: Actor,
    door: Door,
) -> MessageImportResult:
    """Messages of several marketplaces, each item naming its ``marketplace`` code (one of
    ``marketplaces``, those the caller may touch), imported in one transaction, all or nothing.

    Error indexes are positions in ``messages``.
    """
    _refuse_oversize(len(messages))
    groups: dict[str, list[int]] = defaultdict(list)
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(messages):
        code = item.get("marketplace") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping):
            errors.append(
                {
                    "index": index,
                    "field": "non_field_errors",
                    "message": str(_("Each message must be an object.")),
                }
            )
        elif not code:
            errors.append(
                {
                    "index": index,
                    "field": "marketplace",
                    "message": str(_("This field is required.")),
                }
            )
        elif not isinstance(code, str) or code not in marketplaces:
            errors.append(
                {
                    "index": index,
                    "field": "marketplace",
                    "message": str(_("Unknown marketplace '%(code)s'.") % {"code": str(code)[:40]}),
                    "code": "not_yours",  # or unknown: the same answer, so nothing is revealed
                }
            )
        else:
            groups[code].append(index)
    now = timezone.now()
    validated: list[tuple[Marketplace, list[dict[str, Any]]]] = []
    for code, positions in groups.items():
        items = [{k: v for k, v in messages[i].items() if k != "marketplace"} for i in positions]
        rows, group_errors = _validate(marketplaces[code], items, now)
        for error in group_errors:
            errors.append({**error, "index": positions[error["index"]]})
        validated.append((marketplaces[code], rows))
    if errors:
        raise MessageImportRefused(sorted(errors, key=lambda e: e["index"]))
    total = MessageImportResult()
    with transaction.atomic():
        for marketplace, rows in validated:
            result = _write(marketplace, rows, actor=actor, door=door)
            total.created += result.created
            total.updated += result.updated
            total.unchanged += result.unchanged
            total.first_responses += result.first_responses
    return total


def _differs(message: Message, name: str, value: Any) -> bool:
    # Order and case are compared by id: reading them would cost a query per message.
    if name in {"order", "case", "conversation"}:
        return getattr(message, f"{name}_id") != (value.pk if value is not None else None)
    return getattr(message, name) != value


def _refuse_oversize(count: int) -> None:
    if count > MAX_BATCH:
        raise MessageImportRefused(
            [
                {
                    "index": MAX_BATCH,
                    "field": "non_field_errors",
                    "message": _("At most %(max)d messages per batch.") % {"max": MAX_BATCH},
                }
            ]
        )


def _write(
    marketplace: Marketplace, rows: list[dict[str, Any]], *, actor: Actor, door: Door
) -> MessageImportResult:
    """Write validated rows (inside the caller's transaction)."""
    result = MessageImportResult()
    conversations = _conversations_for(marketplace, rows)
    existing = {
        m.external_id: m
        for m in Message.objects.select_for_update().filter(
            marketplace=marketplace, external_id__in=[r["external_id"] for r in rows]
        )
    }
    to_create: list[Message] = []
    to_update: list[Message] = []
    touched: set[int] = set()
    new_inbound: set[int] = set()
    new_outbound: set[int] = set()
    written: list[Message] = []
    for row in rows:
        conversation = conversations[row["conversation_id"]]
        values = {name: row[name] for name in MESSAGE_FIELDS if name != "conversation"}
        values["conversation"] = conversation
        message = existing.get(row["external_id"])
        if message is None:
            message = Message(marketplace=marketplace, external_id=row["external_id"], **values)
            to_create.append(message)
            (new_inbound if message.direction == Direction.INBOUND else new_outbound).add(
                conversation.pk
            )
        else:
            changed = [name for name in MESSAGE_FIELDS if _differs(message, name, values[name])]
            if not changed:
                result.unchanged += 1
                continue
            touched.add(message.conversation_id)
            for name in changed:
                setattr(message, name, values[name])
            to_update.append(message)
        touched.add(conversation.pk)
        written.append(message)
    Message.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        Message.objects.bulk_update(to_update, MESSAGE_FIELDS, batch_size=1000)
    result.created, result.updated = len(to_create), len(to_update)
    _fill_conversations(conversations.values(), written)
    threads_derive(touched, new_inbound=new_inbound, new_outbound=new_outbound)
    result.first_responses = _record_first_responses(written, actor=actor, door=door)
    return result


def _conversations_for(
    marketplace: Marketplace, rows: list[dict[str, Any]]
) -> dict[str, Conversation]:
    """The conversation of each thread id of ``rows`` (locked), created on first sight from the
    earliest of its messages in the batch."""
    ids = {row["conversation_id"] for row in rows}
    found = {
        c.external_id: c
        for c in Conversation.objects.select_for_update().filter(
            marketplace=marketplace, external_id__in=ids
        )
    }
    first_rows: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["sent_at"]):
        first_rows.setdefault(row["conversation_id"], row)
    new = [
        _new_conversation(marketplace, thread, row)
        for thread, row in first_rows.items()
        if thread not in found
    ]
    for conversation in Conversation.objects.bulk_create(new, batch_size=1000):
        found[conversation.external_id] = conversation
    if any(c.pk is None for c in found.values()):  # a backend that returns no ids
        found = {
            c.external_id: c
            for c in Conversation.objects.filter(marketplace=marketplace, external_id__in=ids)
        }
    return found


def _new_conversation(marketplace: Marketplace, thread: str, row: dict[str, Any]) -> Conversation:
    order, case = row["order"], row["case"]
    language = row["language"] or (order.customer_language if order is not None else "")
    return Conversation(
        marketplace=marketplace,
        external_id=thread,
        counterpart=row["counterpart"],
        channel=row["channel"],
        topic=row["topic"] or (Topic.AFTER_SALE if order is not None else Topic.PRE_SALE),
        language=language,
        subject=row["subject"],
        preview=_first_line(row["body"]),
        order=order,
        case=case,
        reply_to=row["reply_to"],
    )


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _fill_conversations(conversations: Iterable[Conversation], messages: list[Message]) -> None:
    """What a conversation lacks and a later message gives: its order, case, subject, first
    line and reply address. Nothing it already has is replaced."""
    by_pk = {c.pk: c for c in conversations}
    changed: dict[int, set[str]] = defaultdict(set)
    for message in sorted(messages, key=lambda m: m.sent_at):
        conversation = by_pk.get(message.conversation_id)
        if conversation is None:
            continue
        if conversation.order_id is None and message.order_id is not None:
            conversation.order_id = message.order_id
            changed[conversation.pk].add("order")
            if not conversation.language and message.order is not None:
                conversation.language = message.order.customer_language
                changed[conversation.pk].add("language")
        if conversation.case_id is None and message.case_id is not None:
            conversation.case_id = message.case_id
            changed[conversation.pk].add("case")
        if not conversation.subject and message.subject:
            conversation.subject = message.subject
            changed[conversation.pk].add("subject")
        if not conversation.preview and message.body:
            conversation.preview = _first_line(message.body)
            changed[conversation.pk].add("preview")
    for pk, fields in changed.items():
        by_pk[pk].save(update_fields=[*sorted(fields), "updated_at"])


def _record_first_responses(messages: list[Message], *, actor: Actor, door: Door) -> list[str]:
    """Record the seller's answers as the first response of the cases they answer.

    A message answers its case, or, when it names only an order, the open cases of that order
    that were already opened when it left. Messages to the platform are not answers to the
    customer.
    """
    answers = [
        m
        for m in messages
        if m.direction == Direction.OUTBOUND and m.counterpart in ANSWERED_COUNTERPARTS
    ]
    if not answers:
        return []
    case_ids = {m.case_id for m in answers if m.case_id}
    order_ids = {m.order_id for m in answers if m.order_id and not m.case_id}
    candidates = Case.objects.filter(Q(pk__in=case_ids) | Q(order_id__in=order_ids)).exclude(
        state__in=TERMINAL_STATES
    )
    earliest: dict[int, dt.datetime] = {}
    references: dict[int, str] = {}
    for case in candidates.only("pk", "reference", "order_id", "opened_at", "first_responded_at"):
        times = [
            m.sent_at
            for m in answers
            if (m.case_id == case.pk or (not m.case_id and m.order_id == case.order_id))
            and m.sent_at >= case.opened_at
        ]
        if not times:
            continue
        first = min(times)
        if case.first_responded_at is None or first < case.first_responded_at:
            earliest[case.pk] = first
            references[case.pk] = case.reference
    for pk, responded_at in sorted(earliest.items()):
        case_record_first_response(case=pk, responded_at=responded_at, actor=actor, door=door)
    return [references[pk] for pk in sorted(earliest)]


def case_messages(case: Case) -> QuerySet[Message]:
    """The messages of a case, oldest first: those filed on the case or in a conversation on
    it, and those of its order not filed on any case."""
    return Message.objects.filter(
        Q(case=case)
        | Q(conversation__case=case)
        | Q(order_id=case.order_id, case__isnull=True, conversation__case__isnull=True)
    ).order_by("sent_at", "pk")
