"""The case list: columns, filters, search, urgency order, counting, saved lists."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse

from cases.actors import Actor
from cases.choices import Door
from cases.services import case_assign, order_upsert, refund_decide, refund_request_create
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case, run

from .helpers import SYSTEM, case_due_in_minutes, case_with_resolution_due_in

pytestmark = pytest.mark.django_db
URL = "/admin/cases/case/"


def references(response) -> list[str]:
    """The case references listed, in order."""
    return re.findall(
        r'<th class="field-reference"><a href="[^"]+">(AS-\d{4}-\d+)</a>', response.content.decode()
    )


def test_columns_show_what_an_agent_needs(agent_client, agent_user):
    # given
    order = make_order("tmall", customer_name="Zhang Min", customer_email="zhang@example.com")
    case = open_case("damaged_item", actor=SYSTEM, order=order)
    case_assign(case=case, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)

    # when
    response = agent_client.get(URL)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    row = html[html.index(case.reference) :]
    row = row[: row.index("</tr>")]
    for expected in [
        "Tmall",
        "Damaged item",
        "New",
        order.external_id,
        "Zhang Min",
        "zhang@example.com",
        "Léa Martin",
        "Overdue by",
        "First response",
    ]:
        assert expected in row, expected
    assert "ws-badge-overdue" in row


def test_most_urgent_first_and_cases_without_deadline_last(agent_client, agent_user):
    later = case_with_resolution_due_in(5)
    overdue = case_due_in_minutes(-600)
    soon = case_with_resolution_due_in(1)
    # A claim under review, answered, on a marketplace with no review clock (the shipped
    # default is 2 business days): no clock runs until it is confirmed.
    Marketplace.objects.filter(code="tmall").update(evidence_review_business_days=None)
    no_deadline = run(
        open_case("damaged_item", actor=SYSTEM),
        ["request_evidence", "start_review"],
        Actor.for_user(agent_user),
    )
    assert no_deadline.next_due_at is None

    listed = references(agent_client.get(URL))

    assert listed == [overdue.reference, soon.reference, later.reference, no_deadline.reference]


def test_open_cases_by_default_and_a_search_finds_closed_ones(agent_client):
    open_one = open_case("cancellation", actor=SYSTEM)
    closed = run(open_case("cancellation", actor=SYSTEM), ["withdraw"], SYSTEM)

    assert references(agent_client.get(URL)) == [open_one.reference]
    assert references(agent_client.get(URL, {"status": "closed"})) == [closed.reference]
    assert set(references(agent_client.get(URL, {"status": "all"}))) == {
        open_one.reference,
        closed.reference,
    }
    # An agent pasting a reference finds the case even if it is closed.
    assert references(agent_client.get(URL, {"q": closed.reference.lower()})) == [closed.reference]


def test_deadline_filters_follow_the_marketplace_calendar(agent_client):
    overdue = case_due_in_minutes(-120)
    today = case_due_in_minutes(2)
    in_one = case_with_resolution_due_in(1)
    in_two = case_with_resolution_due_in(2)
    in_three = case_with_resolution_due_in(3)
    closed = run(open_case("cancellation", actor=SYSTEM), ["withdraw"], SYSTEM)

    def listed(due):
        return set(references(agent_client.get(URL, {"due": due})))

    assert listed("overdue") == {overdue.reference}
    assert listed("today") == {today.reference}
    assert listed("soon") == {today.reference, in_one.reference, in_two.reference}
    assert listed("later") == {in_three.reference}
    assert listed("none") == set()
    assert closed.reference in set(
        references(agent_client.get(URL, {"due": "none", "status": "all"}))
    )


def test_assignee_filter_mine_unassigned_and_a_colleague(agent_client, agent_user, other_agent):
    mine = open_case("cancellation", actor=SYSTEM)
    case_assign(case=mine, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)
    theirs = open_case("cancellation", actor=SYSTEM)
    case_assign(case=theirs, assignee=other_agent, actor=SYSTEM, door=Door.COMMAND)
    nobody = open_case("cancellation", actor=SYSTEM)

    assert references(agent_client.get(URL, {"assignee": "mine"})) == [mine.reference]
    assert references(agent_client.get(URL, {"assignee": "unassigned"})) == [nobody.reference]
    assert references(agent_client.get(URL, {"assignee": str(other_agent.pk)})) == [
        theirs.reference
    ]


def test_marketplace_kind_state_escalated_and_refund_filters(agent_client, supervisor_user):
    tmall_claim = open_case("damaged_item", actor=SYSTEM, marketplace="tmall")
    amazon_claim = open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr")
    escalated = run(
        open_case("cancellation", actor=SYSTEM, marketplace="tmall"), ["escalate"], SYSTEM
    )
    awaiting = open_case("cancellation", actor=SYSTEM, marketplace="jd")
    refund_request_create(
        case=awaiting, amount="10", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    decided = open_case("cancellation", actor=SYSTEM, marketplace="jd")
    refund = refund_request_create(
        case=decided, amount="12", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    refund_decide(
        refund_request=refund,
        decision="rejected",
        reason_code="duplicate",
        actor=Actor.for_user(supervisor_user),
        door=Door.ADMIN,
    )

    def listed(**params):
        return set(references(agent_client.get(URL, params)))

    assert listed(marketplace="amazon_fr") == {amazon_claim.reference}
    assert listed(kind="damaged_item") == {tmall_claim.reference, amazon_claim.reference}
    assert listed(kind="damaged_item", marketplace="tmall") == {tmall_claim.reference}
    assert listed(state="escalated") == {escalated.reference}
    assert listed(escalated__exact="1") == {escalated.reference}
    assert listed(refund="any") == {awaiting.reference, decided.reference}
    assert listed(refund="undecided") == {awaiting.reference}
    assert awaiting.reference not in listed(refund="none")
    assert tmall_claim.reference in listed(refund="none")


def test_state_filter_offers_only_the_states_of_the_chosen_kind(agent_client):
    open_case("late_shipment", actor=SYSTEM)
    html = agent_client.get(URL, {"kind": "late_shipment"}).content.decode()
    assert "Supplier contacted" in html
    assert "Awaiting evidence" not in html  # a claim state, not a late shipment's


@pytest.mark.parametrize(
    "field",
    ["reference", "order_id", "email", "name_part", "claim_id"],
)
def test_search_by_reference_order_customer_or_claim(agent_client, field):
    order = make_order(
        "cdiscount", customer_name="Camille Petit", customer_email="Camille.Petit@example.fr"
    )
    order, _ = order_upsert(
        marketplace=order.marketplace,
        external_id="CD-778812",
        **{
            f: getattr(order, f)
            for f in ("customer_name", "customer_email", "placed_at", "currency")
        },
    )
    case = open_case("wrong_item", actor=SYSTEM, order=order, external_claim_id="CLM-55-A")
    open_case("wrong_item", actor=SYSTEM)  # another case that must not match
    term = {
        "reference": case.reference,
        "order_id": "CD-778812",
        "email": "camille.petit@example.fr",
        "name_part": "petit",
        "claim_id": "CLM-55-A",
    }[field]

    assert references(agent_client.get(URL, {"q": term})) == [case.reference]


def test_a_long_list_says_how_it_was_counted(agent_client, settings):
    settings.WORKSPACE_EXACT_COUNT_LIMIT = 3
    for _ in range(5):
        open_case("cancellation", actor=SYSTEM)

    html = agent_client.get(URL).content.decode()

    # Beyond the limit, PostgreSQL's planner estimate shown as one ("about N"), or "more than 3"
    # when it guesses below what was counted; SQLite has no estimate and counts exactly.
    if connection.vendor == "postgresql":
        assert re.search(r"about [\d,]+ results|more than 3 results", html)
        assert "4 results" not in html
    else:
        assert "5 results" in html
        assert "about" not in html and "more than 3" not in html


def test_saving_a_list_puts_it_on_the_home_page(agent_client, agent_user):
    response = agent_client.post(
        reverse("admin:cases_case_save_view"),
        {"name": "Tmall claims to review", "query": "marketplace=tmall&state=under_review"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?marketplace=tmall&state=under_review")

    home = agent_client.get("/admin/").content.decode()
    assert "Tmall claims to review" in home
    assert f"{URL}?marketplace=tmall&amp;state=under_review" in home


def test_home_page_work_queues_count_like_the_list(agent_client, agent_user):
    mine = case_due_in_minutes(-30)
    case_assign(case=mine, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)
    case_due_in_minutes(-45)  # overdue, unassigned

    from workspace.queues import QUEUES

    home = agent_client.get("/admin/").content.decode()
    for queue in QUEUES:
        listed = len(references(agent_client.get(queue.url)))
        anchor = home.index(f'href="{queue.url.replace("&", "&amp;")}"')
        pill = re.search(r"ws-count-pill[^>]*>([^<]+)<", home[anchor:]).group(1)
        assert pill == str(listed), queue.key
