import datetime as dt

import pytest
from django.utils import timezone

from cases.errors import CaseRefused, ErrorCode
from cases.services import evidence_request_create, evidence_request_revoke
from marketplaces.calendars import calendar_for
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def test_request_gets_the_kind_checklist_and_the_marketplace_wait(supervisor_actor):
    case = open_case("damaged_item", actor=supervisor_actor)
    before = timezone.now()
    request = evidence_request_create(case=case, actor=supervisor_actor, door="admin")
    assert [item["key"] for item in request.checklist] == [
        "outer_box",
        "item",
        "shipping_label",
        "unboxing_video",
    ]
    assert request.checklist[3]["required"] is False
    calendar = calendar_for(case.marketplace)
    assert request.due_at == calendar.deadline(before, 5) or request.due_at == calendar.deadline(
        timezone.now(), 5
    )
    assert len(request.token_nonce) >= 16
    assert case.events.filter(event_type="evidence_requested").count() == 1


def test_revoke_is_idempotent_and_audited(supervisor_actor):
    case = open_case("wrong_item", actor=supervisor_actor)
    request = evidence_request_create(
        case=case,
        actor=supervisor_actor,
        door="admin",
        audience="carrier",
        message="Proof of delivery please",
    )
    revoked = evidence_request_revoke(
        evidence_request=request, actor=supervisor_actor, door="admin"
    )
    again = evidence_request_revoke(evidence_request=request, actor=supervisor_actor, door="admin")
    assert revoked.revoked_at == again.revoked_at
    assert case.events.filter(event_type="evidence_request_revoked").count() == 1


def test_bad_requests_are_refused(supervisor_actor):
    case = open_case("wrong_item", actor=supervisor_actor)
    with pytest.raises(CaseRefused) as refused:
        evidence_request_create(case=case, actor=supervisor_actor, door="api", audience="alien")
    assert refused.value.field == "audience"
    with pytest.raises(CaseRefused) as refused:
        evidence_request_create(
            case=case,
            actor=supervisor_actor,
            door="api",
            due_at=timezone.now() - dt.timedelta(hours=1),
        )
    assert refused.value.code == ErrorCode.INVALID_VALUE
    assert case.evidence_requests.count() == 0
