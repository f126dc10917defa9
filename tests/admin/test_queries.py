"""Query counts of the list and the case page: fixed whatever the number of rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.actors import Actor
from cases.choices import Door
from cases.services import (
    case_assign,
    evidence_request_create,
    refund_request_create,
)
from tests.factories import add_photo, open_case, run

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db
URL = "/admin/cases/case/"
MARKETPLACES = ["tmall", "jd", "amazon_fr", "cdiscount", "faire", "rakuten"]
KINDS = ["damaged_item", "cancellation", "late_shipment", "customs_delay", "wrong_item"]


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


def many_cases(number: int, assignees: list) -> None:
    for i in range(number):
        case = open_case(KINDS[i % len(KINDS)], actor=SYSTEM, marketplace=MARKETPLACES[i % 6])
        if i % 3:
            case_assign(
                case=case, assignee=assignees[i % len(assignees)], actor=SYSTEM, door=Door.COMMAND
            )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"due": "soon"},
        {"assignee": "mine", "due": "overdue"},
        {"marketplace": "tmall", "kind": "damaged_item"},
        {"refund": "undecided"},
        {"q": "Li Wei"},
    ],
)
def test_case_list_queries_do_not_grow_with_the_rows(
    agent_client, agent_user, other_agent, django_assert_num_queries, params
):
    many_cases(2, [agent_user])
    agent_client.get(URL, params)  # warm: session, content types, the list "next case" walks
    few = count_queries(agent_client, URL, **params)

    many_cases(60, [agent_user, other_agent])  # more than a page (50)
    with django_assert_num_queries(few):
        response = agent_client.get(URL, params)
    assert response.status_code == 200
    assert few <= 12


def test_case_page_queries_do_not_grow_with_files_requests_refunds_and_events(
    agent_client, agent_user, django_assert_num_queries
):
    actor = Actor.for_user(agent_user)
    small = open_case("damaged_item", actor=SYSTEM)
    add_photo(small, SYSTEM)
    # One undecided refund: its confirmations read the refund-rejection rate (a fixed cost).
    refund_request_create(case=small, amount="5.00", currency="CNY", actor=actor, door=Door.ADMIN)
    url_small = f"{URL}{small.pk}/change/"
    agent_client.get(url_small)
    few = count_queries(agent_client, url_small)

    big = open_case("damaged_item", actor=SYSTEM)
    for seed in range(6):
        add_photo(big, SYSTEM, seed=1000 + seed)
    for _ in range(3):
        evidence_request_create(case=big, actor=actor, door=Door.ADMIN)
        refund_request_create(case=big, amount="9.90", currency="CNY", actor=actor, door=Door.ADMIN)
    big = run(big, ["request_evidence", "start_review", "request_evidence", "start_review"], actor)
    case_assign(case=big, assignee=agent_user, actor=actor, door=Door.ADMIN)
    assert big.events.count() > 15

    with django_assert_num_queries(few):
        response = agent_client.get(f"{URL}{big.pk}/change/")
    assert response.status_code == 200
    assert few <= 25


def test_case_list_labels_are_looked_up_once_per_page(
    agent_client, agent_user, other_agent, monkeypatch
):
    """Kind, state and deadline labels come from a table per language, not one translation
    look-up per cell: the look-ups of a page of 2 rows and of 50 rows are the same."""
    from django.utils import translation

    def lookups() -> int:
        translation.gettext("warm")  # makes ``_trans.gettext`` an attribute to wrap
        real = translation._trans.gettext
        calls = []
        monkeypatch.setattr(translation._trans, "gettext", lambda m: calls.append(m) or real(m))
        response = agent_client.get(URL)
        monkeypatch.undo()
        assert response.status_code == 200
        return len(calls)

    many_cases(2, [agent_user])
    agent_client.get(URL)  # warm: every label table of the language built
    few = lookups()
    many_cases(60, [agent_user, other_agent])
    agent_client.get(URL)
    many = lookups()
    assert many - few <= 10, (few, many)  # none per row (the pager's links differ)
