"""``cases.rows.values_rows``: a ``.values()`` page read with fewer conversion steps gives the
very dicts the ORM gives, on every backend, for every kind of column."""

import datetime as dt

import pytest
from django.db.models import Count, F
from django.utils import timezone

from cases.choices import Door
from cases.models import Case, CaseEvent, Order, RefundRequest
from cases.rows import values_rows
from cases.services import case_assign
from tests.factories import open_case, run

pytestmark = pytest.mark.django_db


def test_values_rows_equal_the_orm_for_every_column(system_actor, agent):
    # given cases with empty and set times, flags, an assignee, a refund (decimal), an event
    plain = open_case(
        "cancellation", actor=system_actor, refund_request={"amount": "30.50", "currency": "EUR"}
    )
    claim = run(
        open_case("damaged_item", actor=system_actor, marketplace="amazon_fr"),
        ["request_evidence", "start_review", "escalate"],
        system_actor,
    )
    case_assign(case=claim, assignee=agent, actor=system_actor, door=Door.COMMAND)
    Case.objects.filter(pk=plain.pk).update(resolved_at=timezone.now() - dt.timedelta(days=3))
    every_case_column = Case.objects.values(
        *(f.attname for f in Case._meta.concrete_fields),
        "order__external_id",
        "order__placed_at",
        "order__total",
        "assignee__username",
        due=F("next_due_at"),
        event_count=Count("events"),
    ).order_by("pk")
    for queryset in (
        every_case_column,
        Order.objects.values().order_by("pk"),
        CaseEvent.objects.values().order_by("pk"),
        RefundRequest.objects.values().order_by("pk"),
    ):
        # when
        fast = values_rows(queryset)
        # then: the same dicts, the same types (aware times, booleans, decimals, dicts)
        expected = list(queryset)
        assert fast == expected
        assert len(fast) >= 1
        for mine, theirs in zip(fast, expected, strict=True):
            assert list(mine) == list(theirs)
            assert [type(v) for v in mine.values()] == [type(v) for v in theirs.values()]
            for value in mine.values():
                if isinstance(value, dt.datetime):
                    assert value.utcoffset() == dt.timedelta(0)
    rows = values_rows(every_case_column)
    assert any(isinstance(row["resolved_at"], dt.datetime) for row in rows)
    assert any(row["escalated"] is True for row in rows)


def test_values_rows_of_nothing_is_empty(system_actor):
    open_case("cancellation", actor=system_actor)
    assert values_rows(Case.objects.none().values("pk")) == []
    assert values_rows(Case.objects.filter(pk__in=[]).values("pk")) == []
    assert values_rows(Case.objects.filter(reference="nothing").values("pk", "opened_at")) == []


def test_fetch_many_gives_each_statements_rows_and_django_errors(system_actor):
    from django.db import DatabaseError, connection, transaction

    from cases.rows import fetch, fetch_many

    first = open_case("cancellation", actor=system_actor)
    second = open_case("cancellation", actor=system_actor, marketplace="jd")
    statements = [
        ("SELECT reference FROM cases_case WHERE id = %s", [first.pk]),
        ("SELECT reference FROM cases_case WHERE id = %s", [-1]),
        (
            "SELECT reference FROM cases_case WHERE id IN (%s, %s) ORDER BY id",
            [first.pk, second.pk],
        ),
    ]
    assert fetch_many(statements) == [fetch(sql, params) for sql, params in statements]
    assert fetch_many(statements) == [
        [(first.reference,)],
        [],
        [(first.reference,), (second.reference,)],
    ]
    # a statement the database refuses: Django's own error, and the connection still works
    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_many([statements[0], ("SELECT no_such_column FROM cases_case", [])])
    assert fetch("SELECT reference FROM cases_case WHERE id = %s", [second.pk]) == [
        (second.reference,)
    ]
    assert connection.is_usable()
