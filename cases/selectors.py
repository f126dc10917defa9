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
import functools
from collections.abc import Collection, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, Q, QuerySet

from marketplaces.models import Marketplace

from .choices import CLOSED_STATES
from .models import Case, CaseEvent, Evidence, EvidenceRequest, Order, RefundRequest
from .rows import ModelColumns, fetch_many, placeholders, prefetched

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


def case_list_values(
    *, marketplace_ids: Collection[int], columns: tuple[str, ...]
) -> QuerySet[Case, dict[str, Any]]:
    """``case_list``'s cases of ``marketplace_ids`` as ``.values(*columns)`` (names may follow
    relations: ``order__external_id``), to be filtered and ordered further.

    The values queryset is built once per column set and copied per call: resolving 30 names
    through their joins cost 0.3 ms of every API list request (of 2 ms for a one-row page).
    """
    return _case_values(columns).filter(marketplace_id__in=sorted(marketplace_ids))


@functools.cache
def _case_values(columns: tuple[str, ...]) -> QuerySet[Case, dict[str, Any]]:
    return Case.objects.values(*columns)  # never evaluated itself: each caller filters a copy


def case_by_reference(
    *,
    reference: str,
    marketplace_ids: Collection[int],
    with_parts: bool = False,
    marketplaces: Mapping[int, Marketplace] | None = None,
) -> Case | None:
    """The case ``reference`` if it is one of ``marketplace_ids``' cases, else None.

    With its marketplace, order and assignee (one query); ``with_parts`` adds what the case's
    detail shows: evidence, evidence requests, refund requests and the history oldest first
    (four more queries, whatever their number). ``marketplaces`` (by id), when the caller
    holds them already, are attached instead of joined.
    """
    return case_detail(
        reference=reference,
        marketplace_ids=marketplace_ids,
        marketplaces=marketplaces,
        with_parts=with_parts,
    )


_CASE = ModelColumns(Case, "c")
_ORDER = ModelColumns(Order, "o")
_ASSIGNEE = ModelColumns(get_user_model(), "u")
_MARKETPLACE = ModelColumns(Marketplace, "m")
# The parts a detail shows, each in its model's order but the history, oldest first.
_PARTS: tuple[tuple[str, ModelColumns[Any], tuple[str, ...] | None], ...] = (
    ("evidence", ModelColumns(Evidence, "p"), None),
    ("evidence_requests", ModelColumns(EvidenceRequest, "p"), None),
    ("refund_requests", ModelColumns(RefundRequest, "p"), None),
    ("events", ModelColumns(CaseEvent, "p"), ("occurred_at", "pk")),
)


def case_detail(
    *,
    reference: str,
    marketplace_ids: Collection[int],
    marketplaces: Mapping[int, Marketplace] | None = None,
    with_parts: bool = True,
) -> Case | None:
    """The case ``reference`` of ``marketplace_ids`` with its marketplace, order, assignee,
    evidence, evidence requests, refund requests and history (oldest first): five queries
    (one without ``with_parts``, for a change that reads the case before it is locked).

    Read by hand-written SQL over the models' columns (``cases.rows``): every API read of a
    case makes it, and the ORM's compiling of these five queries cost three times the
    database's work. On PostgreSQL the five go to the server together (``fetch_many``).
    ``marketplaces`` (by id) are attached when given, else joined.
    """
    ids = sorted(marketplace_ids)
    if not ids:
        return None
    columns = [_CASE.select(), _ORDER.select(), _ASSIGNEE.select()]
    joins = [
        f"JOIN {_table(Order)} o ON o.id = c.order_id",
        f"LEFT JOIN {_table(_ASSIGNEE.model)} u ON u.id = c.assignee_id",
    ]
    if marketplaces is None:
        columns.append(_MARKETPLACE.select())
        joins.append(f"JOIN {_table(Marketplace)} m ON m.id = c.marketplace_id")
    scope = f"c.reference = %s AND c.marketplace_id IN ({placeholders(len(ids))})"
    statements = [
        (
            f"SELECT {', '.join(columns)} FROM {_table(Case)} c {' '.join(joins)} WHERE {scope}",
            [reference, *ids],
        )
    ]
    if with_parts:
        # Each part by the case's reference, not its id: the five reads need no answer from
        # one another and go to the database together (``fetch_many``).
        case_id = f"(SELECT c.id FROM {_table(Case)} c WHERE {scope})"
        statements += [
            (
                f"SELECT {part.select()} FROM {_table(part.model)} p WHERE p.case_id = {case_id} "
                f"ORDER BY {part.order_by(ordering)}",
                [reference, *ids],
            )
            for _name, part, ordering in _PARTS
        ]
    found, *parts = fetch_many(statements)
    if not found:
        return None
    (row,) = found
    case = _CASE.instance(row)
    start = _CASE.count
    Case.order.field.set_cached_value(case, _ORDER.build(row, start))
    start += _ORDER.count
    Case.assignee.field.set_cached_value(case, _ASSIGNEE.build(row, start))
    start += _ASSIGNEE.count
    if marketplaces is None:
        marketplace = _MARKETPLACE.instance(row, start)
    else:
        # the caller's marketplaces, or (a caller whose ids and marketplaces disagree) a read
        marketplace = marketplaces.get(case.marketplace_id) or Marketplace.objects.get(
            pk=case.marketplace_id
        )
    Case.marketplace.field.set_cached_value(case, marketplace)
    for (name, part, _ordering), rows in zip(_PARTS if with_parts else (), parts, strict=True):
        prefetched(case, name, [part.build(values) for values in rows])
    return case


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# -- parts of a case ------------------------------------------------------------------------------
# A part is looked up within its case: an id of another case's part finds nothing.


def case_evidence(*, case: Case, pk: int) -> Evidence | None:
    return Evidence.objects.filter(case=case, pk=pk).first()


def case_evidence_request(*, case: Case, pk: int) -> EvidenceRequest | None:
    return EvidenceRequest.objects.filter(case=case, pk=pk).first()


def case_refund_request(*, case: Case, pk: int) -> RefundRequest | None:
    return RefundRequest.objects.filter(case=case, pk=pk).first()
