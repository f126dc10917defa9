"""The data migration that groups the message log into conversations."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("messaging", "0003_message_thread_id")]
AFTER = [("messaging", "0006_message_conversation_required")]
T0 = dt.datetime(2025, 11, 3, 8, 0, tzinfo=dt.UTC)


def test_existing_messages_become_conversations_with_their_clocks():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Marketplace = apps.get_model("marketplaces", "Marketplace")
    Message = apps.get_model("messaging", "Message")
    amazon = Marketplace.objects.get(code="amazon_fr")
    common = {"marketplace": amazon, "counterpart": "customer", "channel": "email"}
    rows = [
        ("q1", "T1", "in", T0, "Where is it?"),
        ("r1", "T1", "out", T0 + dt.timedelta(hours=2), "On its way"),
        ("q2", "T2", "in", T0, "Broken"),
    ]
    for external_id, thread, direction, at, body in rows:
        Message.objects.create(
            external_id=external_id,
            thread_id=thread,
            direction=direction,
            sent_at=at,
            received_at=at,
            body=body,
            **common,
        )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Conversation = apps.get_model("messaging", "Conversation")
    Message = apps.get_model("messaging", "Message")

    t1, t2 = Conversation.objects.get(external_id="T1"), Conversation.objects.get(external_id="T2")
    assert (t1.message_count, t1.status, t1.awaiting_response, t1.preview) == (
        2,
        "done",
        False,
        "Where is it?",
    )
    assert (t2.status, t2.awaiting_response, t2.response_due_at) == (
        "to_do",
        True,
        T0 + dt.timedelta(hours=24),
    )
    q1 = Message.objects.get(external_id="q1")
    assert (q1.conversation_id, q1.answered_at, q1.needs_response) == (
        t1.pk,
        T0 + dt.timedelta(hours=2),
        True,
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
