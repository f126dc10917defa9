"""The reads the admin and the API share (``cases.selectors``)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.choices import ReviewStatus
from cases.models import Case
from cases.selectors import (
    case_by_reference,
    case_detail,
    case_evidence,
    case_evidence_request,
    case_list,
    case_refund_request,
    closed_cases_q,
    not_overdue_q,
    open_cases_q,
    overdue_q,
)
from cases.services import evidence_request_create, evidence_review
from marketplaces.models import Marketplace
from tests.factories import add_photo, open_case, run

pytestmark = pytest.mark.django_db


def test_open_and_closed_split_the_cases(system_actor):
    worked = open_case("cancellation", actor=system_actor)
    closed = run(open_case("cancellation", actor=system_actor), ["withdraw"], system_actor)

    assert list(Case.objects.filter(open_cases_q()).values_list("pk", flat=True)) == [worked.pk]
    assert list(Case.objects.filter(closed_cases_q()).values_list("pk", flat=True)) == [closed.pk]


def test_overdue_and_not_overdue_split_the_cases(system_actor):
    late = open_case("cancellation", actor=system_actor)
    fresh = open_case("cancellation", actor=system_actor)
    finished = run(open_case("cancellation", actor=system_actor), ["withdraw"], system_actor)
    now = timezone.now()
    Case.objects.filter(pk=late.pk).update(next_due_at=now - dt.timedelta(minutes=1))
    Case.objects.filter(pk=fresh.pk).update(next_due_at=now + dt.timedelta(minutes=1))
    Case.objects.filter(pk=finished.pk).update(next_due_at=None)

    overdue = set(Case.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    on_time = set(Case.objects.filter(not_overdue_q(now)).values_list("pk", flat=True))

    assert overdue == {late.pk}
    assert on_time == {fresh.pk, finished.pk}


def test_case_list_keeps_to_its_marketplaces_in_one_query(system_actor, django_assert_num_queries):
    tmall_case = open_case("cancellation", actor=system_actor, marketplace="tmall")
    open_case("cancellation", actor=system_actor, marketplace="jd")
    tmall = Marketplace.objects.get(code="tmall")

    with django_assert_num_queries(1):
        rows = [
            (case.reference, case.order.external_id, case.assignee)
            for case in case_list(marketplace_ids=[tmall.pk])
        ]

    assert rows == [(tmall_case.reference, tmall_case.order.external_id, None)]
    assert case_list().count() == 2


def test_case_by_reference_is_none_outside_the_marketplaces(system_actor):
    case = open_case("cancellation", actor=system_actor, marketplace="tmall")
    jd = Marketplace.objects.get(code="jd")

    assert case_by_reference(reference=case.reference, marketplace_ids=[jd.pk]) is None
    found = case_by_reference(reference=case.reference, marketplace_ids=[case.marketplace_id])
    assert found == case


def test_case_by_reference_with_parts_costs_five_queries(system_actor, django_assert_num_queries):
    case = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    for _ in range(3):
        add_photo(case, system_actor)

    with django_assert_num_queries(5):
        found = case_by_reference(
            reference=case.reference, marketplace_ids=[case.marketplace_id], with_parts=True
        )
        events = [event.event_type for event in found.events.all()]
        files = len(found.evidence.all())
        requests = len(found.evidence_requests.all())
        refunds = len(found.refund_requests.all())

    assert (files, requests, refunds) == (3, 1, 0)
    assert events[0] == "case_opened"  # oldest first


def _values(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_case_detail_read_by_hand_equals_the_orm_field_by_field(
    system_actor, agent, django_assert_num_queries
):
    # given a claim with an assignee, a refund request, photos and an evidence request
    case = run(
        open_case(
            "damaged_item",
            actor=system_actor,
            refund_request={"amount": "12.50", "currency": "CNY"},
        ),
        ["request_evidence"],
        system_actor,
    )
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    for seed in (1, 2):
        add_photo(case, system_actor, seed=seed)
    # when its detail is read, with its marketplace joined or given
    marketplace = Marketplace.objects.get(pk=case.marketplace_id)
    with django_assert_num_queries(5):
        joined = case_detail(reference=case.reference, marketplace_ids=[marketplace.pk])
    given = case_detail(
        reference=case.reference,
        marketplace_ids=[marketplace.pk],
        marketplaces={marketplace.pk: marketplace},
    )
    # then every column reads as through the ORM (time zones, decimals, JSON), with no query
    expected = Case.objects.select_related("order", "assignee", "marketplace").get(pk=case.pk)
    parts = {
        name: [_values(p) for p in getattr(expected, name).all()]
        for name in ("evidence", "evidence_requests", "refund_requests")
    }
    history = list(expected.events.order_by("occurred_at", "pk").values_list("pk", flat=True))
    with django_assert_num_queries(0):
        for found in (joined, given):
            assert _values(found) == _values(expected)
            assert _values(found.order) == _values(expected.order)
            assert _values(found.assignee) == _values(expected.assignee)
            assert _values(found.marketplace) == _values(expected.marketplace)
            assert found.opened_at.tzinfo is not None
            for name, rows in parts.items():
                assert [_values(p) for p in getattr(found, name).all()] == rows
                assert all(p.case is found for p in getattr(found, name).all())
            assert [e.pk for e in found.events.all()] == history
    assert len(parts["evidence"]) == 2 and len(parts["evidence_requests"]) == 1
    assert given.marketplace is marketplace
    assert joined.refund_requests.all()[0].amount == Decimal("12.50")


def test_a_case_detail_is_none_outside_the_marketplaces_or_unknown(system_actor):
    case = open_case("cancellation", actor=system_actor, marketplace="tmall")
    jd = Marketplace.objects.get(code="jd")
    assert case_detail(reference=case.reference, marketplace_ids=[jd.pk]) is None
    assert case_detail(reference=case.reference, marketplace_ids=[]) is None
    assert case_detail(reference="NOPE-1", marketplace_ids=[case.marketplace_id]) is None
    found = case_detail(reference=case.reference, marketplace_ids=[case.marketplace_id, jd.pk])
    assert found == case and found.assignee is None


def test_a_part_is_found_only_within_its_case(system_actor):
    case = open_case("damaged_item", actor=system_actor)
    other = open_case(
        "damaged_item",
        actor=system_actor,
        refund_request={"amount": "5", "currency": "CNY"},
    )
    photo = add_photo(other, system_actor)
    request = evidence_request_create(case=other, actor=system_actor, door="command")
    refund = other.refund_requests.get()

    assert case_evidence(case=case, pk=photo.pk) is None
    assert case_evidence_request(case=case, pk=request.pk) is None
    assert case_refund_request(case=case, pk=refund.pk) is None
    assert case_evidence(case=other, pk=photo.pk) == photo
    assert case_evidence_request(case=other, pk=request.pk) == request
    assert case_refund_request(case=other, pk=refund.pk) == refund


def test_a_case_read_with_its_evidence_judges_valid_evidence_from_it(
    system_actor, django_assert_num_queries
):
    # given a claim whose only photo was rejected
    case = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    photo = add_photo(case, system_actor)
    evidence_review(
        evidence=photo,
        status=ReviewStatus.REJECTED,
        reason="blurred",
        actor=system_actor,
        door="command",
    )
    found = case_by_reference(
        reference=case.reference, marketplace_ids=[case.marketplace_id], with_parts=True
    )
    # then the rows read with it answer, with no query, as the database does
    with django_assert_num_queries(0):
        assert found.has_valid_evidence() is False
    assert Case.objects.get(pk=case.pk).has_valid_evidence() is False
    # and an accepted file makes the evidence valid both ways
    add_photo(case, system_actor, seed=7)
    found = case_by_reference(
        reference=case.reference, marketplace_ids=[case.marketplace_id], with_parts=True
    )
    with django_assert_num_queries(0):
        assert found.has_valid_evidence() is True
    assert Case.objects.get(pk=case.pk).has_valid_evidence() is True
