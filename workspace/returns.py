"""The return requests an agent must answer (Amazon: within 48 hours, weekends included; the
Return Dissatisfaction Rate counts those answered late), as the inbox, the admin home page and
the return requests work list read them: the conditions of the queues and their counts, and
the most urgent requests, each in one query whatever their number.

Reads only: the answer is ``cases.services.returns.return_request_answer`` (the API's
``/api/v1/return-requests/{id}/answer/`` calls the same service).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q

from cases.models import ReturnRequest

# Unanswered requests whose clock ends within this many hours are "at risk".
AT_RISK_HOURS = 12


def unanswered_q() -> Q:
    """Valid requests still waiting for the seller's answer."""
    return Q(decision="", is_valid=True)


def clock_q(value: str, *, at: dt.datetime) -> Q | None:
    """``overdue`` (past the clock) or ``at_risk`` (due within ``AT_RISK_HOURS``); None for
    another value."""
    if value == "overdue":
        return unanswered_q() & Q(response_due_at__lt=at)
    if value == "at_risk":
        return unanswered_q() & Q(
            response_due_at__gte=at, response_due_at__lt=at + dt.timedelta(hours=AT_RISK_HOURS)
        )
    return None


def return_request_counts(*, at: dt.datetime) -> dict[str, int]:
    """Requests awaiting an answer, past their clock and at risk, in one query."""
    counts = ReturnRequest.objects.filter(unanswered_q()).aggregate(
        waiting=Count("pk"),
        overdue=Count("pk", filter=Q(response_due_at__lt=at)),
        at_risk=Count(
            "pk",
            filter=Q(
                response_due_at__gte=at,
                response_due_at__lt=at + dt.timedelta(hours=AT_RISK_HOURS),
            ),
        ),
    )
    return {name: value or 0 for name, value in counts.items()}


def return_requests_to_answer(*, limit: int = 5) -> list[ReturnRequest]:
    """The ``limit`` most urgent requests awaiting an answer (the earliest clock first, those
    without a clock last), with their marketplace, order and case: one query."""
    return list(
        ReturnRequest.objects.filter(unanswered_q())
        .select_related("marketplace", "order", "case")
        .order_by(F("response_due_at").asc(nulls_last=True), "requested_at", "pk")[:limit]
    )
