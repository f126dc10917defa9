"""Reads that more than one door makes, so that the admin and the API show the same cases.

* the conditions their list filters share: open, closed, overdue (``*_q``, combinable);
* the case list of a set of marketplaces, each row with what a list shows (``case_list``);
* one case by reference with everything its detail shows (``case_by_reference``);
* one part of a case (evidence, evidence request, refund request), never another case's.

Writes go through ``cases.services``; these functions only read. Their query counts are fixed by
``tests/admin/test_queries.py`` and ``tests/api/test_query_counts.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.db.models import Prefetch, Q, QuerySet

from .choices import CLOSED_STATES
from .models import Case, CaseEvent, Evidence, EvidenceRequest, RefundRequest

# What a row of a case list shows besides the case: its order (id, customer) and assignee.
LIST_RELATED = ("order", "assignee")


# -- list conditions ------------------------------------------------------------------------------


def open_cases_q() -> Q:
    """Cases still worked: neither closed nor withdrawn."""
    return ~Q(state__in=CLOSED_STATES)


def closed_cases_q() -> Q:
    """Cases closed or withdrawn."""
    return Q(state__in=CLOSED_STATES)


def overdue_q(at: dt.datetime) -> Q:
    """A running deadline has passed at ``at`` (``next_due_at`` is the earliest running one)."""
    return Q(next_due_at__lt=at)


def not_overdue_q(at: dt.datetime) -> Q:
    """No running deadline has passed at ``at``, or none runs."""
    return Q(next_due_at__gte=at) | Q(next_due_at__isnull=True)


# -- cases ----------------------------------------------------------------------------------------


def case_list(
    *, marketplace_ids: Collection[int] | None = None, with_marketplace: bool = False
) -> QuerySet[Case]:
    """Cases as a list shows them, of ``marketplace_ids`` (every marketplace when None): each
    row with its order and assignee, so a page of any length is one query.

    ``with_marketplace`` joins the marketplace too: the admin shows its name and local times on
    every row; the API knows its client's marketplaces already and leaves the join out.
    """
    queryset = Case.objects.all()
    if marketplace_ids is not None:
        # Sorted: the same scope gives the same SQL (and plan cache entry) every time.
        queryset = queryset.filter(marketplace_id__in=sorted(marketplace_ids))
    related = ("marketplace", *LIST_RELATED) if with_marketplace else LIST_RELATED
    return queryset.select_related(*related)


def case_by_reference(
    *, reference: str, marketplace_ids: Collection[int], with_parts: bool = False
) -> Case | None:
    """The case ``reference`` if it is one of ``marketplace_ids``' cases, else None.

    With its marketplace and order (one query); ``with_parts`` adds what the case's detail
    shows: the assignee, evidence, evidence requests, refund requests and the history oldest
    first (four more queries, whatever their number).
    """
    queryset = Case.objects.filter(marketplace_id__in=marketplace_ids, reference=reference)
    if with_parts:
        queryset = queryset.select_related("marketplace", *LIST_RELATED).prefetch_related(
            "evidence",
            "evidence_requests",
            "refund_requests",
            Prefetch("events", queryset=CaseEvent.objects.order_by("occurred_at", "pk")),
        )
    else:
        queryset = queryset.select_related("marketplace", "order")
    return queryset.first()


# -- parts of a case ------------------------------------------------------------------------------
# A part is looked up within its case: an id of another case's part finds nothing.


def case_evidence(*, case: Case, pk: int) -> Evidence | None:
    return Evidence.objects.filter(case=case, pk=pk).first()


def case_evidence_request(*, case: Case, pk: int) -> EvidenceRequest | None:
    return EvidenceRequest.objects.filter(case=case, pk=pk).first()


def case_refund_request(*, case: Case, pk: int) -> RefundRequest | None:
    return RefundRequest.objects.filter(case=case, pk=pk).first()
