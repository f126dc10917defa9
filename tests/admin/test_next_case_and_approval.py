""" "Next case" across a page boundary and at the end of the list, and the approval's
confirmation (the refund-rejection rate where the marketplace scores it)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import Door
from cases.services import refund_request_create
from scorecards.services import refund_rejection_rate_if_approved
from tests.factories import make_order, open_case, run

from .helpers import SYSTEM
from .test_case_page_browser import tmall_claim_with_refund

pytestmark = pytest.mark.django_db


def test_next_case_moves_to_the_next_page_of_the_list(agent_client):
    cases = [open_case("cancellation", actor=SYSTEM, order=make_order("jd")) for _ in range(27)]
    ordered = sorted(cases, key=lambda case: case.pk)
    # the list sorted by reference (column 1), 25 a page: the 25th case's next is the 26th
    listing = agent_client.get("/admin/cases/case/", {"o": "1", "per_page": "25"})
    assert listing.status_code == 200

    response = agent_client.get(
        reverse("admin:cases_case_next", args=[ordered[24].pk]),
        {"_changelist_filters": "o=1&per_page=25"},
    )

    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == reverse("admin:cases_case_change", args=[ordered[25].pk])
    kept = parse_qs(parse_qs(location.query)["_changelist_filters"][0])
    assert kept == {"o": ["1"], "per_page": ["25"], "p": ["2"]}


def test_without_filters_next_case_uses_the_last_list_opened(agent_client):
    first = open_case("cancellation", actor=SYSTEM, marketplace="tmall")
    open_case("cancellation", actor=SYSTEM, marketplace="amazon_fr")
    second = open_case("cancellation", actor=SYSTEM, marketplace="tmall")
    agent_client.get("/admin/cases/case/", {"marketplace": "tmall", "o": "1"})

    response = agent_client.get(reverse("admin:cases_case_next", args=[first.pk]))
    assert urlparse(response["Location"]).path == reverse(
        "admin:cases_case_change", args=[second.pk]
    )
    last = agent_client.get(reverse("admin:cases_case_next", args=[second.pk]), follow=True)
    assert "That was the last case of the list." in last.content.decode()


def test_approving_on_tmall_shows_the_rate_before_and_after():
    _case, refund = tmall_claim_with_refund()

    what_if = refund_rejection_rate_if_approved(refund_request=refund, at=timezone.now())

    assert (what_if.before.numerator, what_if.before.denominator) == (1, 1)
    assert (what_if.after.numerator, what_if.after.denominator) == (1, 2)
    assert (what_if.before.display, what_if.after.display) == ("100.00 %", "50.00 %")


def test_approving_on_amazon_confirms_the_amount_without_a_rate(agent_client):
    case = run(
        open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr"),
        ["request_evidence", "start_review", "confirm"],
        SYSTEM,
    )
    refund = refund_request_create(
        case=case, amount="59.90", currency="EUR", actor=SYSTEM, door=Door.COMMAND
    )
    assert refund_rejection_rate_if_approved(refund_request=refund) is None

    html = agent_client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()

    assert f'id="approve-{refund.pk}"' in html
    assert "Refund <strong>59.90 EUR</strong> in full" in html
    assert "Confirm: refund 59.90 EUR" in html
    assert "if you approve" not in html
