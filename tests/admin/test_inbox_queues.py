"""The inbox's work queues with their counts, the return requests answered from the inbox
(Amazon's 48-hour clock, through the same service as the API), and the case page's composers
in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CaseEvent, ReturnRequest
from cases.services.returns import return_request_upsert
from marketplaces.models import Marketplace
from messaging.models import Conversation, MessageTemplate
from tests.factories import make_order, open_case

from .helpers import SYSTEM
from .test_inbox import INBOX, listed, thread

pytestmark = pytest.mark.django_db
RETURNS = "/admin/cases/returnrequest/"


def a_return(external_id: str, *, hours_ago: float, case=None, code: str = "amazon_fr"):
    marketplace = Marketplace.objects.get(code=code)
    created, _ = return_request_upsert(
        marketplace=marketplace,
        external_id=external_id,
        order=case.order if case else make_order(marketplace),
        case=case,
        requested_at=timezone.now() - dt.timedelta(hours=hours_ago),
        customer_reason="Too small",
    )
    return created


def queue_counts(html: str) -> dict[str, int]:
    return {
        key: int(count)
        for key, count in re.findall(
            r'data-queue="(\w+)">[^<]*<span class="ws-count-pill[^"]*">(\d+)</span>', html
        )
    }


def returns_listed(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr class="ws-return" data-return="(\d+)"', html)]


# -- the queue links' counts -----------------------------------------------------------------


def test_the_queue_links_show_their_counts_as_the_lists_they_open(agent_client, agent_user):
    # given on Amazon (24 h): one overdue, one at risk, one fresh (mine), one done
    overdue = thread("amazon_fr", hours_ago=30)
    at_risk = thread("amazon_fr", hours_ago=23)
    mine = thread("amazon_fr", hours_ago=1)
    done = thread("amazon_fr", hours_ago=2)
    Conversation.objects.filter(pk=mine.pk).update(assignee=agent_user)
    agent_client.post(f"{INBOX}bulk/", {"ids": [done.pk], "operation": "done"})
    a_return("R-1", hours_ago=50)
    a_return("R-2", hours_ago=1)

    html = agent_client.get(INBOX).content.decode()

    counts = queue_counts(html)
    assert counts == {
        "needs_answer": 3,
        "overdue": 1,
        "at_risk": 1,
        "unassigned": 2,
        "mine": 1,
        "unread": 3,
        "returns": 2,
    }
    # each count is the length of the list its link opens
    assert set(listed(agent_client, "needs=yes")) == {overdue.pk, at_risk.pk, mine.pk}
    assert listed(agent_client, "clock=overdue") == [overdue.pk]
    assert listed(agent_client, "clock=at_risk") == [at_risk.pk]
    assert listed(agent_client, "who=unassigned&needs=yes") == [overdue.pk, at_risk.pk]
    assert listed(agent_client, "who=mine") == [mine.pk]


def test_inbox_queries_do_not_grow_with_the_page_size(agent_client, agent_user):
    # given more conversations than the smaller page, and return requests to answer
    for number in range(30):
        thread("rakuten" if number % 2 else "amazon_fr", hours_ago=number + 1)
    Conversation.objects.filter(pk__in=Conversation.objects.values("pk")[:10]).update(
        assignee=agent_user
    )
    for number in range(8):
        a_return(f"R-{number}", hours_ago=number * 7)
    agent_client.get(INBOX)  # the session warms up

    with CaptureQueriesContext(connection) as small:
        response = agent_client.get(INBOX, {"size": 25})
    assert len(listed(agent_client, "size=25")) == 25
    with CaptureQueriesContext(connection) as large:
        agent_client.get(INBOX, {"size": 100})

    assert len(listed(agent_client, "size=100")) == 30
    assert len(large.captured_queries) == len(small.captured_queries)
    assert queue_counts(response.content.decode())["needs_answer"] == 30


# -- return requests in the inbox ------------------------------------------------------------


def test_return_requests_needing_an_answer_show_in_the_inbox_most_urgent_first(agent_client):
    fresh = a_return("R-fresh", hours_ago=1)
    late = a_return("R-late", hours_ago=50)
    risky = a_return("R-risky", hours_ago=40)
    a_return("R-invalid", hours_ago=45)
    ReturnRequest.objects.filter(external_id="R-invalid").update(is_valid=False)

    html = agent_client.get(INBOX).content.decode()

    assert returns_listed(html) == [late.pk, risky.pk, fresh.pk]
    section = html[html.index('id="return-requests"') :]
    assert "3 awaiting an answer" in section
    assert "1 past its clock" in section and "1 due within 12 h" in section
    assert "overdue by 2 h" in section
    assert re.search(r"ws-badge-at-risk[^>]*>7 h \d\d left", section)
    assert f'href="{RETURNS}?clock=overdue"' in section


def test_only_the_most_urgent_are_answered_in_the_inbox_the_rest_are_linked(agent_client):
    for number in range(7):
        a_return(f"R-{number}", hours_ago=number)

    html = agent_client.get(INBOX).content.decode()

    assert len(returns_listed(html)) == 5
    assert "All 7 return requests awaiting an answer" in html


def test_an_agent_answers_a_return_request_from_the_inbox(agent_client):
    case = open_case("wrong_item", actor=SYSTEM, marketplace="amazon_fr")
    one = a_return("R-1", hours_ago=3, case=case)
    two = a_return("R-2", hours_ago=2)
    answer = f"{RETURNS}{{}}/answer/"
    back = f"{INBOX}?needs=yes"

    # a rejection without a reason is refused, nothing changes, the inbox says why
    refused = agent_client.post(
        answer.format(one.pk), {"decision": "rejected", "reason": " ", "next": back}, follow=True
    )
    assert refused.redirect_chain[-1][0] == back
    assert "Say why the return is rejected" in refused.content.decode()
    one.refresh_from_db()
    assert (one.decision, one.responded_at) == ("", None)

    rejected = agent_client.post(
        answer.format(one.pk),
        {"decision": "rejected", "reason": "Worn, tags removed.", "next": back},
    )
    agent_client.post(answer.format(two.pk), {"decision": "authorized", "next": back})

    assert rejected["Location"] == back
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.decision, one.rejection_reason, one.answered_by_name) == (
        "rejected",
        "Worn, tags removed.",
        "lea",
    )
    assert two.decision == "authorized" and two.responded_at is not None
    # through the kernel: the answer is in the case's history
    assert CaseEvent.objects.filter(case=case, event_type="return_answered").count() == 1
    html = agent_client.get(INBOX).content.decode()
    assert returns_listed(html) == [] and 'id="return-requests"' not in html


def test_an_answer_never_returns_to_another_site(agent_client):
    request = a_return("R-1", hours_ago=3)
    response = agent_client.post(
        f"{RETURNS}{request.pk}/answer/",
        {"decision": "closed", "next": "https://elsewhere.example/"},
    )
    assert response["Location"] == RETURNS


def test_who_cannot_see_return_requests_has_no_return_section(agent_client, agent_user):
    from django.contrib.auth.models import Permission

    a_return("R-1", hours_ago=3)
    for group in agent_user.groups.all():
        group.permissions.remove(
            *Permission.objects.filter(codename__in=["view_returnrequest", "change_returnrequest"])
        )

    html = agent_client.get(INBOX).content.decode()

    assert 'id="return-requests"' not in html and 'data-queue="returns"' not in html


# -- the case page's composers ---------------------------------------------------------------


def test_the_case_page_templates_take_a_fixed_number_of_queries(agent_client):
    case = open_case("late_shipment", actor=SYSTEM, marketplace="amazon_fr")
    amazon = Marketplace.objects.get(code="amazon_fr")
    MessageTemplate.objects.create(name="Suivi", language="fr", marketplace=amazon, body="A")
    MessageTemplate.objects.create(name="Tracking", language="en", body="B {{ order_id }}")
    MessageTemplate.objects.create(
        name="Rakuten only",
        language="fr",
        marketplace=Marketplace.objects.get(code="rakuten"),
        body="C",
    )
    page = f"/admin/cases/case/{case.pk}/change/"
    thread("amazon_fr", case=case, language="en")
    agent_client.get(page)  # the session warms up
    with CaptureQueriesContext(connection) as one:
        html = agent_client.get(page).content.decode()
    assert html.count(">Suivi (fr)<") == 1 and "Rakuten only" not in html

    for hours in range(4):
        thread("amazon_fr", case=case, hours_ago=hours + 3, language="fr")
    with CaptureQueriesContext(connection) as five:
        html = agent_client.get(page).content.decode()

    assert html.count('id="composer-') == 5
    assert html.count(">Suivi (fr)<") == 5 and "Rakuten only" not in html
    assert len(five.captured_queries) == len(one.captured_queries)


def test_a_refund_without_return_is_answered_from_the_request_page(agent_client):
    request = a_return("R-1", hours_ago=3)

    page = agent_client.get(f"{RETURNS}{request.pk}/change/").content.decode()
    assert "Confirm: refund without a return" in page
    agent_client.post(f"{RETURNS}{request.pk}/answer/", {"decision": "refunded_without_return"})
    unknown = agent_client.post(
        f"{RETURNS}{request.pk}/answer/", {"decision": "maybe"}, follow=True
    )

    request.refresh_from_db()
    assert request.decision == "refunded_without_return"
    assert "Choose an answer" in unknown.content.decode()


# -- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Demandes de retour à traiter", "1 en attente de réponse", "Non lues"]),
        ("zh-hans", ["待答复的退货申请", "1 个待答复", "未读"]),
    ],
)
def test_the_inbox_return_requests_in_each_language(agent_client, language, expected):
    a_return("R-1", hours_ago=3)
    html = agent_client.get(INBOX, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in expected:
        assert text in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Adresse e-mail du client", "Exporter (ZIP)", "Effacer", "Retrouvez le client"]),
        ("zh-hans", ["客户的电子邮件地址", "导出（ZIP）", "删除", "按电子邮件地址"]),
    ],
)
def test_the_personal_data_page_in_each_language(supervisor_user, language, expected):
    from django.contrib.auth.models import Permission

    from .conftest import logged_in

    supervisor_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="cases", codename="handle_personal_data")
    )
    client = logged_in(type(supervisor_user).objects.get(pk=supervisor_user.pk))
    html = client.get(
        "/admin/cases/personaldataerasure/request/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    for text in expected:
        assert text in html
