"""The work queues linked from the admin's home page ("My overdue cases"...): saved case-list
links with a count. The counts stop at ``COUNT_CAP`` so that the home page never counts a large
table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from cases.choices import CaseState
from cases.models import Case
from cases.selectors import open_cases_q

from .counting import bounded_count
from .filters import MINE, UNASSIGNED, assignee_q, refund_q, request_now
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
