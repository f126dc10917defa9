"""Importing the message log, in bulk and idempotently by external id.

``message_import`` validates every item first and refuses the whole batch (nothing written) with
one error per bad item; then it writes the batch in one transaction, re-derives the thread facts
(first message of the conversation, when each received message was answered) of every
conversation it touched, and records the seller's first answer on the cases concerned through
``cases.services.case_record_first_response``.
"""

from __future__ import annotations

import bisect
import datetime as dt
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

from .models import (
    ANSWERED_COUNTERPARTS,
    Counterpart,
    Direction,
    Message,
    MessageChannel,
)

MAX_BATCH = 10_000
# Fields an import may change on a message it already has (the thread facts are derived).
WRITABLE_FIELDS = (
    "conversation_id",
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
_FLAGS = ("is_spam", "received_while_paused", "no_response_needed")
_KNOWN_KEYS = {"external_id", "conversation_id", "order", "case", *WRITABLE_FIELDS}


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


def _validate(
    marketplace: Marketplace, items: list[Mapping[str, Any]], now: dt.datetime
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
            value = item.get(name)
            if value not in choices.values:
                refuse(
                    index,
                    name,
                    _("'%(value)s' is not one of %(choices)s.")
                    % {"value": value, "choices": ", ".join(choices.values)},
                )
            row[name] = value
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
    if name in {"order", "case"}:
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
    existing = {
        m.external_id: m
        for m in Message.objects.select_for_update().filter(
            marketplace=marketplace, external_id__in=[r["external_id"] for r in rows]
        )
    }
    to_create: list[Message] = []
    to_update: list[Message] = []
    conversations: set[str] = set()
    written: list[Message] = []
    for row in rows:
        message = existing.get(row["external_id"])
        if message is None:
            message = Message(marketplace=marketplace, **row)
            to_create.append(message)
        else:
            changed = [name for name in WRITABLE_FIELDS if _differs(message, name, row[name])]
            if not changed:
                result.unchanged += 1
                continue
            conversations.add(message.conversation_id)
            for name in changed:
                setattr(message, name, row[name])
            to_update.append(message)
        conversations.add(message.conversation_id)
        written.append(message)
    Message.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        Message.objects.bulk_update(to_update, WRITABLE_FIELDS, batch_size=1000)
    result.created, result.updated = len(to_create), len(to_update)
    _derive_thread_facts(marketplace, conversations)
    result.first_responses = _record_first_responses(written, actor=actor, door=door)
    return result


def _derive_thread_facts(marketplace: Marketplace, conversations: set[str]) -> None:
    """First message of each conversation, and for each received message the time of the
    seller's next message in the thread (its answer)."""
    if not conversations:
        return
    threads: dict[str, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(
        marketplace=marketplace, conversation_id__in=conversations
    ).order_by("sent_at", "pk"):
        threads[message.conversation_id].append(message)
    changed = []
    for thread in threads.values():
        # A received message is answered by the seller's first message sent at or after it.
        outbound_times = sorted(m.sent_at for m in thread if m.direction == Direction.OUTBOUND)
        for position, message in enumerate(thread):
            start = position == 0
            answer_at: dt.datetime | None = None
            if message.direction == Direction.INBOUND:
                found = bisect.bisect_left(outbound_times, message.received_at)
                if found < len(outbound_times):
                    answer_at = outbound_times[found]
            if message.is_conversation_start != start or message.answered_at != answer_at:
                message.is_conversation_start = start
                message.answered_at = answer_at
                changed.append(message)
    if changed:
        Message.objects.bulk_update(
            changed, ["is_conversation_start", "answered_at"], batch_size=1000
        )


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
    """The messages of a case, oldest first: those filed on the case, and those of its order
    not filed on any case."""
    return Message.objects.filter(
        Q(case=case) | Q(order_id=case.order_id, case__isnull=True)
    ).order_by("sent_at", "pk")
