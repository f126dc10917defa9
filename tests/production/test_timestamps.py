"""PostgreSQL timestamps are read by psycopg's compiled loader (``aftersales.db``) and read the
same as through Django's own: aware, in UTC, to the microsecond."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from aftersales.db import _utc_loader
from cases.models import Case
from tests.factories import open_case

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_utc_connection_reads_timestamps_with_the_compiled_loader(system_actor):
    # given a case opened an hour ago, at a moment with microseconds, given at +08:00
    moment = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=123456)
    moment = moment.astimezone(dt.timezone(dt.timedelta(hours=8)))
    case = open_case("cancellation", actor=system_actor, opened_at=moment)
    connection.ensure_connection()
    # then the connection holds the compiled loader, Django keeps it on each cursor
    with connection.cursor() as cursor:
        loader = cursor.connection.adapters.get_loader(1184, 0)  # timestamptz, text
        assert loader is _utc_loader()
        cursor.execute(
            "SELECT opened_at, %s::timestamptz, NULL::timestamptz FROM cases_case WHERE id = %s",
            ["2026-03-01 01:30:15.000001+00", case.pk],
        )
        opened, literal, empty = cursor.fetchone()
    # and the values are the same aware datetimes, in UTC
    assert opened == moment and opened.tzinfo is dt.UTC
    assert literal == dt.datetime(2026, 3, 1, 1, 30, 15, 1, tzinfo=dt.UTC)
    assert empty is None
    assert Case.objects.get(pk=case.pk).opened_at == moment
    assert Case.objects.filter(opened_at__lt=timezone.now()).filter(pk=case.pk).exists()
