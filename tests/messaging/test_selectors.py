"""The inbox list and counts, the conversation page's reads and the response-time report."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from marketplaces.models import Marketplace
from messaging.models import Conversation
from messaging.selectors import (
    ClockState,
    conversation_detail,
    inbox_counts,
    inbox_list,
    response_time_report,
)
from messaging.services import (
    conversation_note_add,
    conversations_assign,
    message_import,
    outbound_mark_sent,
    reply_send,
)
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def received(code, thread, hours_ago, *, order=None, counterpart="customer", **extra):
    item = {
        "external_id": f"{thread}-{hours_ago}",
        "conversation_id": thread,
        "direction": "in",
        "counterpart": counterpart,
        "channel": "email",
        "sent_at": (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat(),
        **extra,
    }
    if order is not None:
        item["order"] = order.external_id
    message_import(
        marketplace=Marketplace.objects.get(code=code), messages=[item], actor=SYSTEM, door=Door.API
    )
    return Conversation.objects.get(external_id=thread)


@pytest.fixture
def inbox(agent):
    order = make_order("amazon_fr", customer_language="fr")
    case = open_case("damaged_item", actor=SYSTEM, order=order)
    late = received(
        "amazon_fr", "late", 30, order=order, case=case.reference, reply_to="b1@relay.example"
    )
    risky = received("amazon_fr", "risky", 20)
    fresh = received("cdiscount", "fresh", 1, language="zh-hans")
    spam = received("amazon_fr", "spam", 40, is_spam=True)
    conversations_assign(conversations=[risky], assignee=agent, actor=SYSTEM)
    return {"late": late, "risky": risky, "fresh": fresh, "spam": spam, "case": case}


def names(page):
    return [row.conversation.external_id for row in page.rows]


def test_most_urgent_first_and_clock_states(inbox):
    page = inbox_list(at=timezone.now(), statuses=None)
    assert names(page) == ["late", "risky", "fresh", "spam"]
    assert [row.clock.state for row in page.rows] == [
        ClockState.OVERDUE,
        ClockState.AT_RISK,
        ClockState.ON_TRACK,
        ClockState.NONE,
    ]
    assert inbox["spam"].status == "spam"
    assert page.rows[0].clock.left < dt.timedelta(0)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"needs_answer": True}, ["late", "risky", "fresh"]),
        ({"clock": "overdue"}, ["late"]),
        ({"clock": "at_risk"}, ["risky"]),
        ({"clock": "late_or_at_risk"}, ["late", "risky"]),
        ({"unassigned": True, "needs_answer": True}, ["late", "fresh"]),
        ({"topic": "after_sale"}, ["late"]),
        ({"topic": "pre_sale", "needs_answer": True}, ["risky", "fresh"]),
        ({"language": "zh-hans"}, ["fresh"]),
        ({"on_case": True}, ["late"]),
        ({"on_case": False, "needs_answer": True}, ["risky", "fresh"]),
        ({"statuses": ["spam"]}, ["spam"]),
        ({}, ["late", "risky", "fresh"]),
    ],
)
def test_filters(inbox, filters, expected):
    assert names(inbox_list(at=timezone.now(), **filters)) == expected


def test_mine_and_marketplace_filters(inbox, agent):
    cdiscount = Marketplace.objects.get(code="cdiscount")
    assert names(inbox_list(at=timezone.now(), user=agent, mine=True)) == ["risky"]
    assert names(inbox_list(at=timezone.now(), marketplaces=[cdiscount.pk])) == ["fresh"]
    assert names(inbox_list(at=timezone.now(), user=agent, mine=True, unassigned=True)) == [
        "late",
        "risky",
        "fresh",
    ]


def test_query_count_does_not_grow_with_page_size(inbox):
    for i in range(12):
        received("rakuten", f"more{i}", 2 + i)

    def queries(size):
        with CaptureQueriesContext(connection) as captured:
            page = inbox_list(at=timezone.now(), page_size=size, with_count=True)
            [
                (r.conversation.marketplace.name, r.conversation.assignee, r.conversation.case)
                for r in page.rows
            ]
        return len(captured), page

    (small, page_small), (large, page_large) = queries(2), queries(50)
    assert small == large == 2
    assert (page_small.has_next, page_large.has_next, page_large.count) == (True, False, 15)


def test_counts(inbox, agent):
    assert inbox_counts(at=timezone.now(), user=agent) == {
        "needs_answer": 3,
        "unread": 3,
        "overdue": 1,
        "at_risk": 1,
        "unassigned": 2,
        "mine": 1,
    }


def test_conversation_detail_reads_the_thread_and_the_orders_cases(inbox, agent):
    late = inbox["late"]
    actor = Actor.for_user(agent)
    reply_send(conversation=late, body="On it", actor=actor, door=Door.ADMIN)
    conversation_note_add(
        conversation=late, text="Called the carrier", actor=actor, door=Door.ADMIN
    )
    with CaptureQueriesContext(connection) as captured:
        detail = conversation_detail(late.pk, at=timezone.now())
    assert len(captured) == 6
    assert [item.kind for item in detail.thread] == ["message", "outbound", "note"]
    assert detail.clock.state == ClockState.OVERDUE
    assert [summary.case for summary in detail.cases] == [inbox["case"]]
    assert set(detail.cases[0].deadlines) == {"response"}  # a claim: no resolution clock yet


def test_response_time_report_per_marketplace_and_agent(agent):
    actor = Actor.for_user(agent)
    now = timezone.now()
    on_time = received("amazon_fr", "a", 5, reply_to="a@relay.example")
    late = received("amazon_fr", "b", 40, reply_to="b@relay.example")
    received("amazon_fr", "c", 30)  # unanswered, past due: counts, not within the rule
    received("amazon_fr", "d", 2)  # clock still running: not counted yet
    for conversation, answered_hours_ago in ((on_time, 4), (late, 10)):
        outbound = reply_send(
            conversation=conversation,
            body="Hi",
            actor=actor,
            door=Door.ADMIN,
            at=now - dt.timedelta(hours=answered_hours_ago + 0.5),
        )
        outbound_mark_sent(
            outbound=outbound,
            marketplace_message_id=f"m-{conversation.pk}",
            sent_at=now - dt.timedelta(hours=answered_hours_ago),
            actor=SYSTEM,
            door=Door.API,
        )
    report = response_time_report(at=now, days=7)
    [amazon] = report.by_marketplace
    assert (amazon.label, amazon.timed, amazon.answered, amazon.within_rule) == (
        "Amazon.fr",
        3,
        2,
        1,
    )
    assert amazon.share_within_rule == pytest.approx(1 / 3)
    assert amazon.median_seconds == pytest.approx((3600 + 30 * 3600) / 2, abs=1)
    [person] = report.by_agent
    assert (person.label, person.answered, person.within_rule) == (agent.username, 2, 1)
