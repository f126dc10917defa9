"""Every existing message joins the conversation of its (marketplace, thread id): one
conversation per thread, described by its first message, then the thread facts (clocks,
answers) derived as the import derives them. Conversations with nothing left to answer are done;
the others are to do."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

CHUNK = 2000


def _first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def messages_into_conversations(apps, schema_editor):
    from messaging.services.threads import threads_derive

    Conversation = apps.get_model("messaging", "Conversation")
    Message = apps.get_model("messaging", "Message")
    Order = apps.get_model("cases", "Order")
    firsts = {}
    for row in (
        Message.objects.order_by("marketplace_id", "thread_id", "sent_at", "pk")
        .values(
            "marketplace_id",
            "thread_id",
            "counterpart",
            "channel",
            "subject",
            "body",
            "order_id",
            "case_id",
        )
        .iterator(chunk_size=CHUNK)
    ):
        key = (row["marketplace_id"], row["thread_id"])
        first = firsts.get(key)
        if first is None:
            firsts[key] = dict(row)
            continue
        for name in ("order_id", "case_id", "subject"):
            if not first[name] and row[name]:
                first[name] = row[name]
        if not _first_line(first["body"]) and row["body"]:
            first["body"] = row["body"]
    languages = dict(
        Order.objects.filter(
            pk__in={f["order_id"] for f in firsts.values() if f["order_id"]}
        ).values_list("pk", "customer_language")
    )
    new = [
        Conversation(
            marketplace_id=first["marketplace_id"],
            external_id=first["thread_id"],
            counterpart=first["counterpart"],
            channel=first["channel"],
            topic="after_sale" if first["order_id"] else "pre_sale",
            language=languages.get(first["order_id"], ""),
            subject=first["subject"],
            preview=_first_line(first["body"]),
            order_id=first["order_id"],
            case_id=first["case_id"],
            status="to_do",
        )
        for first in firsts.values()
    ]
    Conversation.objects.bulk_create(new, batch_size=CHUNK)
    Message.objects.update(
        conversation_id=Subquery(
            Conversation.objects.filter(
                marketplace_id=OuterRef("marketplace_id"), external_id=OuterRef("thread_id")
            ).values("pk")[:1]
        )
    )
    ids = list(Conversation.objects.values_list("pk", flat=True))
    threads_derive(ids, models=(Conversation, Message))
    Conversation.objects.filter(awaiting_response=False).update(status="done")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_events_typed_and_email_claims"),
        ("marketplaces", "0004_conversation_rules_decision_clocks"),
        ("messaging", "0004_conversations_outbox_templates"),
    ]

    operations = [
        migrations.RunPython(messages_into_conversations, migrations.RunPython.noop),
    ]
