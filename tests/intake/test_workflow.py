"""The workflow around evidence requests: made on entering awaiting_evidence, fulfilled when
the required items arrive, and a missed deadline left for staff to see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.choices import CaseState, Door
from cases.errors import CaseRefused
from cases.models import CaseEvent, EvidenceRequest
from cases.services import (
    active_deadlines,
    case_transition,
    deadline_status,
    evidence_request_create,
)
from cases.services.evidence_requests import normalise_checklist
from tests.factories import add_photo

pytestmark = pytest.mark.django_db


def test_entering_awaiting_evidence_makes_one_customer_request(make_case, system_actor):
    case = case_transition(
        case=make_case("wrong_item"),
        transition="request_evidence",
        actor=system_actor,
        door=Door.ADMIN,
    )

    request = case.evidence_requests.get()
    assert request.audience == "customer"
    assert [item["key"] for item in request.checklist] == ["item_received", "item_label"]
    assert request.due_at == case.evidence_due_at
    assert CaseEvent.objects.filter(case=case, event_type="evidence_requested").count() == 1


def test_an_open_customer_request_is_not_duplicated(make_case, supervisor_actor):
    case = make_case("missing_item")
    mine = evidence_request_create(
        case=case, actor=supervisor_actor, door=Door.ADMIN, checklist=["The inside of the box"]
    )

    case = case_transition(
        case=case, transition="request_evidence", actor=supervisor_actor, door=Door.ADMIN
    )

    assert list(case.evidence_requests.all()) == [mine]
    assert mine.checklist == [
        {
            "key": "the_inside_of_the_box",
            "label": "The inside of the box",
            "hint": "",
            "required": True,
        }
    ]


def test_asking_again_after_review_makes_a_new_request(make_case, system_actor, supervisor_actor):
    case = case_transition(
        case=make_case("damaged_item"),
        transition="request_evidence",
        actor=system_actor,
        door=Door.ADMIN,
    )
    first = case.evidence_requests.get()
    add_photo(case, system_actor)
    case = case_transition(
        case=case, transition="start_review", actor=supervisor_actor, door=Door.ADMIN
    )
    EvidenceRequest.objects.filter(pk=first.pk).update(fulfilled_at=timezone.now())

    case = case_transition(
        case=case, transition="request_evidence", actor=supervisor_actor, door=Door.ADMIN
    )

    assert case.evidence_requests.count() == 2


def test_at_the_deadline_without_evidence_the_case_stays_and_shows_overdue(make_case, system_actor):
    case = case_transition(
        case=make_case("damaged_item"),
        transition="request_evidence",
        actor=system_actor,
        door=Door.ADMIN,
    )
    after = case.evidence_due_at + dt.timedelta(minutes=1)

    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_EVIDENCE
    assert "evidence" in active_deadlines(case)
    status = deadline_status(case.evidence_due_at, at=after, marketplace=case.marketplace)
    assert status.status == "overdue"


@pytest.mark.parametrize(
    ("checklist", "words"),
    [
        ([], "at least one thing"),
        ([{"label": ""}], "needs a label"),
        ([{"label": "x", "key": "Bad Key!"}], "invalid key"),
        ([{"label": "x", "required": "yes"}], "must be true or false"),
        (["Box", "Box"], "Two checklist items have the key"),
        ([42], "is not understood"),
    ],
)
def test_bad_checklists_are_refused(checklist, words):
    with pytest.raises(CaseRefused) as refused:
        normalise_checklist(checklist)
    assert refused.value.field == "checklist"
    assert words in refused.value.message
