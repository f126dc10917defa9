"""The admin home page: the case work queues, conversations needing an answer
(``messaging.selectors.inbox_counts``) and return requests awaiting one, each count linking to
its filtered list, in a number of queries that does not grow with the data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases.choices import Door
from cases.services import case_assign, refund_request_create
from cases.services.returns import return_request_upsert
from marketplaces.models import Marketplace
from messaging.services.imports import message_import
from tests.factories import make_order, open_case

from .helpers import SYSTEM, case_due_in_minutes

pytestmark = pytest.mark.django_db


def pill(home: str, key: str) -> str:
    item = home[home.index(f'data-queue="{key}"') :]
    return re.search(r"ws-count-pill[^>]*>([^<]+)<", item).group(1)


def conversations_waiting(count: int, *, hours_ago: float) -> None:
    sent = timezone.now() - dt.timedelta(hours=hours_ago)
    message_import(
        marketplace=Marketplace.objects.get(code="amazon_fr"),
        messages=[
            {
                "external_id": f"m-{hours_ago}-{n}",
                "conversation_id": f"c-{hours_ago}-{n}",
                "direction": "in",
                "counterpart": "customer",
                "channel": "email",
                "sent_at": sent.isoformat(),
            }
            for n in range(count)
        ],
        actor=SYSTEM,
        door=Door.API,
    )


def returns_waiting(count: int, *, hours_ago: float) -> None:
    amazon = Marketplace.objects.get(code="amazon_fr")
    for n in range(count):
        return_request_upsert(
            marketplace=amazon,
            external_id=f"R-{hours_ago}-{n}",
            order=make_order(amazon),
            requested_at=timezone.now() - dt.timedelta(hours=hours_ago),
            customer_reason="Too small",
        )


def some_of_everything(agent_user, scale: int) -> None:
    for _ in range(scale):
        mine = case_due_in_minutes(-30)
        case_assign(case=mine, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)
        case_due_in_minutes(2)  # unassigned, due today
        refund_request_create(
            case=open_case("cancellation", actor=SYSTEM),
            amount="9.90",
            currency="CNY",
            actor=SYSTEM,
            door=Door.COMMAND,
        )
    conversations_waiting(scale, hours_ago=2)  # Amazon: 24 h, still running
    conversations_waiting(scale, hours_ago=30)  # overdue
    returns_waiting(scale, hours_ago=3)  # Amazon: 48 h
    returns_waiting(scale, hours_ago=60)  # past the clock


def test_home_page_counts_answers_waiting_and_links_to_the_lists(agent_client, agent_user):
    some_of_everything(agent_user, 2)

    home = agent_client.get("/admin/").content.decode()

    assert pill(home, "conversations") == "4"
    assert pill(home, "conversations_overdue") == "2"
    assert pill(home, "returns") == "4"
    assert pill(home, "returns_overdue") == "2"
    # Each return count opens the list that shows those requests.
    for key, query in (("returns", "answered=no"), ("returns_overdue", "clock=overdue")):
        item = home[home.index(f'data-queue="{key}"') :]
        url = re.search(r'href="([^"]+)"', item).group(1).replace("&amp;", "&")
        assert url.endswith(f"?{query}")
        listed = agent_client.get(url).content.decode()
        assert listed.count('class="field-external_id"') == int(pill(home, key))
    # The case queues are still there: mine, unassigned, refunds awaiting a decision.
    assert "All my open cases" in home and "Unassigned cases" in home
    assert "Refund requests awaiting a decision" in home


def test_home_page_queries_do_not_grow_with_the_data(
    agent_client, agent_user, django_assert_num_queries
):
    agent_client.get("/admin/")  # warm: session, content types
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        agent_client.get("/admin/")
    some_of_everything(agent_user, 3)

    with django_assert_num_queries(len(empty.captured_queries)):
        response = agent_client.get("/admin/")

    assert response.status_code == 200
    assert len(empty.captured_queries) <= 25
