"""The sweep finds what changed in one query: the same cases as judging every open case clock by
clock would, nothing (and no write) when nothing changed, and a burst told in one run."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.deadlines import active_deadlines, deadline_status
from cases.models import Case
from jobs import notify
from jobs.models import DeadlineAlert
from jobs.sweep import _LEVEL_OF, cases_with_new_findings, deadline_sweep_run
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case, run, shortest_paths

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SWEEP_AT = dt.datetime(2025, 9, 24, 10, 0, tzinfo=PARIS)
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def team(settings):
    settings.TEAM_EMAILS = ["team@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def many_cases(system_actor, count: int) -> list[Case]:
    """Cases of every kind in several states, opened from 30 days to an hour before the sweep,
    on a French and a Chinese marketplace."""
    made = []
    kinds = ["damaged_item", "late_shipment", "out_of_stock", "customs_delay", "wrong_item"]
    for index in range(count):
        kind = kinds[index % len(kinds)]
        marketplace = "amazon_fr" if index % 2 else "tmall"
        opened_at = SWEEP_AT - dt.timedelta(hours=1 + (index * 37) % (30 * 24))
        order = make_order(
            marketplace,
            placed_at=opened_at - dt.timedelta(days=3),
            promised_ship_date=(opened_at - dt.timedelta(days=5 + index % 3)).date(),
        )
        case = open_case(
            kind, actor=system_actor, marketplace=marketplace, order=order, opened_at=opened_at
        )
        paths = sorted(shortest_paths(kind).items())
        _state, path = paths[index % len(paths)]
        made.append(run(case, path, system_actor, step=dt.timedelta(minutes=5)))
    return made


def judged_one_by_one(at: dt.datetime) -> dict[int, list[int]]:
    """The reference: every open case, every running clock, ``deadline_status``, minus the
    alerts recorded (what the sweep did before it was set-based)."""
    seen = set(DeadlineAlert.objects.values_list("case_id", "clock", "level", "due_at"))
    active = {m.pk: m for m in Marketplace.objects.filter(is_active=True)}
    found: dict[int, list[int]] = {}
    for case in Case.objects.open().select_related("order").order_by("pk"):
        if case.marketplace_id not in active:
            continue
        for clock, due_at in active_deadlines(case).items():
            level = _LEVEL_OF.get(
                deadline_status(due_at, at=at, marketplace=active[case.marketplace_id]).status
            )
            if level is not None and (case.pk, clock, level, due_at) not in seen:
                found.setdefault(case.marketplace_id, []).append(case.pk)
                break
    return found


@pytest.mark.parametrize("days_later", [0, 2, 9, 40])
def test_one_query_finds_what_judging_each_case_finds(system_actor, days_later):
    many_cases(system_actor, 30)
    at = SWEEP_AT + dt.timedelta(days=days_later)
    marketplaces = list(Marketplace.objects.filter(is_active=True))
    with CaptureQueriesContext(connection) as captured:
        found = cases_with_new_findings(marketplaces=marketplaces, at=at)
    # One query reads the cases and the alerts (the others load calendars, once a process).
    assert (
        len([q for q in captured if '"cases_case"' in q["sql"] or "cases_case " in q["sql"]]) == 1
    )
    assert found == judged_one_by_one(at)
    assert found  # the data has clocks at risk or overdue at every date


def test_after_a_sweep_nothing_is_found_and_nothing_written(system_actor):
    many_cases(system_actor, 30)
    first = deadline_sweep_run(at=SWEEP_AT)
    assert first.alerts_created > 10
    assert judged_one_by_one(SWEEP_AT) == {}
    alerts, versions = DeadlineAlert.objects.count(), sorted(Case.objects.values_list("version"))
    mail.outbox.clear()

    with CaptureQueriesContext(connection) as captured:
        again = deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5))

    assert (again.cases_checked, again.alerts_created, again.emails_sent) == (0, 0, 0)
    assert mail.outbox == []
    assert DeadlineAlert.objects.count() == alerts
    assert sorted(Case.objects.values_list("version")) == versions
    writes = [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith(WRITES)]
    # Only the releases of dead runs' claims, which find none: no row written.
    assert all("notice" in sql.lower() or "notified_to" in sql.lower() for sql in writes), writes
    assert len(captured) <= 12


def test_queries_of_a_quiet_sweep_do_not_grow_with_the_cases(system_actor):
    many_cases(system_actor, 6)
    deadline_sweep_run(at=SWEEP_AT)
    with CaptureQueriesContext(connection) as few:
        deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5))
    many_cases(system_actor, 24)
    deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=10))
    with CaptureQueriesContext(connection) as more:
        deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=15))
    assert len(more) == len(few)


def test_a_burst_is_recorded_and_told_in_one_run_each_row_written_once(system_actor, monkeypatch):
    monkeypatch.setattr(notify, "NOTICE_BATCH", 4)  # a burst many times the batch
    many_cases(system_actor, 30)

    first = deadline_sweep_run(at=SWEEP_AT)

    assert first.alerts_created > 3 * notify.NOTICE_BATCH
    assert not DeadlineAlert.objects.filter(notified_at__isnull=True).exists()
    told = sum(m.body.count("AS-") for m in mail.outbox)
    shown = DeadlineAlert.objects.exclude(clock__in=["supplier_contact", "supplier_switch"])
    assert told == shown.count()
    marks = set(DeadlineAlert.objects.values_list("pk", "notified_at", "notified_to"))
    assert not [to for _pk, _at, to in marks if to.startswith("claimed:")]
    mail.outbox.clear()

    second = deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5))

    assert (second.alerts_created, second.emails_sent) == (0, 0)
    assert set(DeadlineAlert.objects.values_list("pk", "notified_at", "notified_to")) == marks
