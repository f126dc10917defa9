"""The work queues linked from the admin's home page ("My overdue cases"...): saved case-list
links with a count, and the answers waiting (conversations, return requests). The case counts
stop at ``COUNT_CAP`` so that the home page never counts a large table; the page makes a fixed
number of queries (``tests/admin/test_home_counts.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseState
from cases.models import Case
from cases.selectors import open_cases_q
from messaging.selectors import inbox_counts

from .counting import bounded_count
from .filters import MINE, UNASSIGNED, assignee_q, refund_q, request_now
from .returns import return_request_counts
from .urgency import DueWindow, due_window_q, marketplaces_with_calendars

COUNT_CAP = 99


@dataclass(frozen=True)
class Queue:
    """A named case list: the case list's filter parameters (open cases only)."""

    key: str
    label: Promise
    params: dict[str, str] = field(default_factory=dict)
    personal: bool = False

    @property
    def url(self) -> str:
        query = urlencode(self.params)
        base = reverse("admin:cases_case_changelist")
        return f"{base}?{query}" if query else base


QUEUES: tuple[Queue, ...] = (
    Queue("my_overdue", _("My overdue cases"), {"assignee": MINE, "due": "overdue"}, True),
    Queue("my_today", _("My cases due today"), {"assignee": MINE, "due": "today"}, True),
    Queue(
        "my_soon",
        _("My cases due within 2 business days"),
        {"assignee": MINE, "due": "soon"},
        True,
    ),
    Queue("my_open", _("All my open cases"), {"assignee": MINE}, True),
    Queue("unassigned", _("Unassigned cases"), {"assignee": UNASSIGNED}),
    Queue("overdue", _("Overdue cases"), {"due": "overdue"}),
    Queue("soon", _("Due within 2 business days"), {"due": "soon"}),
    Queue("to_review", _("Evidence to review"), {"state": CaseState.UNDER_REVIEW}),
    Queue("refunds", _("Refund requests awaiting a decision"), {"refund": "undecided"}),
    Queue("escalated", _("Escalated to the platform"), {"escalated__exact": "1"}),
)


def queue_queryset(queue: Queue, request: Any) -> QuerySet:
    """The open cases of ``queue`` for ``request.user``: the same conditions as the case list's
    filters with the queue's parameters."""
    condition = Q()
    for name, value in queue.params.items():
        if name == "assignee":
            condition &= assignee_q(value, request.user) or Q()
        elif name == "due":
            condition &= due_window_q(
                DueWindow(value),
                at=request_now(request),
                marketplaces=marketplaces_with_calendars(request),
            )
        elif name == "refund":
            condition &= refund_q(value) or Q()
        elif name == "state":
            condition &= Q(state=value)
        elif name == "escalated__exact":
            condition &= Q(escalated=value == "1")
    return Case.objects.filter(open_cases_q(), condition)


@dataclass(frozen=True)
class QueueLink:
    queue: Queue
    count: int

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def queue_links(request: Any) -> list[QueueLink]:
    return [
        QueueLink(queue, bounded_count(queue_queryset(queue, request), COUNT_CAP))
        for queue in QUEUES
    ]


@dataclass(frozen=True)
class CountLink:
    """A count on the home page beside the case queues: conversations and return requests.
    ``url`` is None where the list it would open does not exist."""

    key: str
    label: Promise
    count: int
    url: str | None = None
    alert: bool = False

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


def _url(name: str, query: dict[str, str] | None = None) -> str | None:
    try:
        base = reverse(name)
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode(query)}" if query else base


def answer_links(request: Any) -> list[CountLink]:
    """Conversations waiting for the seller's answer (``messaging.selectors.inbox_counts``, one
    query) and return requests awaiting an answer (one query)."""
    at = request_now(request)
    conversations = inbox_counts(at=at, user=request.user)
    inbox = _url("admin:messaging_conversation_changelist")
    returns = return_request_counts(at=at)
    return [
        CountLink(
            "conversations",
            _("Conversations needing an answer"),
            conversations["needs_answer"],
            inbox,
        ),
        CountLink(
            "conversations_overdue",
            _("Conversations past their answer clock"),
            conversations["overdue"],
            inbox,
            alert=True,
        ),
        CountLink(
            "returns",
            _("Return requests awaiting an answer"),
            returns["waiting"],
            _url("admin:cases_returnrequest_changelist", {"answered": "no"}),
        ),
        CountLink(
            "returns_overdue",
            _("Return requests past their answer clock"),
            returns["overdue"],
            _url("admin:cases_returnrequest_changelist", {"clock": "overdue"}),
            alert=True,
        ),
    ]
