"""Reads of the messaging domain shared by the doors (the workspace inbox, the conversation
and case pages, the dashboard).

* ``inbox_list``: one page of conversations across marketplaces, most urgent first (the
  earliest answer due, then those waiting longest), with every filter of the inbox; a fixed
  number of queries whatever the page size (the page, and the count when asked).
* ``inbox_counts``: the work-queue counts (needs an answer, overdue, at risk, unassigned, mine).
* ``conversation_detail``: a conversation's thread (messages, replies still in the outbox,
  internal notes, in time order) with its order's cases, their deadlines and evidence status.
* ``clock_state``: how a conversation's (or message's) clock stands at a moment.
* ``response_time_report``: response time per marketplace and per agent (median, share within
  the marketplace's rule) over 7, 30 or 90 days, from the same columns the inbox clocks read.
"""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from cases.deadlines import active_deadlines
from cases.models import Case

from .models import (
    OPEN_STATUSES,
    Conversation,
    ConversationNote,
    ConversationStatus,
    Direction,
    Message,
    OutboundMessage,
    OutboxStatus,
)

REPORT_WINDOWS = (7, 30, 90)
MAX_PAGE_SIZE = 200


class ClockState(enum.StrEnum):
    NONE = "none"  # nothing to answer, or no clock runs
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Clock:
    state: ClockState
    due_at: dt.datetime | None
    # Positive: time left; negative: overdue by.
    left: dt.timedelta | None


def clock_state(
    due_at: dt.datetime | None, at_risk_at: dt.datetime | None, *, at: dt.datetime
) -> Clock:
    if due_at is None:
        return Clock(ClockState.NONE, None, None)
    left = due_at - at
    if at > due_at:
        return Clock(ClockState.OVERDUE, due_at, left)
    if at_risk_at is not None and at >= at_risk_at:
        return Clock(ClockState.AT_RISK, due_at, left)
    return Clock(ClockState.ON_TRACK, due_at, left)


def inbox_queryset(  # noqa: C901 (one optional condition per filter the inbox offers)
    *,
    at: dt.datetime,
    user: Any = None,
    marketplaces: Sequence[int] | None = None,
    statuses: Sequence[str] | None = OPEN_STATUSES,
    needs_answer: bool | None = None,
    clock: str | None = None,
    mine: bool = False,
    unassigned: bool = False,
    assignees: Sequence[int] | None = None,
    topic: str | None = None,
    language: str | None = None,
    on_case: bool | None = None,
) -> QuerySet[Conversation]:
    """The filtered conversations, most urgent first (not sliced).

    ``clock``: ``overdue`` (answer due before ``at``), ``at_risk`` (at risk, not overdue yet),
    ``late_or_at_risk`` (both), ``running`` (any clock). ``mine`` (``user``'s) and
    ``unassigned`` combine with ``assignees`` as "any of these"."""
    rows = Conversation.objects.all()
    if statuses:
        rows = rows.filter(status__in=list(statuses))
    if marketplaces:
        rows = rows.filter(marketplace_id__in=list(marketplaces))
    if needs_answer is not None:
        rows = rows.filter(awaiting_response=needs_answer)
    if clock == "overdue":
        rows = rows.filter(response_due_at__lt=at)
    elif clock == "at_risk":
        rows = rows.filter(response_at_risk_at__lte=at, response_due_at__gte=at)
    elif clock == "late_or_at_risk":
        rows = rows.filter(response_at_risk_at__lte=at)
    elif clock == "running":
        rows = rows.filter(response_due_at__isnull=False)
    who = Q()
    if mine and user is not None:
        who |= Q(assignee_id=user.pk)
    if unassigned:
        who |= Q(assignee__isnull=True)
    if assignees:
        who |= Q(assignee_id__in=list(assignees))
    if who:
        rows = rows.filter(who)
    if topic:
        rows = rows.filter(topic=topic)
    if language:
        rows = rows.filter(language=language)
    if on_case is not None:
        rows = rows.filter(case__isnull=not on_case)
    return rows.order_by(
        F("response_due_at").asc(nulls_last=True),
        F("awaiting_since").asc(nulls_last=True),
        # Every conversation has a last message: the index's order (nulls first) is kept.
        F("last_message_at").desc(),
        "-pk",
    )


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    clock: Clock


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


def inbox_list(
    *,
    at: dt.datetime,
    page: int = 1,
    page_size: int = 50,
    with_count: bool = False,
    **filters: Any,
) -> InboxPage:
    """One page of the inbox (``inbox_queryset``'s filters); one query (two ``with_count``).
    Each row has its conversation (marketplace, order, case, assignee loaded) and its clock."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(page, 1)
    rows = inbox_queryset(at=at, **filters)
    start = (page - 1) * page_size
    found = list(
        rows.select_related("marketplace", "order", "case", "assignee")[
            start : start + page_size + 1
        ]
    )
    count = rows.count() if with_count else None
    return InboxPage(
        rows=[
            InboxRow(c, clock_state(c.response_due_at, c.response_at_risk_at, at=at))
            for c in found[:page_size]
        ],
        page=page,
        page_size=page_size,
        has_next=len(found) > page_size,
        count=count,
    )


def inbox_counts(
    *, at: dt.datetime, user: Any = None, marketplaces: Sequence[int] | None = None
) -> dict[str, int]:
    """The work-queue counts of open conversations, in one query."""
    rows = Conversation.objects.filter(status__in=OPEN_STATUSES)
    if marketplaces:
        rows = rows.filter(marketplace_id__in=list(marketplaces))
    counts = rows.aggregate(
        needs_answer=Count("pk", filter=Q(awaiting_response=True)),
        unread=Count("pk", filter=Q(status=ConversationStatus.UNREAD)),
        overdue=Count("pk", filter=Q(response_due_at__lt=at)),
        at_risk=Count("pk", filter=Q(response_at_risk_at__lte=at, response_due_at__gte=at)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True, awaiting_response=True)),
        mine=Count("pk", filter=Q(assignee_id=getattr(user, "pk", None))),
    )
    return {name: value or 0 for name, value in counts.items()}


# -- one conversation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadItem:
    """One entry of a thread: a message, a reply in the outbox (queued, sending, failed) or
    an internal note."""

    kind: str  # message, outbound, note
    at: dt.datetime
    item: Any


@dataclass(frozen=True)
class CaseSummary:
    case: Case
    deadlines: dict[str, dt.datetime]
    evidence: dict[str, int]  # review status -> count


@dataclass
class ConversationDetail:
    conversation: Conversation
    clock: Clock
    thread: list[ThreadItem] = field(default_factory=list)
    cases: list[CaseSummary] = field(default_factory=list)


def conversation_detail(conversation_id: int, *, at: dt.datetime) -> ConversationDetail | None:
    """The conversation page's reads, in a fixed number of queries (six)."""
    conversation = (
        Conversation.objects.select_related("marketplace", "order", "case", "assignee")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        return None
    messages = list(
        Message.objects.filter(conversation_id=conversation_id)
        .select_related("author", "answered_by")
        .order_by("sent_at", "pk")
    )
    outbox = list(
        OutboundMessage.objects.filter(conversation_id=conversation_id)
        .exclude(status=OutboxStatus.SENT)
        .prefetch_related("attachments")
        .order_by("queued_at", "pk")
    )
    notes = list(ConversationNote.objects.filter(conversation_id=conversation_id))
    thread = (
        [ThreadItem("message", m.sent_at, m) for m in messages]
        + [ThreadItem("outbound", o.queued_at, o) for o in outbox]
        + [ThreadItem("note", n.created_at, n) for n in notes]
    )
    thread.sort(key=lambda item: item.at)
    detail = ConversationDetail(
        conversation=conversation,
        clock=clock_state(conversation.response_due_at, conversation.response_at_risk_at, at=at),
        thread=thread,
    )
    if conversation.order_id is not None:
        cases = list(
            Case.objects.filter(order_id=conversation.order_id)
            .select_related("marketplace")
            .annotate(
                evidence_pending=Count("evidence", filter=Q(evidence__review_status="pending")),
                evidence_accepted=Count("evidence", filter=Q(evidence__review_status="accepted")),
                evidence_rejected=Count("evidence", filter=Q(evidence__review_status="rejected")),
            )
            .order_by("-opened_at")
        )
        detail.cases = [
            CaseSummary(
                case=case,
                deadlines=active_deadlines(case),
                evidence={
                    "pending": case.evidence_pending,
                    "accepted": case.evidence_accepted,
                    "rejected": case.evidence_rejected,
                },
            )
            for case in cases
        ]
    return detail


def case_conversations(case: Case) -> QuerySet[Conversation]:
    """The conversations of a case (filed on it), newest first."""
    return (
        Conversation.objects.filter(case=case)
        .select_related("marketplace", "assignee")
        .order_by("-last_message_at", "-pk")
    )


# -- the dashboard: response times ----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseTimeRow:
    """Response times of one marketplace or agent over a window.

    ``timed``: received messages with a clock whose outcome is known (answered, or past due);
    ``answered``: of these, answered; ``within_rule``: answered by their due time;
    ``median_seconds``: median time to the answer of the answered ones."""

    key: Any
    label: str
    timed: int
    answered: int
    within_rule: int
    median_seconds: float | None

    @property
    def share_within_rule(self) -> float | None:
        return self.within_rule / self.timed if self.timed else None


@dataclass(frozen=True)
class ResponseTimeReport:
    days: int
    by_marketplace: list[ResponseTimeRow]
    by_agent: list[ResponseTimeRow]


def _report_rows(*, at: dt.datetime, days: int, marketplaces: Sequence[int] | None) -> list[tuple]:
    since = at - dt.timedelta(days=days)
    rows = Message.objects.filter(
        direction=Direction.INBOUND,
        response_due_at__isnull=False,
        received_at__gte=since,
        received_at__lt=at,
    ).filter(Q(answered_at__lte=at) | Q(response_due_at__lt=at))
    if marketplaces:
        rows = rows.filter(marketplace_id__in=list(marketplaces))
    return list(
        rows.values_list(
            "marketplace_id",
            "marketplace__name",
            "answered_by_id",
            "answered_by__username",
            "received_at",
            "answered_at",
            "response_due_at",
        )
    )


def response_time_report(
    *, at: dt.datetime, days: int = 30, marketplaces: Sequence[int] | None = None
) -> ResponseTimeReport:
    """Response time per marketplace and per agent over the ``days`` before ``at``: messages
    received in the window that run a clock (``response_due_at``), counted once answered or
    past due; an answer counts at the time it left (``answered_at``) and for its author
    (``answered_by``; "—" for replies made outside the system)."""
    return _report_of(_report_rows(at=at, days=days, marketplaces=marketplaces), at=at, days=days)


def _report_of(values: list[tuple], *, at: dt.datetime, days: int) -> ResponseTimeReport:
    since = at - dt.timedelta(days=days)
    by_marketplace: dict[Any, list[tuple]] = defaultdict(list)
    by_agent: dict[Any, list[tuple]] = defaultdict(list)
    labels: dict[tuple[str, Any], str] = {}
    for mkt, mkt_name, agent, agent_name, received, answered, due in values:
        if received < since:
            continue  # read for a longer window
        if answered is not None and answered > at:
            answered = None  # answered after the moment the report looks from
        entry = (received, answered, due)
        by_marketplace[mkt].append(entry)
        labels[("m", mkt)] = mkt_name
        if answered is not None:
            by_agent[agent].append(entry)
            labels[("a", agent)] = agent_name or "—"

    def row(kind: str, key: Any, entries: list[tuple]) -> ResponseTimeRow:
        answered = [(r, a, d) for r, a, d in entries if a is not None]
        times = [(a - r).total_seconds() for r, a, _d in answered]
        return ResponseTimeRow(
            key=key,
            label=labels[(kind, key)],
            timed=len(entries),
            answered=len(answered),
            within_rule=sum(1 for _r, a, d in answered if a <= d),
            median_seconds=statistics.median(times) if times else None,
        )

    return ResponseTimeReport(
        days=days,
        by_marketplace=sorted(
            (row("m", k, v) for k, v in by_marketplace.items()), key=lambda r: r.label
        ),
        by_agent=sorted((row("a", k, v) for k, v in by_agent.items()), key=lambda r: r.label),
    )


def response_time_reports(
    *, at: dt.datetime, marketplaces: Sequence[int] | None = None
) -> list[ResponseTimeReport]:
    """The dashboard's three windows (7, 30 and 90 days), from one read of the longest."""
    rows = _report_rows(at=at, days=max(REPORT_WINDOWS), marketplaces=marketplaces)
    return [_report_of(rows, at=at, days=days) for days in REPORT_WINDOWS]
