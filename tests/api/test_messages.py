"""POST /api/v1/messages/ (bulk, idempotent by external id, all or nothing) and
GET /api/v1/messages/, through HTTP with an API key."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import CaseEvent
from messaging.models import Message
from tests.api.test_auth import assert_problem
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2025, 10, 6, 9, 0, tzinfo=dt.UTC)


def item(external_id, direction, minutes, marketplace="amazon_fr", **extra):
    return {
        "marketplace": marketplace,
        "external_id": external_id,
        "conversation_id": extra.pop("conversation_id", "thread-1"),
        "direction": direction,
        "counterpart": "customer",
        "channel": "email",
        "sent_at": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


def post(api, items, **extra):
    return api.post("/api/v1/messages/", items, format="json", **extra)


def test_import_counts_and_is_idempotent(api):
    batch = [item("m1", "in", 0), item("m2", "out", 30), item("t1", "in", 5, marketplace="tmall")]

    first = post(api, batch)
    again = post(api, batch)

    assert first.status_code == 200, first.content
    assert first.json() == {
        "received": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "first_responded_cases": [],
    }
    assert again.json()["unchanged"] == 3 and again.json()["created"] == 0
    assert Message.objects.count() == 3
    question = Message.objects.get(external_id="m1")
    assert question.is_conversation_start and question.answered_at == T0 + dt.timedelta(minutes=30)


def test_a_sellers_answer_records_the_cases_first_response(api, system_actor):
    order = make_order("amazon_fr", placed_at=T0 - dt.timedelta(days=3))
    case = open_case("damaged_item", actor=system_actor, order=order, opened_at=T0)

    response = post(
        api,
        [
            item("q", "in", 10, order=order.external_id),
            item("a", "out", 90, case=case.reference),
        ],
    )

    assert response.json()["first_responded_cases"] == [case.reference]
    case.refresh_from_db()
    assert case.first_responded_at == T0 + dt.timedelta(minutes=90)
    event = CaseEvent.objects.filter(case=case).order_by("-pk").first()
    assert (event.actor_type, event.actor_name, event.door) == ("api_client", "erp", "api")


def test_every_bad_item_is_reported_and_nothing_is_written(api):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    response = post(
        api,
        [
            item("ok", "in", 0),
            item("bad-direction", "sideways", 1),
            item("naive", "in", 2, sent_at="2025-10-06T09:00:00"),
            item("future", "in", 3, sent_at=future),
            item("elsewhere", "in", 4, marketplace="jd"),  # not this client's marketplace
            item("no-order", "in", 5, order="NOPE-1"),
            item("nul", "in", 6, body="broken\x00text"),  # PostgreSQL cannot store NUL
            item("odd-marketplace", "in", 7, marketplace={"code": "tmall"}),
        ],
    )

    body = assert_problem(response, 400, "invalid")
    by_index = {(e["index"], e["field"]) for e in body["errors"]}
    assert by_index == {
        (1, "direction"),
        (2, "sent_at"),
        (3, "sent_at"),
        (4, "marketplace"),
        (5, "order"),
        (6, "body"),
        (7, "marketplace"),
    }
    assert all(e["pointer"] == f"/{e['index']}/{e['field']}" for e in body["errors"])
    future_error = next(e for e in body["errors"] if e["index"] == 3)
    assert "future" in future_error["detail"]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"external_id": "m1"}, "JSON list"),
        ([], "empty"),
        (["text"], "object"),
    ],
)
def test_a_malformed_body_is_a_clear_400(api, payload, words):
    body = assert_problem(post(api, payload), 400, "invalid")
    assert words in body["detail"] or any(words in e["detail"] for e in body.get("errors", []))
    assert not Message.objects.exists()


def test_idempotency_key_replays_the_first_answer(api):
    first = post(api, [item("m1", "in", 0)], HTTP_IDEMPOTENCY_KEY="msg-batch-1")
    replay = post(api, [item("m1", "in", 0)], HTTP_IDEMPOTENCY_KEY="msg-batch-1")
    assert first.json() == replay.json() and replay.json()["created"] == 1


def test_list_is_scoped_filtered_and_fixed_in_queries(api, jd_api, system_actor):
    order = make_order("amazon_fr")
    post(api, [item(f"m{i}", "in", i, order=order.external_id) for i in range(3)])
    post(api, [item("other", "in", 0, conversation_id="t2")])

    listed = api.get("/api/v1/messages/", {"order": order.external_id})
    assert listed.status_code == 200, listed.content
    results = listed.json()["results"]
    assert [m["external_id"] for m in results] == ["m2", "m1", "m0"]  # newest first
    assert results[0]["order"] == order.external_id and results[0]["marketplace"] == "amazon_fr"
    assert jd_api.get("/api/v1/messages/").json()["results"] == []

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/messages/", {"page_size": page_size}).status_code == 200
        return len(captured)

    post(api, [item(f"x{i}", "in", 10 + i, conversation_id=f"c{i}") for i in range(20)])
    assert queries(2) == queries(20)
