#!/usr/bin/env python
"""Benchmark: the inbox over 1,000,000 messages in 200,000 conversations (PostgreSQL).

Fills the database with set-based SQL (``INSERT ... SELECT`` over generate_series, a
deterministic hash as the random source): ``--conversations`` conversations (default 200,000)
on five marketplaces, five messages each (received, answered, received, answered, received);
40 % still await an answer, with due and at-risk times spread around now (overdue, at risk,
on track), a tenth of them on cases; 20 agents share the assigned ones. The derived columns are
written as ``messaging.services.threads`` derives them (checked on a sample at the end).

Then it times, server side (the selector call, queries included), each inbox filter of the
issue at page sizes 25 and 100 (the query count must be the same), the work-queue counts, and
the conversation page's reads (``conversation_detail``) on random conversations; median of
five warm runs. The page query is timed alone and with the exact count of matching rows
(``with_count=True``, which scans every match). Targets: inbox list <= 300 ms, conversation page <= 200 ms. Then the same two pages as the admin
renders them for an agent (``django.test.Client`` in process: middleware, session, permissions,
selectors and template; server time, no network), against the same targets.

    scripts/with-postgres .venv/bin/python bench/inbox_bench.py
    scripts/with-postgres .venv/bin/python bench/inbox_bench.py --conversations 20000

Exits non-zero when a target is missed or a query count grows with the page size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-only-key")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from marketplaces.models import Marketplace  # noqa: E402
from messaging.models import Conversation, Message  # noqa: E402
from messaging.selectors import conversation_detail, inbox_counts, inbox_list  # noqa: E402
from messaging.services.threads import threads_derive  # noqa: E402

CODES = ["amazon_fr", "cdiscount", "tmall", "faire", "rakuten"]
AGENTS = 20
CHUNK = 100_000

# ruff: noqa: E501  (the SQL reads best one expression per line)

RANDOM_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_rnd(n bigint, salt int) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8(n * 1000003 + salt) & 2147483647)::float8 / 2147483647.0 $$
"""

ORDERS = """
INSERT INTO cases_order (
    marketplace_id, external_id, customer_name, customer_email, customer_language, placed_at,
    destination_country, shipping_scope, total, currency, fulfilled_by, carrier, tracking_number,
    tracking_valid, cancelled_by, cancellation_reason, cancellation_controllable,
    a_to_z_claim_outcome, parcel_lost, created_at, updated_at)
SELECT %(m)s, 'IB-' || n, 'Customer ' || n, '', 'fr', %(now)s::timestamptz - interval '20 days',
       'FR', 'domestic', 50, 'EUR', 'seller', '', '', true, '', '', false, '', false, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
WHERE n %% 5 = %(mod)s
"""

CASES = """
INSERT INTO cases_case (
    reference, marketplace_id, order_id, kind, state, opened_at, priority, description,
    external_claim_id, resolution_outcome, escalated, version, created_at, updated_at)
SELECT 'IB-' || o.id, o.marketplace_id, o.id, 'damaged_item', 'new', o.placed_at, 20, '', '', '',
       false, 1, now(), now()
FROM cases_order o
WHERE o.external_id LIKE 'IB-%%' AND bench_rnd(o.id, 7) < 0.1
"""

# n: the conversation number; its marketplace is n %% 5; 40 %% still await an answer.
CONVERSATIONS = """
INSERT INTO messaging_conversation (
    marketplace_id, external_id, counterpart, channel, topic, language, subject, preview,
    order_id, case_id, assignee_id, status, reply_to, brand_started, first_message_at,
    last_message_at, last_inbound_at, last_outbound_at, awaiting_response, awaiting_since,
    response_due_at, response_at_risk_at, message_count, created_at, updated_at)
SELECT m.id, 'B' || n, 'customer', 'email',
       CASE WHEN o.id IS NULL THEN 'pre_sale' ELSE 'after_sale' END,
       CASE WHEN bench_rnd(n, 2) < 0.7 THEN 'fr' WHEN bench_rnd(n, 2) < 0.85 THEN 'en'
            ELSE 'zh-hans' END,
       'Question ' || n, 'About my order ' || n, o.id, c.id,
       CASE WHEN n %% (%(agents)s + 1) = 0 THEN NULL
            ELSE (SELECT id FROM auth_user WHERE username = 'agent' || (n %% (%(agents)s + 1)))
       END,
       CASE WHEN t.awaiting THEN (CASE WHEN bench_rnd(n, 3) < 0.5 THEN 'unread' ELSE 'to_do' END)
            WHEN bench_rnd(n, 4) < 0.5 THEN 'waiting_for_customer' ELSE 'done' END,
       '', false, t.start, t.start + interval '4 hours',
       t.start + CASE WHEN t.awaiting THEN interval '4 hours' ELSE interval '2 hours' END,
       t.start + CASE WHEN t.awaiting THEN interval '3 hours' ELSE interval '4 hours' END,
       t.awaiting,
       CASE WHEN t.awaiting THEN t.start + interval '4 hours' END,
       CASE WHEN t.awaiting THEN t.start + interval '28 hours' END,
       CASE WHEN t.awaiting THEN t.start + interval '22 hours' END,
       5, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN marketplaces_marketplace m ON m.code = (ARRAY['amazon_fr','cdiscount','tmall','faire','rakuten'])[(n %% 5) + 1]
LEFT JOIN cases_order o ON o.external_id = 'IB-' || n AND o.marketplace_id = m.id
LEFT JOIN cases_case c ON c.order_id = o.id,
LATERAL (SELECT bench_rnd(n, 1) < 0.4 AS awaiting,
                %(now)s::timestamptz - interval '4 hours'
                  - bench_rnd(n, 5) * interval '60 hours' AS start) t
"""

# Five messages per conversation: in (0h), out (1h), in (2h), out (3h), then in (4h, not
# answered yet) where the conversation awaits an answer, else out (4h, a follow-up).
MESSAGES = """
INSERT INTO messaging_message (
    marketplace_id, external_id, conversation_id, order_id, case_id, direction, counterpart,
    channel, sent_at, received_at, subject, body, is_spam, received_while_paused,
    no_response_needed, is_conversation_start, needs_response, response_due_at,
    response_at_risk_at, answered_at, created_at, updated_at)
SELECT c.marketplace_id, c.external_id || '-' || k, c.id, c.order_id, c.case_id,
       CASE WHEN d.inbound THEN 'in' ELSE 'out' END, 'customer', 'email',
       c.first_message_at + k * interval '1 hour', c.first_message_at + k * interval '1 hour',
       '', 'Message ' || k || ' of ' || c.external_id, false, false, false, k = 0, d.inbound,
       CASE WHEN d.inbound THEN c.first_message_at + k * interval '1 hour' + interval '24 hours' END,
       CASE WHEN d.inbound THEN c.first_message_at + k * interval '1 hour' + interval '18 hours' END,
       CASE WHEN d.inbound AND k < 4 THEN c.first_message_at + (k + 1) * interval '1 hour' END,
       now(), now()
FROM messaging_conversation c, generate_series(0, 4) AS k,
LATERAL (SELECT k %% 2 = 0 AND (k < 4 OR c.awaiting_response) AS inbound) d
WHERE c.id BETWEEN %(first)s AND %(last)s
"""


def say(text: str) -> None:
    print(text, flush=True)


def execute(sql: str, params: dict | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def scalar(sql: str, params: dict | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchone()[0]


def fill(conversations: int, now: dt.datetime) -> None:
    if Conversation.objects.filter(external_id="B1").exists():
        say("Data found: fill skipped.")
        return
    started = time.perf_counter()
    execute(RANDOM_FUNCTION)
    User = get_user_model()
    for i in range(1, AGENTS + 1):
        User.objects.get_or_create(username=f"agent{i}", defaults={"is_staff": True})
    execute("SET session_replication_role = replica")
    for first in range(1, conversations + 1, CHUNK):
        last = min(conversations, first + CHUNK - 1)
        for mod, code in enumerate(CODES):
            marketplace = Marketplace.objects.get(code=code)
            # Every other conversation is about an order (after the sale).
            execute(
                ORDERS.replace("WHERE n %% 5 = %(mod)s", "WHERE n %% 5 = %(mod)s AND n %% 2 = 0"),
                {"m": marketplace.pk, "first": first, "last": last, "mod": mod, "now": now},
            )
    execute(CASES)
    for first in range(1, conversations + 1, CHUNK):
        last = min(conversations, first + CHUNK - 1)
        execute(CONVERSATIONS, {"first": first, "last": last, "agents": AGENTS, "now": now})
        say(
            f"  conversations {last:>9,} / {conversations:,}  {time.perf_counter() - started:6.1f} s"
        )
    low, high = (
        scalar("SELECT min(id) FROM messaging_conversation"),
        scalar("SELECT max(id) FROM messaging_conversation"),
    )
    for first in range(low, high + 1, CHUNK // 5):
        execute(MESSAGES, {"first": first, "last": first + CHUNK // 5 - 1})
        say(
            f"  messages for conversations up to {first + CHUNK // 5 - 1:>9,}  "
            f"{time.perf_counter() - started:6.1f} s"
        )
    execute("SET session_replication_role = DEFAULT")
    execute("ANALYZE")
    say(f"Filled in {time.perf_counter() - started:.1f} s")


def timed(fn, runs: int = 5) -> tuple[float, int]:
    """Median wall time in ms over warm runs, and the queries of one run."""
    fn()
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return statistics.median(times), queries


def check_derivation(sample: int = 200) -> int:
    """The SQL fill writes what ``threads_derive`` would (Amazon's rule): re-derive a sample
    of Amazon conversations, in a transaction rolled back, and count the messages it changed
    (expected: 0)."""
    ids = list(
        Conversation.objects.filter(marketplace__code__in=["amazon_fr"]).values_list(
            "pk", flat=True
        )[:sample]
    )
    from django.db import transaction

    with transaction.atomic():
        changed = threads_derive(ids)
        transaction.set_rollback(True)
    return changed


def admin_pages(agent, conversation_ids: list[int]) -> bool:
    """The inbox and the conversation page as the admin renders them for an agent of the
    support group (``django.test.Client`` in this process: the whole request, middleware,
    session, permissions, selectors and template, without a network); returns True when a
    target is missed or the inbox's query count grows with the page size."""
    from django.contrib.auth.models import Group
    from django.test import Client, override_settings

    agent.groups.add(Group.objects.get(name="Support agent"))
    client = Client()
    # The sign-in is not what is timed: skip django-axes' record of it (it needs an address).
    with override_settings(AXES_ENABLED=False):
        client.force_login(agent)
    missed = False
    say(
        f"\n{'admin pages (server time, rendered)':40} {'25/page':>10} {'100/page':>10} {'queries':>9}"
    )
    for label, query in (
        ("inbox (default)", ""),
        ("inbox, needs an answer, overdue", "needs=yes&clock=overdue"),
        ("inbox, mine", "who=mine"),
        ("inbox, Amazon, unassigned", "marketplace=amazon_fr&who=unassigned"),
        ("inbox, after-sale, on a case", "topic=after_sale&case=yes"),
    ):

        def get(size: int, query: str = query) -> None:
            response = client.get(f"/admin/messaging/conversation/?size={size}&{query}")
            assert response.status_code == 200, response.status_code

        ms25, q25 = timed(lambda: get(25))
        ms100, q100 = timed(lambda: get(100))
        flag = "" if max(ms25, ms100) <= 300 and q25 == q100 else "  <-- MISSED"
        missed |= bool(flag)
        say(f"{label:40} {ms25:8.1f} ms {ms100:8.1f} ms {q25:>4} / {q100:<4}{flag}")

    def page(pk: int) -> None:
        response = client.get(f"/admin/messaging/conversation/{pk}/change/")
        assert response.status_code == 200, response.status_code

    pages = [timed(lambda pk=pk: page(pk), runs=3) for pk in conversation_ids]
    worst = max(ms for ms, _ in pages)
    flag = "" if worst <= 200 else "  <-- MISSED"
    missed |= bool(flag)
    say(
        f"conversation page (admin, rendered, {len(pages)} conversations on cases): median "
        f"{statistics.median(ms for ms, _ in pages):.1f} ms, worst {worst:.1f} ms, "
        f"{pages[0][1]} queries{flag}"
    )
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--conversations", type=int, default=200_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        say("PostgreSQL only: run it with scripts/with-postgres.")
        return 2
    call_command("migrate", verbosity=0)
    now = timezone.now().replace(microsecond=0)
    fill(args.conversations, now)
    say(
        f"{Conversation.objects.count():,} conversations, {Message.objects.count():,} messages, "
        f"{Conversation.objects.filter(awaiting_response=True).count():,} awaiting an answer"
    )
    agent = get_user_model().objects.get(username="agent3")
    amazon = Marketplace.objects.get(code="amazon_fr").pk
    cases = [
        ("default (open, most urgent first)", {}),
        ("needs an answer", {"needs_answer": True}),
        ("overdue", {"clock": "overdue"}),
        ("at risk", {"clock": "at_risk"}),
        ("mine", {"user": agent, "mine": True}),
        ("unassigned, needs an answer", {"unassigned": True, "needs_answer": True}),
        ("marketplace Amazon", {"marketplaces": [amazon]}),
        (
            "Amazon, overdue, unassigned",
            {"marketplaces": [amazon], "clock": "overdue", "unassigned": True},
        ),
        ("pre-sale", {"topic": "pre_sale"}),
        ("after-sale, on a case", {"topic": "after_sale", "on_case": True}),
        ("not on a case, needs an answer", {"on_case": False, "needs_answer": True}),
        ("language zh-hans", {"language": "zh-hans"}),
        ("page 20 of the default list", {"page": 20}),
    ]
    failed = False
    say(
        f"\n{'inbox list (page query)':40} {'25/page':>10} {'100/page':>10} {'queries':>9} {'+ count':>10}"
    )
    for label, filters in cases:
        ms25, q25 = timed(lambda f=filters: inbox_list(at=now, page_size=25, **f))
        ms100, q100 = timed(lambda f=filters: inbox_list(at=now, page_size=100, **f))
        counted, _q = timed(
            lambda f=filters: inbox_list(at=now, page_size=25, with_count=True, **f)
        )
        flag = "" if max(ms25, ms100) <= 300 and q25 == q100 else "  <-- MISSED"
        failed |= bool(flag)
        say(
            f"{label:40} {ms25:8.1f} ms {ms100:8.1f} ms {q25:>4} / {q100:<4} {counted:8.1f} ms{flag}"
        )
    ms, q = timed(lambda: inbox_counts(at=now, user=agent))
    say(f"{'work-queue counts':40} {ms:8.1f} ms {'':>11} {q:>4}")
    ids = list(Conversation.objects.filter(case__isnull=False).values_list("pk", flat=True)[:20])
    details = [timed(lambda pk=pk: conversation_detail(pk, at=now), runs=3) for pk in ids[:10]]
    worst = max(ms for ms, _ in details)
    flag = "" if worst <= 200 else "  <-- MISSED"
    failed |= bool(flag)
    say(
        f"\nconversation page (conversation_detail, 10 conversations on cases): median "
        f"{statistics.median(ms for ms, _ in details):.1f} ms, worst {worst:.1f} ms, "
        f"{details[0][1]} queries{flag}"
    )
    failed |= admin_pages(agent, ids[:10])
    changed = check_derivation()
    say(f"re-derivation of 200 Amazon conversations changed {changed} messages (expected 0)")
    failed |= changed != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
