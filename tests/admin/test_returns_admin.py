"""The return requests work list: unanswered first, most urgent first, with Amazon's 48-hour
clock; answers (authorise, close, reject with a reason) through the service, once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import ReturnDecision
from cases.models import ReturnRequest
from cases.services.returns import return_request_upsert
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db
URL = "/admin/cases/returnrequest/"


def a_return(external_id: str, *, hours_ago: float, case=None) -> ReturnRequest:
    amazon = Marketplace.objects.get(code="amazon_fr")
    order = case.order if case else make_order(amazon)
    created, _ = return_request_upsert(
        marketplace=amazon,
        external_id=external_id,
        order=order,
        case=case,
        requested_at=timezone.now() - dt.timedelta(hours=hours_ago),
        customer_reason="Wrong size",
    )
    return created


def listed(response) -> list[str]:
    return re.findall(
        r'<th class="field-external_id"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


def test_the_work_list_shows_unanswered_requests_most_urgent_first(agent_client):
    fresh = a_return("R-fresh", hours_ago=1)
    late = a_return("R-late", hours_ago=50)
    risky = a_return("R-risky", hours_ago=40)
    answered = a_return("R-done", hours_ago=5)
    from cases.actors import Actor
    from cases.choices import Door
    from cases.services.returns import return_request_answer

    return_request_answer(
        return_request=answered, decision="authorized", actor=Actor.system("t"), door=Door.API
    )

    response = agent_client.get(URL)

    assert listed(response) == [late.external_id, risky.external_id, fresh.external_id]
    html = response.content.decode()
    assert "overdue by 2 h" in html
    assert re.search(r"ws-badge-at-risk[^>]*>7 h \d\d left", html)
    assert re.search(r"ws-badge-on-track[^>]*>46 h \d\d left", html)
    assert listed(agent_client.get(URL, {"clock": "overdue"})) == [late.external_id]
    assert listed(agent_client.get(URL, {"answered": "yes"})) == [answered.external_id]


def test_authorise_and_close_from_the_list(agent_client):
    one = a_return("R-1", hours_ago=1)
    two = a_return("R-2", hours_ago=2)

    agent_client.post(
        URL, {"action": "authorise", "_selected_action": [one.pk], "index": 0}, follow=True
    )
    agent_client.post(URL, {"action": "close", "_selected_action": [two.pk], "index": 0})

    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.decision, two.decision) == (ReturnDecision.AUTHORIZED, ReturnDecision.CLOSED)
    assert one.answered_by_name == "lea"


def test_rejecting_needs_a_reason_and_is_recorded_on_the_case(agent_client):
    case = open_case("wrong_item", actor=SYSTEM, marketplace="amazon_fr")
    request = a_return("R-3", hours_ago=3, case=case)
    answer = reverse("admin:cases_returnrequest_answer", args=[request.pk])

    page = agent_client.get(reverse("admin:cases_returnrequest_change", args=[request.pk]))
    assert "Reject the return" in page.content.decode()

    refused = agent_client.post(answer, {"decision": "rejected", "reason": " "}, follow=True)
    assert "Say why the return is rejected" in refused.content.decode()
    request.refresh_from_db()
    assert request.decision == ""

    agent_client.post(answer, {"decision": "rejected", "reason": "Worn, tags removed."})
    request.refresh_from_db()
    assert (request.decision, request.rejection_reason) == ("rejected", "Worn, tags removed.")
    assert case.events.filter(event_type="return_answered").count() == 1

    again = agent_client.post(answer, {"decision": "authorized"}, follow=True)
    assert "already answered" in again.content.decode()


def test_nobody_adds_or_deletes_return_requests_in_the_admin(agent_client):
    request = a_return("R-4", hours_ago=1)
    assert agent_client.get(f"{URL}add/").status_code == 403
    assert agent_client.post(f"{URL}{request.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReturnRequest.objects.filter(pk=request.pk).exists()
