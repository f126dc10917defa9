"""The message log import: bulk, idempotent by external id, all-or-nothing, thread facts derived
from the whole conversation, and the seller's first answer recorded on the case."""

import datetime as dt

import pytest

from cases.actors import Actor
from cases.choices import Door
from cases.models import Case
from marketplaces.models import Marketplace
from messaging.models import Message
from messaging.services import MessageImportRefused, case_messages, message_import
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 10, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def amazon():
    return Marketplace.objects.get(code="amazon_fr")


def imported(marketplace, *items):
    return message_import(
        marketplace=marketplace, messages=list(items), actor=Actor.system("tests"), door=Door.API
    )


def item(external_id, direction, minutes, **extra):
    return {
        "external_id": external_id,
        "conversation_id": extra.pop("conversation_id", "thread-1"),
        "direction": direction,
        "counterpart": "customer",
        "channel": "email",
        "sent_at": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


def test_import_is_idempotent_by_external_id(amazon):
    batch = [item("m1", "in", 0), item("m2", "out", 30)]

    first = imported(amazon, *batch)
    again = imported(amazon, *batch)
    changed = imported(amazon, item("m1", "in", 0, is_spam=True), item("m3", "in", 60))

    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.created, changed.updated, changed.unchanged) == (1, 1, 0)
    assert Message.objects.count() == 3
    assert Message.objects.get(external_id="m1").is_spam is True


def test_thread_facts_are_derived_whatever_the_order_of_arrival(amazon):
    # the answer arrives first, the customer's message later
    imported(amazon, item("reply", "out", 45))
    imported(amazon, item("question", "in", 0), item("follow-up", "in", 50))

    question = Message.objects.get(external_id="question")
    reply = Message.objects.get(external_id="reply")
    follow_up = Message.objects.get(external_id="follow-up")
    assert question.is_conversation_start and not reply.is_conversation_start
    assert question.answered_at == T0 + dt.timedelta(minutes=45)
    assert question.response_time == dt.timedelta(minutes=45)
    assert follow_up.answered_at is None  # nothing was sent after it
    assert reply.answered_at is None  # sent messages are not answered


def test_a_bad_item_refuses_the_whole_batch(amazon):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    with pytest.raises(MessageImportRefused) as refused:
        imported(
            amazon,
            item("ok", "in", 0),
            item("bad-direction", "sideways", 1),
            item("future", "in", 2, sent_at=future),
            item("naive", "in", 3, sent_at="2025-10-06T09:00:00"),
            item("ok", "in", 4),
            item("early", "in", 5, received_at=T0.isoformat()),
            item("no-order", "in", 6, order="NOPE"),
        )
    errors = {(e["index"], e["field"]) for e in refused.value.errors}
    assert errors == {
        (1, "direction"),
        (2, "sent_at"),
        (3, "sent_at"),
        (4, "external_id"),
        (5, "received_at"),
        (6, "order"),
    }
    assert refused.value.code == "invalid_value"
    assert "6 message(s) are invalid" in refused.value.message
    assert not Message.objects.exists()


def test_the_sellers_answer_records_the_first_response_of_the_case(amazon, system_actor):
    order = make_order(amazon, placed_at=T0 - dt.timedelta(days=3))
    case = open_case("damaged_item", actor=system_actor, order=order, opened_at=T0)
    assert case.first_responded_at is None and case.response_due_at == T0 + dt.timedelta(hours=24)

    result = imported(
        amazon,
        item("q", "in", 10, order=order.external_id),
        item("a1", "out", 90, order=order.external_id),  # the first answer
        item("a2", "out", 120, case=case.reference),
        # to the platform, not the customer: not an answer
        item("p", "out", 20, counterpart="platform", order=order.external_id),
    )

    case.refresh_from_db()
    assert result.first_responses == [case.reference]
    assert case.first_responded_at == T0 + dt.timedelta(minutes=90)
    assert case.next_due_at != case.response_due_at  # the response clock stopped
    assert [m.external_id for m in case_messages(case)] == ["q", "p", "a1", "a2"]
    # importing again changes nothing on the case
    version = case.version
    assert imported(amazon, item("a1", "out", 90, order=order.external_id)).first_responses == []
    assert Case.objects.get(pk=case.pk).version == version


def test_an_answer_sent_before_the_case_was_opened_is_not_its_first_response(amazon, system_actor):
    order = make_order(amazon, placed_at=T0 - dt.timedelta(days=3))
    case = open_case("damaged_item", actor=system_actor, order=order, opened_at=T0)
    imported(amazon, item("old", "out", -60, order=order.external_id))
    case.refresh_from_db()
    assert case.first_responded_at is None


def test_a_case_of_another_order_is_refused(amazon, system_actor):
    case = open_case(
        "damaged_item",
        actor=system_actor,
        order=make_order(amazon, placed_at=T0 - dt.timedelta(days=3)),
        opened_at=T0,
    )
    other = make_order(amazon, placed_at=T0 - dt.timedelta(days=3))
    with pytest.raises(MessageImportRefused) as refused:
        imported(amazon, item("x", "in", 0, order=other.external_id, case=case.reference))
    assert refused.value.errors[0]["field"] == "case"


def test_import_queries_do_not_grow_with_the_batch(amazon):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def batch(n, prefix):
        return [
            item(f"{prefix}-{i}", "in" if i % 2 else "out", i, conversation_id=f"{prefix}{i // 2}")
            for i in range(n)
        ]

    def queries(n, prefix):
        with CaptureQueriesContext(connection) as captured:
            imported(amazon, *batch(n, prefix))
        # Only the bulk INSERTs and UPDATEs are split, by the database's limit on parameters
        # (SQLite): consecutive statements of one kind on one table count once.
        kinds = []
        for query in captured.captured_queries:
            words = query["sql"].split()
            kind = (words[0], words[2] if words[0] in {"INSERT", "UPDATE"} else "")
            if kind[0] in {"INSERT", "UPDATE"} and kinds and kinds[-1] == kind:
                continue
            kinds.append(kind)
        return kinds

    queries(2, "warm")  # the marketplace's calendar is read once, then cached
    assert queries(20, "small") == queries(400, "large")
    assert Message.objects.count() == 422


def test_reimporting_known_messages_of_an_order_costs_the_same_whatever_their_number(amazon):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = make_order(amazon, placed_at=T0 - dt.timedelta(days=3))

    def batch(n, prefix):
        return [
            item(f"{prefix}-{i}", "in", i, conversation_id=prefix, order=order.external_id)
            for i in range(n)
        ]

    def reimport_queries(n, prefix):
        imported(amazon, *batch(n, prefix))
        with CaptureQueriesContext(connection) as captured:
            result = imported(amazon, *batch(n, prefix))
        assert result.unchanged == n
        return len(captured)

    assert reimport_queries(3, "few") == reimport_queries(30, "many")
