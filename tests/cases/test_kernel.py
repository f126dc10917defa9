"""The kernel: one path that locks, checks the version, saves, versions and records every change
of a case; and the one writer of deadline columns outside a case's own changes."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door, EventType, Priority
from cases.errors import CaseRefused, ErrorCode, TransitionRefused
from cases.events import NoteAdded
from cases.kernel import case_action, case_actions_batch
from cases.models import Case, CaseEvent
from cases.services import (
    case_deadlines_refresh,
    case_note_add,
    case_transition,
    case_update_details,
    marketplace_deadlines_refresh,
    order_upsert,
    refund_decide,
    refund_request_create,
)
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from marketplaces.services import calendar_exception_set
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


# -- the action ------------------------------------------------------------------------------------


def test_an_action_bumps_version_and_updated_at_once_and_writes_its_events(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    before = Case.objects.get(pk=case.pk)
    # when
    with case_action(case.pk, actor=supervisor_actor, door=Door.ADMIN) as act:
        act.case.priority = Priority.URGENT
        act.event(NoteAdded(), note="customer called twice")
        act.event(NoteAdded(), note="and once more")
    # then
    after = Case.objects.get(pk=case.pk)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    assert after.priority == Priority.URGENT
    notes = list(after.events.filter(event_type=EventType.NOTE).values_list("note", flat=True))
    assert sorted(notes) == ["and once more", "customer called twice"]


def test_an_action_that_changes_nothing_writes_nothing(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    before = Case.objects.get(pk=case.pk)
    with case_action(case.pk, actor=supervisor_actor, door=Door.ADMIN):
        pass
    after = Case.objects.get(pk=case.pk)
    assert (after.version, after.updated_at) == (before.version, before.updated_at)
    assert after.events.count() == 1


def test_a_refusal_inside_an_action_leaves_nothing_written(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    with (
        pytest.raises(CaseRefused),
        case_action(case.pk, actor=supervisor_actor, door=Door.ADMIN) as act,
    ):
        act.case.priority = Priority.URGENT
        act.event(NoteAdded(), note="never kept")
        raise CaseRefused(ErrorCode.INVALID_VALUE, "no")
    after = Case.objects.get(pk=case.pk)
    assert after.priority == Priority.NORMAL and after.version == 1
    assert not after.events.filter(event_type=EventType.NOTE).exists()


def test_a_stale_version_is_refused_as_a_conflict(supervisor_actor):
    case = open_case("cancellation", actor=supervisor_actor)
    case_note_add(case=case.pk, text="first", actor=supervisor_actor, door=Door.ADMIN)
    with pytest.raises(TransitionRefused) as refused:
        case_update_details(
            case=case.pk,
            actor=supervisor_actor,
            door=Door.API,
            expected_version=1,
            priority=Priority.HIGH,
        )
    assert refused.value.code == ErrorCode.CASE_CHANGED and refused.value.is_conflict
    assert Case.objects.get(pk=case.pk).priority == Priority.NORMAL


def test_nested_actions_join_the_outer_one_and_save_once(supervisor_actor):
    # A refund approval that moves the case is one change: one version, two events.
    case = open_case("cancellation", actor=supervisor_actor)
    refund = refund_request_create(
        case=case, amount="12.50", currency="EUR", actor=supervisor_actor, door=Door.API
    )
    version = Case.objects.get(pk=case.pk).version
    refund_decide(
        refund_request=refund.pk, decision="approved", actor=supervisor_actor, door=Door.API
    )
    after = Case.objects.get(pk=case.pk)
    assert after.state == "refund_pending"
    assert after.version == version + 1
    kinds = list(after.events.order_by("pk").values_list("event_type", flat=True))
    assert kinds[-2:] == [EventType.REFUND_DECIDED, EventType.TRANSITION]


def test_a_refused_transition_inside_an_action_restores_the_case(supervisor_actor, agent):
    case = open_case("damaged_item", actor=supervisor_actor)
    with case_action(case.pk, actor=Actor.for_user(agent), door=Door.ADMIN) as act:
        with pytest.raises(TransitionRefused), transaction.atomic():
            act.transition("withdraw", reason="duplicate")  # agents may not withdraw
        act.case.priority = Priority.HIGH
    after = Case.objects.get(pk=case.pk)
    assert after.state == "new" and after.priority == Priority.HIGH
    assert after.events.filter(event_type=EventType.TRANSITION).count() == 0


def test_a_batch_locks_in_chunks_and_versions_each_changed_case(supervisor_actor):
    cases = [open_case("cancellation", actor=supervisor_actor) for _ in range(5)]
    ids = [c.pk for c in cases]

    def touch_odd(act):
        if act.case.pk % 2:
            act.event(NoteAdded(), note="batch")

    changed = case_actions_batch(ids, touch_odd, actor=supervisor_actor, door=Door.JOB, chunk=2)
    odd = [pk for pk in ids if pk % 2]
    assert changed == len(odd)
    versions = dict(Case.objects.filter(pk__in=ids).values_list("pk", "version"))
    assert versions == {pk: 2 if pk % 2 else 1 for pk in ids}
    assert CaseEvent.objects.filter(note="batch").count() == len(odd)


# -- the one deadline writer -----------------------------------------------------------------------


def _claims_on(marketplace: str, supervisor_actor, count: int = 3) -> list[Case]:
    out = []
    for _ in range(count):
        case = open_case(
            "damaged_item",
            actor=supervisor_actor,
            marketplace=marketplace,
            opened_at=timezone.now() - dt.timedelta(days=3),
        )
        case = case_transition(
            case=case.pk, transition="request_evidence", actor=supervisor_actor, door="admin"
        )
        out.append(case)
    return out


def _deadline_events(case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    events = CaseEvent.objects.filter(
        case_id__in=case_ids, event_type=EventType.DEADLINES_RECOMPUTED
    )
    out: dict[int, list[CaseEvent]] = {pk: [] for pk in case_ids}
    for event in events:
        out[event.case_id].append(event)
    return out


def test_a_calendar_change_moves_each_open_case_once_with_its_cause(
    supervisor_actor, django_capture_on_commit_callbacks
):
    cases = _claims_on("amazon_fr", supervisor_actor)
    before = {c.pk: Case.objects.get(pk=c.pk) for c in cases}
    due = before[cases[0].pk].evidence_due_at
    marketplace = Marketplace.objects.get(code="amazon_fr")
    calendar = calendar_for(marketplace)
    # when: the last working day of the evidence wait becomes a closure (the refresh job runs
    # after commit, in-process in tests)
    closure = calendar.local_date(due)
    assert calendar.is_working_day(closure)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_exception_set(
            marketplace=marketplace, date=closure, kind="closed", label="Inventaire"
        )
    # then
    events = _deadline_events(list(before))
    for pk, old in before.items():
        new = Case.objects.get(pk=pk)
        assert new.evidence_due_at > old.evidence_due_at
        assert new.version == old.version + 1
        assert new.updated_at > old.updated_at
        assert len(events[pk]) == 1
        assert events[pk][0].data["cause"] == "calendar_change"
        assert events[pk][0].data["before"]["evidence_due_at"] == old.evidence_due_at.isoformat()
    # and a second refresh with nothing new changes nothing
    assert marketplace_deadlines_refresh(marketplace=marketplace) == 0


def test_a_policy_change_records_its_cause(supervisor_actor):
    cases = _claims_on("tmall", supervisor_actor, count=2)
    marketplace = Marketplace.objects.get(code="tmall")
    marketplace.evidence_wait_business_days = 9
    marketplace.save(update_fields=["evidence_wait_business_days"])
    moved = case_deadlines_refresh([c.pk for c in cases], cause="policy_change")
    assert moved == 2
    events = _deadline_events([c.pk for c in cases])
    assert all(
        len(found) == 1 and found[0].data["cause"] == "policy_change" for found in events.values()
    )


def test_an_order_change_moves_its_late_shipment_case(supervisor_actor):
    order = make_order(promised_ship_date=(timezone.now() - dt.timedelta(days=1)).date())
    case = open_case("late_shipment", actor=supervisor_actor, order=order)
    old = Case.objects.get(pk=case.pk)
    order_upsert(
        marketplace=order.marketplace,
        external_id=order.external_id,
        promised_ship_date=(timezone.now() + dt.timedelta(days=3)).date(),
    )
    new = Case.objects.get(pk=case.pk)
    assert new.supplier_contact_due_at > old.supplier_contact_due_at
    assert new.version == old.version + 1 and new.updated_at > old.updated_at
    (event,) = _deadline_events([case.pk])[case.pk]
    assert event.data["cause"] == "order_change"
    assert event.actor_type == "system" and event.door == "job"


# -- lock, version and events are written by the kernel only ---------------------------------------


def _python_files() -> list[Path]:
    apps = [
        "cases",
        "intake",
        "messaging",
        "jobs",
        "scorecards",
        "api",
        "workspace",
        "marketplaces",
    ]
    files = []
    for app in apps:
        files += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    return files


def test_only_the_kernel_locks_versions_and_writes_case_events():
    """Reads the source: no module but ``cases/kernel.py`` bumps ``version``, creates
    ``CaseEvent`` rows or locks case rows."""
    offenders = []
    for path in _python_files():
        if path == ROOT / "cases" / "kernel.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            # version += 1
            if isinstance(node, ast.AugAssign) and getattr(node.target, "attr", "") == "version":
                offenders.append(f"{path}:{node.lineno} bumps version")
            # CaseEvent(...) / CaseEvent.objects.create / bulk_create
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", "") or getattr(func, "attr", "")
                text = ast.unparse(func)
                if name == "CaseEvent" or (
                    text.startswith("CaseEvent.objects.")
                    and name
                    in {
                        "create",
                        "bulk_create",
                        "get_or_create",
                    }
                ):
                    offenders.append(f"{path}:{node.lineno} writes a case event")
                if name == "select_for_update" and text.startswith("Case.objects"):
                    offenders.append(f"{path}:{node.lineno} locks cases")
    assert offenders == []
