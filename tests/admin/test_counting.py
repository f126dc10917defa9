"""Counting long lists without a full COUNT."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case
from tests.factories import open_case
from workspace.counting import EstimatedCountPaginator, bounded_count, planner_estimate

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


def test_bounded_count_stops_at_the_limit():
    for _ in range(5):
        open_case("cancellation", actor=SYSTEM)
    assert bounded_count(Case.objects.all(), 10) == 5
    assert bounded_count(Case.objects.all(), 3) == 4  # "more than 3"


def test_short_lists_are_counted_exactly():
    for _ in range(3):
        open_case("cancellation", actor=SYSTEM)
    paginator = EstimatedCountPaginator(Case.objects.order_by("pk"), 2, exact_limit=10)
    assert (paginator.count, paginator.num_pages) == (3, 2)
    assert not paginator.is_estimate and not paginator.is_lower_bound


def test_the_count_is_one_limited_query():
    for _ in range(4):
        open_case("cancellation", actor=SYSTEM)
    paginator = EstimatedCountPaginator(Case.objects.order_by("pk"), 2, exact_limit=2)
    with CaptureQueriesContext(connection) as captured:
        count = paginator.count
    assert "LIMIT 3" in captured.captured_queries[0]["sql"].upper()
    if connection.vendor == "postgresql":
        assert paginator.is_estimate and count > 2
    else:  # no estimate: counted exactly, by a second query
        assert (count, paginator.is_lower_bound, paginator.is_estimate) == (4, False, False)
        assert len(captured.captured_queries) == 2


@pytest.mark.postgres
def test_postgresql_gives_the_planner_estimate():
    for _ in range(30):
        open_case("cancellation", actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")

    estimate = planner_estimate(Case.objects.all())

    assert estimate == 30
    paginator = EstimatedCountPaginator(Case.objects.order_by("pk"), 10, exact_limit=5)
    assert paginator.count == 30 and paginator.is_estimate
    assert paginator.num_pages == 3


def test_other_databases_have_no_estimate():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has an estimate")
    assert planner_estimate(Case.objects.all()) is None
