"""The deadline sweep: each clock at risk or overdue is recorded, evented and notified once.

Times are Paris (Amazon.fr's calendar) in late September 2025, which has no French holiday:
the sweep runs on Wednesday 24 September at 10:00.
"""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail

from cases.choices import Door, EventType
from cases.models import CaseEvent
from cases.services import case_assign, case_record_first_response
from jobs import sweep as sweep_module
from jobs.models import DeadlineAlert, NoticeClaim
from jobs.notify import CLAIM_LEASE
from jobs.sweep import deadline_sweep_run
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SWEEP_AT = dt.datetime(2025, 9, 24, 10, 0, tzinfo=PARIS)


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def team(settings):
    settings.TEAM_EMAILS = ["team@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def cases(agent, system_actor):
    agent.email = "agent@example.com"
    agent.save()

    def opened(kind, at):
        order = make_order("amazon_fr", placed_at=at - dt.timedelta(days=2))
        return open_case(
            kind, actor=system_actor, marketplace="amazon_fr", order=order, opened_at=at
        )

    # A: answer due 24 h after opening (Tue 08:00 -> Wed 08:00): overdue at 10:00; assigned.
    a = opened("damaged_item", paris(2025, 9, 23, 8))
    case_assign(case=a, assignee=agent, actor=system_actor, door=Door.COMMAND)
    # B: opened Thu 4 Sep 10:00, unassigned. Answer overdue since Fri 5 Sep 10:00. Resolution:
    # 15 business days = Sep 5, 8-12, 15-19, 22, 23, 24, 25 -> due Thu 25 Sep 23:59:59, one
    # business day left on the 24th: at risk (within 2).
    b = opened("out_of_stock", paris(2025, 9, 4, 10))
    # C: answered an hour after opening; resolution far away: on track, no alert.
    c = opened("out_of_stock", paris(2025, 9, 23, 12))
    case_record_first_response(
        case=c, responded_at=paris(2025, 9, 23, 13), actor=system_actor, door=Door.COMMAND
    )
    # D: withdrawn, its clocks stopped.
    d = opened("out_of_stock", paris(2025, 9, 1, 10))
    run(d, ["withdraw"], system_actor)
    return a, b, c, d


def test_first_sweep_records_each_clock_and_notifies_assignee_and_team(cases):
    a, b, _c, _d = cases
    assert b.resolution_due_at == paris(2025, 9, 25, 23, 59, 59)

    result = deadline_sweep_run(at=SWEEP_AT)

    assert (result.alerts_created, result.emails_sent) == (3, 2)
    alerts = {(x.case_id, x.clock, x.level) for x in DeadlineAlert.objects.all()}
    assert alerts == {
        (a.pk, "response", "overdue"),
        (b.pk, "response", "overdue"),
        (b.pk, "resolution", "at_risk"),
    }
    missed = CaseEvent.objects.filter(event_type=EventType.DEADLINE_MISSED)
    at_risk = CaseEvent.objects.filter(event_type=EventType.DEADLINE_AT_RISK)
    assert sorted((e.case_id, e.occurred_at) for e in missed) == sorted(
        [(a.pk, paris(2025, 9, 24, 8)), (b.pk, paris(2025, 9, 5, 10))]
    )
    assert [(e.case_id, e.data["clock"], e.data["business_days_left"]) for e in at_risk] == [
        (b.pk, "resolution", 1)
    ]
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {("agent@example.com",), ("team@example.com",)}
    assert a.reference in by_recipient[("agent@example.com",)].body
    team_body = by_recipient[("team@example.com",)].body
    assert team_body.count(b.reference) == 2
    assert "Resolution deadline at risk: due 2025-09-25 23:59 (Europe/Paris)" in team_body
    assert all(x.notified_at == SWEEP_AT for x in DeadlineAlert.objects.all())


def test_second_sweep_sends_nothing_again(cases):
    deadline_sweep_run(at=SWEEP_AT)
    events = CaseEvent.objects.count()
    mail.outbox.clear()

    result = deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5))

    assert (result.alerts_created, result.emails_sent) == (0, 0)
    assert mail.outbox == []
    assert CaseEvent.objects.count() == events
    assert DeadlineAlert.objects.count() == 3


def test_a_new_level_is_a_new_alert_and_only_it_is_notified(cases):
    _a, b, _c, _d = cases
    deadline_sweep_run(at=SWEEP_AT)
    mail.outbox.clear()

    # Friday 26 Sep: B's resolution deadline (Thu 23:59:59) has passed
    result = deadline_sweep_run(at=paris(2025, 9, 26, 10))

    assert result.alerts_created == 1
    assert DeadlineAlert.objects.filter(case=b, clock="resolution", level="overdue").exists()
    assert [m.to for m in mail.outbox] == [["team@example.com"]]
    assert mail.outbox[0].body.count(b.reference) == 1


def test_an_interrupted_sweep_completes_without_duplicates(cases, monkeypatch):
    real_events = dict(sweep_module._EVENT_OF)
    calls = {"n": 0}

    def crashing(payload):
        def make(**kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("worker killed")
            return payload(**kwargs)

        return make

    monkeypatch.setattr(
        sweep_module, "_EVENT_OF", {level: crashing(p) for level, p in real_events.items()}
    )
    with pytest.raises(RuntimeError):
        deadline_sweep_run(at=SWEEP_AT)
    # the interrupted chunk left nothing: no alert, no event, no e-mail
    assert DeadlineAlert.objects.count() == 0
    assert mail.outbox == []

    monkeypatch.setattr(sweep_module, "_EVENT_OF", real_events)
    result = deadline_sweep_run(at=SWEEP_AT)

    assert result.alerts_created == 3
    assert DeadlineAlert.objects.count() == 3
    deadline_events = CaseEvent.objects.filter(
        event_type__in=[EventType.DEADLINE_MISSED, EventType.DEADLINE_AT_RISK]
    )
    assert deadline_events.count() == 3
    # each alert in exactly one e-mail: A's to the agent, B's two to the team
    a, b, _c, _d = cases
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert len(mail.outbox) == 2
    assert bodies["agent@example.com"].count(a.reference) == 1
    assert bodies["team@example.com"].count(b.reference) == 2
    deadline_sweep_run(at=SWEEP_AT)
    assert len(mail.outbox) == 2


def test_a_failed_e_mail_is_sent_by_the_next_run(cases, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    result = deadline_sweep_run(at=SWEEP_AT)
    assert (result.alerts_created, result.emails_sent) == (3, 0)
    assert DeadlineAlert.objects.filter(notified_at__isnull=True).count() == 3

    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    result = deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5))

    assert (result.alerts_created, result.emails_sent) == (0, 2)
    assert DeadlineAlert.objects.filter(notified_at__isnull=True).count() == 0


def test_a_run_that_fails_while_sending_frees_its_claims_at_once(cases, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    real_send = EmailMultiAlternatives.send

    def die(self, *args, **kwargs):
        raise SystemExit("worker stopped while sending")

    monkeypatch.setattr(EmailMultiAlternatives, "send", die)
    with pytest.raises(SystemExit):
        deadline_sweep_run(at=SWEEP_AT)
    monkeypatch.setattr(EmailMultiAlternatives, "send", real_send)
    # nothing stays claimed, no lease is left behind
    assert not DeadlineAlert.objects.filter(notified_to__startswith="claimed:").exists()
    assert not NoticeClaim.objects.exists()
    # the next sweep sends them, once
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=5)).emails_sent == 2
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=10)).emails_sent == 0
    assert len(mail.outbox) == 2
    assert DeadlineAlert.objects.filter(notified_at__isnull=True).count() == 0


def killed_mid_sweep(worker: str) -> str:
    """The state a worker killed outright (SIGKILL) leaves: the sweep recorded the alerts and
    claimed them under its lease, and never got to send or release them."""
    record_alerts_without_sending()
    token = "claimed:" + "d" * 32
    NoticeClaim.objects.create(
        token=token, worker=worker, started_at=SWEEP_AT, lease_until=SWEEP_AT + CLAIM_LEASE
    )
    DeadlineAlert.objects.update(notified_at=SWEEP_AT, notified_to=token)
    return token


def record_alerts_without_sending() -> None:
    from django.core.mail import EmailMultiAlternatives

    sent = EmailMultiAlternatives.send
    EmailMultiAlternatives.send = lambda self, *a, **k: (_ for _ in ()).throw(SystemExit())
    try:
        with pytest.raises(SystemExit):
            deadline_sweep_run(at=SWEEP_AT)
    finally:
        EmailMultiAlternatives.send = sent
    assert DeadlineAlert.objects.count() >= 3 and not mail.outbox


def test_claims_of_a_worker_killed_on_another_machine_go_by_the_next_sweep(cases, settings):
    assert dt.timedelta(minutes=settings.DEADLINE_SWEEP_MINUTES) > CLAIM_LEASE
    killed_mid_sweep("worker-7.internal:4242")
    alerts = DeadlineAlert.objects.count()
    # within its lease the run may still be at work on its machine: its claims are kept
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(minutes=1)).emails_sent == 0
    assert DeadlineAlert.objects.filter(notified_to__startswith="claimed:").count() == alerts
    # the next sweep, one period later, sends every notice, exactly once
    period = dt.timedelta(minutes=settings.DEADLINE_SWEEP_MINUTES)
    assert deadline_sweep_run(at=SWEEP_AT + period).emails_sent == 2
    assert deadline_sweep_run(at=SWEEP_AT + 2 * period).emails_sent == 0
    assert len(mail.outbox) == 2
    lines = sum(message.body.count("/admin/cases/case/") for message in mail.outbox)
    notified = DeadlineAlert.objects.exclude(notified_to="").exclude(clock__startswith="supplier")
    assert lines == notified.count()
    assert not DeadlineAlert.objects.filter(notified_to__startswith="claimed:").exists()
    assert not NoticeClaim.objects.exists()


def test_claims_of_a_killed_process_on_this_machine_go_by_the_very_next_run(cases):
    import socket
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    killed_mid_sweep(f"{socket.gethostname()}:{gone.pid}")
    # its process is gone: no need to wait for the lease
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(seconds=10)).emails_sent == 2
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(seconds=20)).emails_sent == 0
    assert len(mail.outbox) == 2


def test_a_live_run_keeps_its_claims(cases):
    import os
    import socket

    # a run of this very process (alive) holding a fresh lease
    token = killed_mid_sweep(f"{socket.gethostname()}:{os.getpid()}")
    assert deadline_sweep_run(at=SWEEP_AT + dt.timedelta(seconds=30)).emails_sent == 0
    assert DeadlineAlert.objects.filter(notified_to=token).exists()
    assert not mail.outbox


def test_queries_do_not_grow_with_the_number_of_quiet_cases(
    cases, system_actor, django_assert_max_num_queries
):
    deadline_sweep_run(at=SWEEP_AT)
    with django_assert_max_num_queries(40) as few:
        deadline_sweep_run(at=SWEEP_AT)
    for n in range(30):
        order = make_order("amazon_fr", placed_at=paris(2025, 9, 1))
        case = open_case(
            "out_of_stock",
            actor=system_actor,
            marketplace="amazon_fr",
            order=order,
            opened_at=paris(2025, 9, 20, 10, n),
        )
        case_record_first_response(
            case=case, responded_at=paris(2025, 9, 20, 11), actor=system_actor, door=Door.COMMAND
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        result = deadline_sweep_run(at=SWEEP_AT)
    assert result.alerts_created == 0


def test_every_clock_a_case_runs_has_a_named_alert_kind():
    """Alerts are recorded for each clock ``active_deadlines`` returns; each must be a choice of
    the alert's clock (decision clocks included), or the alert list shows a raw code."""
    import ast
    import inspect

    from cases import deadlines
    from cases.events import CLOCK_LABELS
    from jobs.models import Clock

    tree = ast.parse(inspect.getsource(deadlines))
    names = {
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "clocks"
        and isinstance(node.slice, ast.Constant)
    }
    assert {"response", "evidence_review", "refund_decision"} <= names
    assert names <= set(Clock.values)
    assert names <= set(CLOCK_LABELS)
