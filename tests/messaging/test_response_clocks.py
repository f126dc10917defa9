"""Each marketplace's response rule at its edges, as stored on the imported messages (the
inbox clocks and the response metrics read the same columns)."""

import datetime as dt

import pytest

from cases.actors import Actor
from cases.choices import Door
from marketplaces.models import Marketplace
from messaging.models import Conversation, ConversationStatus, Message
from messaging.services import (
    conversations_set_status,
    message_import,
    message_set_no_response_needed,
)

pytestmark = pytest.mark.django_db
PARIS = dt.timezone(dt.timedelta(hours=1))  # November: CET
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ACTOR = Actor.system("tests")


def imported(code, *items):
    return message_import(
        marketplace=Marketplace.objects.get(code=code),
        messages=list(items),
        actor=ACTOR,
        door=Door.API,
    )


def msg(external_id, direction, at, thread="t1", counterpart="customer", **extra):
    return {
        "external_id": external_id,
        "conversation_id": thread,
        "direction": direction,
        "counterpart": counterpart,
        "channel": "email",
        "sent_at": at.isoformat(),
        **extra,
    }


def get(external_id):
    return Message.objects.get(external_id=external_id)


# -- Amazon: 24 h calendar time, weekends and holidays included, every message -------------------


def test_amazon_counts_24_hours_through_the_weekend_and_a_holiday():
    # Saturday 8 Nov 2025 18:00 Paris; Tuesday 11 Nov is a holiday: it still counts
    imported("amazon_fr", msg("a1", "in", dt.datetime(2025, 11, 8, 18, 0, tzinfo=PARIS)))
    m = get("a1")
    assert (m.needs_response, m.response_due_at) == (
        True,
        dt.datetime(2025, 11, 9, 18, 0, tzinfo=PARIS),
    )
    assert m.response_at_risk_at == dt.datetime(2025, 11, 9, 12, 0, tzinfo=PARIS)  # 75 %
    imported("amazon_fr", msg("a2", "in", dt.datetime(2025, 11, 10, 20, 0, tzinfo=PARIS)))
    assert get("a2").response_due_at == dt.datetime(2025, 11, 11, 20, 0, tzinfo=PARIS)


def test_amazon_times_every_follow_up_and_one_reply_answers_them_all():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported(
        "amazon_fr",
        msg("q1", "in", t0),
        msg("q2", "in", t0 + dt.timedelta(hours=3)),
    )
    conversation = Conversation.objects.get(external_id="t1")
    assert get("q2").response_due_at == t0 + dt.timedelta(hours=27)
    # the conversation's clock is its earliest unanswered message's
    assert conversation.response_due_at == t0 + dt.timedelta(hours=24)
    assert (conversation.awaiting_response, conversation.status) == (True, "unread")

    imported("amazon_fr", msg("r1", "out", t0 + dt.timedelta(hours=5)))
    conversation.refresh_from_db()
    assert get("q1").answered_at == get("q2").answered_at == t0 + dt.timedelta(hours=5)
    assert get("q1").answered_in_time is True
    assert (conversation.awaiting_response, conversation.response_due_at) == (False, None)
    assert conversation.status == ConversationStatus.WAITING

    # a new question re-opens the conversation with its own clock
    imported("amazon_fr", msg("q3", "in", t0 + dt.timedelta(hours=30)))
    conversation.refresh_from_db()
    assert conversation.status == "unread"
    assert conversation.response_due_at == t0 + dt.timedelta(hours=54)


def test_no_response_needed_leaves_the_clock_and_comes_back_when_unmarked():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported("amazon_fr", msg("thanks", "in", t0))
    message_set_no_response_needed(message=get("thanks"), actor=ACTOR)
    m = get("thanks")
    conversation = Conversation.objects.get(external_id="t1")
    assert (m.no_response_needed, m.needs_response, m.response_due_at) == (True, False, None)
    assert (conversation.awaiting_response, conversation.response_due_at) == (False, None)

    message_set_no_response_needed(message=m, actor=ACTOR, no_response_needed=False)
    assert get("thanks").response_due_at == t0 + dt.timedelta(hours=24)


def test_spam_runs_no_clock_whether_flagged_on_import_or_marked_by_an_agent():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported("amazon_fr", msg("s1", "in", t0, is_spam=True), msg("x1", "in", t0, thread="t2"))
    assert (get("s1").needs_response, get("s1").response_due_at) == (False, None)

    conversation = Conversation.objects.get(external_id="t2")
    conversations_set_status(conversations=[conversation], status="spam", actor=ACTOR)
    conversation.refresh_from_db()
    assert (get("x1").needs_response, conversation.response_due_at) == (False, None)
    # a new message in a spam conversation stays spam, with no clock
    imported("amazon_fr", msg("x2", "in", t0 + dt.timedelta(hours=1), thread="t2"))
    conversation.refresh_from_db()
    assert (conversation.status, get("x2").response_due_at) == ("spam", None)

    conversations_set_status(conversations=[conversation], status="to_do", actor=ACTOR)
    assert get("x1").response_due_at == t0 + dt.timedelta(hours=24)


# -- Cdiscount and Rakuten: 48 business hours (whole working days) --------------------------------


@pytest.mark.parametrize("code", ["cdiscount", "rakuten"])
@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Monday 10:00: Tuesday 11 Nov is a holiday, so Wednesday and Thursday count
        (dt.datetime(2025, 11, 10, 10, 0), dt.datetime(2025, 11, 13, 10, 0)),
        # Friday 23:59:30: 30 s on Friday, then Monday, then Tuesday 23:59:30
        (dt.datetime(2025, 11, 14, 23, 59, 30), dt.datetime(2025, 11, 18, 23, 59, 30)),
        # Saturday: nothing counts before Monday 00:00, due Wednesday 00:00
        (dt.datetime(2025, 11, 15, 14, 0), dt.datetime(2025, 11, 19, 0, 0)),
        # on the boundary: Friday 00:00 exactly counts Friday and Monday whole
        (dt.datetime(2025, 11, 14, 0, 0), dt.datetime(2025, 11, 18, 0, 0)),
    ],
)
def test_business_hours_at_the_edges(code, received, due):
    imported(code, msg("b1", "in", received.replace(tzinfo=PARIS)))
    assert get("b1").response_due_at == due.replace(tzinfo=PARIS)


# -- Faire: first retailer message only, 2 full business days, Pause mode, brand-started --------


def test_faire_times_only_the_first_retailer_message():
    thursday = dt.datetime(2025, 11, 6, 16, 0, tzinfo=PARIS)
    imported(
        "faire",
        msg("f1", "in", thursday, counterpart="retailer"),
        msg("f2", "in", thursday + dt.timedelta(hours=1), counterpart="retailer"),
    )
    # day of receipt not counted: Friday 7, Monday 10 -> missed after Monday 23:59:59
    assert get("f1").response_due_at == dt.datetime(2025, 11, 10, 23, 59, 59, tzinfo=PARIS)
    # at risk once 75 % of the 2 days is used: Monday 12:00
    assert get("f1").response_at_risk_at == dt.datetime(2025, 11, 10, 12, 0, tzinfo=PARIS)
    assert (get("f2").needs_response, get("f2").response_due_at) == (True, None)


def test_faire_skips_the_holiday_and_the_weekend():
    imported(
        "faire",
        msg("f1", "in", dt.datetime(2025, 11, 10, 9, 0, tzinfo=PARIS), counterpart="retailer"),
    )
    # Tuesday 11 is a holiday: Wednesday and Thursday
    assert get("f1").response_due_at == dt.datetime(2025, 11, 13, 23, 59, 59, tzinfo=PARIS)


def test_faire_pause_mode_and_brand_started_conversations_run_no_clock():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported(
        "faire",
        msg("p1", "in", t0, counterpart="retailer", received_while_paused=True),
        msg("b0", "out", t0, thread="brand", counterpart="retailer"),
        msg("b1", "in", t0 + dt.timedelta(hours=1), thread="brand", counterpart="retailer"),
    )
    assert (get("p1").needs_response, get("p1").response_due_at) == (True, None)
    assert (get("b1").needs_response, get("b1").response_due_at) == (True, None)
    assert Conversation.objects.get(external_id="brand").brand_started is True


# -- Tmall: 3 min calendar (the 3.8 edge), at risk after 30 s (the 5 edge), Chinese calendar ------


def test_tmall_chat_clock_is_three_minutes_at_risk_after_thirty_seconds():
    # Sunday 28 Sep 2025 is an adjusted working day in China; calendar time anyway
    t0 = dt.datetime(2025, 9, 28, 10, 0, tzinfo=SHANGHAI)
    imported("tmall", msg("c1", "in", t0))
    m = get("c1")
    assert m.response_due_at == t0 + dt.timedelta(minutes=3)
    assert m.response_at_risk_at == t0 + dt.timedelta(seconds=30)


# -- Spartoo: only the platform's questions need the seller; AliExpress: no published rule ---------


def test_spartoo_only_the_platforms_questions_need_an_answer():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported(
        "spartoo",
        msg("c", "in", t0, counterpart="customer"),
        msg("p", "in", t0, thread="t2", counterpart="platform"),
    )
    assert get("c").needs_response is False
    assert (get("p").needs_response, get("p").response_due_at) == (True, None)
    assert Conversation.objects.get(external_id="t2").awaiting_response is True


def test_aliexpress_messages_need_an_answer_without_a_clock():
    imported("aliexpress", msg("x", "in", dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)))
    assert (get("x").needs_response, get("x").response_due_at) == (True, None)


def test_a_changed_profile_moves_the_clocks_of_unanswered_messages():
    t0 = dt.datetime(2025, 11, 3, 9, 0, tzinfo=PARIS)
    imported("amazon_fr", msg("q", "in", t0))
    Marketplace.objects.filter(code="amazon_fr").update(first_response_amount=12)
    from messaging.services.threads import marketplace_clocks_refresh

    assert marketplace_clocks_refresh(Marketplace.objects.get(code="amazon_fr").pk) == 1
    assert get("q").response_due_at == t0 + dt.timedelta(hours=12)
