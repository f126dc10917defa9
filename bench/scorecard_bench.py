#!/usr/bin/env python
"""Benchmark: every Tmall and Amazon scorecard metric over 10,000,000 orders and 1,000,000 cases.

Fills a PostgreSQL database with set-based SQL (``INSERT ... SELECT`` over generate_series,
with a deterministic hash as the random source, so every run builds the same data):

* Tmall and Amazon.fr, ``--orders`` orders split between them (default 10,000,000), with
  shipping, pickup, delivery, cancellations, tracking, A-to-z claims, chargebacks and feedback;
  ``--cases`` cases (default 1,000,000) on those orders, 30 % with a refund request; customer
  conversations (``--orders / 10`` per marketplace) and Amazon return requests (``--orders /
  25``);
* the same data on two small *sample* marketplaces (Tmall Global for the Tmall metrics,
  Rakuten for the Amazon ones; ``--sample-orders`` orders each).

Then it computes each metric with the aggregate query the application uses
(``scorecards.definitions``) on the big marketplaces, timing a cold and a warm run; and, on the
samples, both the aggregate query and a naive per-row computation in Python written
independently from the metric definitions, and checks that they are equal. It prints the
figures and exits non-zero if any pair differs.

    scripts/with-postgres .venv/bin/python bench/scorecard_bench.py
    scripts/with-postgres .venv/bin/python bench/scorecard_bench.py --orders 1000000 --cases 100000

PostgreSQL only (generate_series, hash functions, session_replication_role). Re-running on a
filled database skips the fill.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
os.environ["DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from cases.models import Case, Order, RefundRequest, ReturnRequest  # noqa: E402
from marketplaces.calendars import calendar_for  # noqa: E402
from marketplaces.models import Marketplace  # noqa: E402
from messaging.models import Message  # noqa: E402
from scorecards.definitions import DEFAULT_RECENCY_WEIGHTS, METRICS, Window  # noqa: E402

AS_OF = dt.date(2025, 10, 31)
# Data spans the 400 days before this moment (all of it in the past, as services require).
DATA_END = "2025-11-01 00:00:00+00"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the metrics see the whole window
CHUNK = 1_000_000

TMALL_METRICS = [
    "refund_rejection_rate",
    "platform_assistance_rate",
    "carrier_pickup_24h_rate",
    "average_delivery_time",
    "average_first_response_time",
]
AMAZON_METRICS = [
    "order_defect_rate",
    "late_shipment_rate_10d",
    "late_shipment_rate_30d",
    "pre_fulfilment_cancel_rate",
    "valid_tracking_rate",
    "return_dissatisfaction_rate",
    "contact_response_24h_7d",
    "contact_response_24h_30d",
    "contact_response_24h_90d",
    "order_quality_score",
]
# Windows of the Amazon metrics (their policies'); the Tmall ones use 30 days.
WINDOWS = {
    "order_defect_rate": 60,
    "late_shipment_rate_10d": 10,
    "late_shipment_rate_30d": 30,
    "pre_fulfilment_cancel_rate": 7,
    "valid_tracking_rate": 30,
    "return_dissatisfaction_rate": 60,
    "contact_response_24h_7d": 7,
    "contact_response_24h_30d": 30,
    "contact_response_24h_90d": 90,
    "order_quality_score": 365,
}


def say(text: str) -> None:
    print(text, flush=True)


def execute(sql: str, params: dict | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def scalar(sql: str, params: dict | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchone()[0]


# -- filling ---------------------------------------------------------------------------------
# ruff: noqa: E501  (the SQL reads best one expression per line)

RANDOM_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_rnd(n bigint, salt int) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8(n * 1000003 + salt) & 2147483647)::float8 / 2147483647.0 $$
"""

ORDERS = """
INSERT INTO cases_order (
    marketplace_id, external_id, customer_name, customer_email, customer_language, placed_at,
    promised_ship_date, shipped_at, picked_up_at, delivered_at, destination_country,
    shipping_scope, total, currency, created_at, updated_at, accepted_at, fulfilled_by, carrier,
    tracking_number, tracking_valid, cancelled_at, cancelled_by, cancellation_reason,
    cancellation_controllable, a_to_z_claim_at, a_to_z_claim_outcome, chargeback_at,
    negative_feedback_at, parcel_lost)
SELECT %(m)s, %(prefix)s || n, '', '', 'en', p.placed,
       (p.placed + interval '2 days')::date,
       s.shipped, s.shipped + bench_rnd(n, 6) * interval '8 hours',
       CASE WHEN bench_rnd(n, 7) < 0.9 THEN s.shipped + (1 + 4 * bench_rnd(n, 7)) * interval '1 day' END,
       'FR', 'domestic', 50, 'EUR', now(), now(), NULL,
       CASE WHEN bench_rnd(n, 8) < 0.1 THEN 'marketplace' ELSE 'seller' END, 'carrier',
       CASE WHEN bench_rnd(n, 9) < 0.98 THEN 'TN' || n ELSE '' END,
       CASE WHEN bench_rnd(n, 10) < 0.8 THEN NULL WHEN bench_rnd(n, 10) < 0.97 THEN true ELSE false END,
       c.cancelled, CASE WHEN c.cancelled IS NULL THEN '' WHEN bench_rnd(n, 3) < 0.5 THEN 'seller' ELSE 'customer' END,
       CASE WHEN c.cancelled IS NULL THEN '' WHEN bench_rnd(n, 3) < 0.5 THEN 'out_of_stock' ELSE 'customer_request' END,
       NULL,
       CASE WHEN bench_rnd(n, 11) < 0.004 THEN p.placed + interval '10 days' END,
       CASE WHEN bench_rnd(n, 11) >= 0.004 THEN ''
            WHEN bench_rnd(n, 12) < 0.4 THEN 'pending' WHEN bench_rnd(n, 12) < 0.7 THEN 'granted'
            WHEN bench_rnd(n, 12) < 0.85 THEN 'withdrawn' ELSE 'decided_for_seller' END,
       CASE WHEN bench_rnd(n, 13) < 0.001 THEN p.placed + interval '20 days' END,
       CASE WHEN bench_rnd(n, 14) < 0.01 THEN p.placed + interval '8 days' END,
       false
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n,
LATERAL (SELECT timestamptz %(end)s - bench_rnd(n, 1) * interval '400 days' AS placed) p,
LATERAL (SELECT CASE WHEN bench_rnd(n, 2) < 0.03 THEN p.placed + interval '6 hours' END
         AS cancelled) c,
LATERAL (SELECT CASE WHEN c.cancelled IS NULL AND bench_rnd(n, 4) < 0.97 THEN
             p.placed + CASE WHEN bench_rnd(n, 5) < 0.05 THEN (2.5 + 3 * bench_rnd(n, 15))
                             ELSE 0.8 * bench_rnd(n, 15) END * interval '1 day'
         END AS shipped) s
"""

CASES = """
INSERT INTO cases_case (
    reference, marketplace_id, order_id, kind, state, opened_at, priority, description,
    external_claim_id, resolution_outcome, escalated, escalated_at, version, created_at,
    updated_at)
SELECT %(prefix)s || n, %(m)s, o.id,
       (ARRAY['out_of_stock','oversized','late_shipment','cancellation','customs_delay',
              'wrong_item','missing_item','damaged_item','interception'])[1 + (n %% 9)],
       CASE WHEN bench_rnd(n, 21) < 0.85 THEN 'closed' ELSE 'new' END,
       o.placed_at + interval '3 days', 20, '', '', '',
       bench_rnd(n, 22) < 0.05,
       CASE WHEN bench_rnd(n, 22) < 0.05 THEN o.placed_at + interval '5 days' END,
       1, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN cases_order o ON o.id = %(first_order)s + ((n * 7919) %% %(orders)s)
"""

REFUNDS = """
INSERT INTO cases_refundrequest (
    case_id, marketplace_id, external_id, amount, currency, requested_at, decision,
    approved_amount, decided_at, decided_by_name, rejection_reason, rejection_note, created_at)
SELECT c.id, c.marketplace_id, '', 20, 'EUR', c.opened_at + interval '1 hour',
       d.decision, NULL, CASE WHEN d.decision <> '' THEN c.opened_at + interval '1 day' END,
       '', CASE WHEN d.decision = 'rejected' THEN 'customer_fault' ELSE '' END, '', now()
FROM cases_case c,
LATERAL (SELECT CASE WHEN bench_rnd(c.id, 31) < 0.1 THEN ''
                     WHEN bench_rnd(c.id, 32) < 0.2 THEN 'rejected' ELSE 'approved' END
         AS decision) d
WHERE c.marketplace_id = %(m)s AND bench_rnd(c.id, 30) < 0.3
"""

CONVERSATIONS = """
INSERT INTO messaging_conversation (
    marketplace_id, external_id, counterpart, channel, topic, language, subject, preview,
    status, reply_to, brand_started, awaiting_response, message_count, created_at, updated_at)
SELECT %(m)s, 'C' || n, 'customer', 'chat', 'pre_sale', '', '', '', 'done', '', false, false,
       2, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
"""

MESSAGES = """
INSERT INTO messaging_message (
    marketplace_id, external_id, conversation_id, order_id, case_id, direction, counterpart,
    channel, sent_at, received_at, subject, body, is_spam, received_while_paused,
    no_response_needed, is_conversation_start, needs_response, answered_at, created_at,
    updated_at)
SELECT %(m)s, x.external_id, c.id, NULL, NULL, x.direction, 'customer', 'chat', x.at, x.at,
       '', '', x.direction = 'in' AND bench_rnd(n, 42) < 0.02, false,
       x.direction = 'in' AND bench_rnd(n, 43) < 0.02, x.direction = 'in', x.direction = 'in',
       CASE WHEN x.direction = 'in' THEN a.answer END, now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN messaging_conversation c ON c.marketplace_id = %(m)s AND c.external_id = 'C' || n,
LATERAL (SELECT timestamptz %(end)s - bench_rnd(n, 40) * interval '100 days' AS received) r,
LATERAL (SELECT CASE WHEN bench_rnd(n, 41) < 0.85 THEN
             r.received + power(bench_rnd(n, 44), 4) * %(delay)s::interval END AS answer) a,
LATERAL (VALUES ('in', 'I' || n, r.received), ('out', 'O' || n, a.answer)) AS x(direction, external_id, at)
WHERE x.at IS NOT NULL
"""

RETURNS = """
INSERT INTO cases_returnrequest (
    order_id, marketplace_id, case_id, external_id, requested_at, is_valid, responded_at,
    decision, rejection_overturned_at, negative_feedback_at, created_at, updated_at)
SELECT o.id, %(m)s, NULL, 'R' || n, q.requested, bench_rnd(n, 51) < 0.97, q.responded,
       CASE WHEN q.responded IS NULL THEN '' WHEN bench_rnd(n, 53) < 0.1 THEN 'rejected'
            ELSE 'authorized' END,
       CASE WHEN q.responded IS NOT NULL AND bench_rnd(n, 53) < 0.01 THEN q.requested + interval '9 days' END,
       CASE WHEN bench_rnd(n, 54) < 0.03 THEN q.requested + interval '7 days' END,
       now(), now()
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
JOIN cases_order o ON o.id = %(first_order)s + ((n * 104729) %% %(orders)s),
LATERAL (SELECT o.placed_at + interval '5 days' AS requested) p,
LATERAL (SELECT p.requested AS requested,
                CASE WHEN bench_rnd(n, 52) < 0.9 THEN
                    p.requested + power(bench_rnd(n, 55), 2) * interval '72 hours' END
                AS responded) q
"""


# What the generator dates after the end of the data has not happened yet at that moment (the
# services refuse a time in the future): those events are removed, so that the rows are what
# the system would hold at DATA_END and the daily facts built then can be read afterwards.
THE_FUTURE_REMOVED = [
    "DELETE FROM cases_refundrequest WHERE case_id IN "
    "(SELECT id FROM cases_case WHERE opened_at > %(end)s)",
    "DELETE FROM cases_case WHERE opened_at > %(end)s",
    "UPDATE cases_case SET escalated = false, escalated_at = NULL WHERE escalated_at > %(end)s",
    "UPDATE cases_refundrequest SET decision = '', decided_at = NULL, rejection_reason = '' "
    "WHERE decided_at > %(end)s",
    "UPDATE cases_order SET cancelled_at = NULL, cancelled_by = '', cancellation_reason = '' "
    "WHERE cancelled_at > %(end)s",
    "UPDATE cases_order SET shipped_at = NULL WHERE shipped_at > %(end)s",
    "UPDATE cases_order SET picked_up_at = NULL WHERE picked_up_at > %(end)s",
    "UPDATE cases_order SET delivered_at = NULL WHERE delivered_at > %(end)s",
    "UPDATE cases_order SET a_to_z_claim_at = NULL, a_to_z_claim_outcome = '' "
    "WHERE a_to_z_claim_at > %(end)s",
    "UPDATE cases_order SET chargeback_at = NULL WHERE chargeback_at > %(end)s",
    "UPDATE cases_order SET negative_feedback_at = NULL WHERE negative_feedback_at > %(end)s",
    "DELETE FROM messaging_message WHERE received_at > %(end)s",
    "UPDATE messaging_message SET answered_at = NULL WHERE answered_at > %(end)s",
    "DELETE FROM cases_returnrequest WHERE requested_at > %(end)s",
    "UPDATE cases_returnrequest SET responded_at = NULL, decision = '' "
    "WHERE responded_at > %(end)s",
    "UPDATE cases_returnrequest SET rejection_overturned_at = NULL "
    "WHERE rejection_overturned_at > %(end)s",
    "UPDATE cases_returnrequest SET negative_feedback_at = NULL "
    "WHERE negative_feedback_at > %(end)s",
]


def remove_the_future() -> None:
    """Idempotent: a database filled before this step existed gets it on the next run."""
    started = time.perf_counter()
    execute("SET session_replication_role = replica")  # no fact marks: facts are rebuilt
    for sql in THE_FUTURE_REMOVED:
        execute(sql, {"end": DATA_END})
    execute("SET session_replication_role = origin")
    execute("VACUUM ANALYZE")
    say(f"Events after the end of the data removed in {time.perf_counter() - started:.1f} s")


def chunks(total: int):
    for first in range(1, total + 1, CHUNK):
        yield first, min(total, first + CHUNK - 1)


def fill_marketplace(
    marketplace: Marketplace, *, orders: int, cases: int, tag: str, reply_delay: str, returns: bool
) -> None:
    started = time.perf_counter()
    before = scalar("SELECT coalesce(max(id), 0) FROM cases_order")
    for first, last in chunks(orders):
        execute(
            ORDERS,
            {
                "m": marketplace.pk,
                "prefix": f"{tag}-",
                "first": first,
                "last": last,
                "end": DATA_END,
            },
        )
        say(
            f"    {marketplace.code}: orders {last:>12,} / {orders:,}  "
            f"{time.perf_counter() - started:7.1f} s"
        )
    first_order = scalar(
        "SELECT min(id) FROM cases_order WHERE marketplace_id = %(m)s AND id > %(b)s",
        {"m": marketplace.pk, "b": before},
    )
    for first, last in chunks(cases):
        execute(
            CASES,
            {
                "m": marketplace.pk,
                "prefix": f"{tag}-",
                "first": first,
                "last": last,
                "first_order": first_order,
                "orders": orders,
            },
        )
    execute(REFUNDS, {"m": marketplace.pk})
    for first, last in chunks(max(1, orders // 10)):
        execute(CONVERSATIONS, {"m": marketplace.pk, "first": first, "last": last})
        execute(
            MESSAGES,
            {
                "m": marketplace.pk,
                "first": first,
                "last": last,
                "end": DATA_END,
                "delay": reply_delay,
            },
        )
    if returns:
        for first, last in chunks(max(1, orders // 25)):
            execute(
                RETURNS,
                {
                    "m": marketplace.pk,
                    "first": first,
                    "last": last,
                    "first_order": first_order,
                    "orders": orders,
                },
            )
    say(f"    {marketplace.code}: filled in {time.perf_counter() - started:.1f} s")


BULK_TABLES = ["cases_order", "cases_case"]


def secondary_indexes(table: str) -> list[tuple[str, str, str | None]]:
    """(name, CREATE statement, constraint name or None) of a table's non-primary indexes."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef, c.conname
            FROM pg_indexes i
            LEFT JOIN pg_constraint c ON c.conname = i.indexname AND c.contype = 'u'
            WHERE i.tablename = %s AND i.indexname NOT LIKE '%%_pkey'
            """,
            [table],
        )
        return cursor.fetchall()


def empty_defaults() -> None:
    """Columns added since the fill SQL was written get an empty default (a throw-away
    database), so that the fill keeps up with the models."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = 'public' AND is_nullable = 'NO' AND column_default IS NULL
            AND table_name IN ('cases_order', 'cases_case', 'cases_refundrequest',
                'cases_returnrequest', 'messaging_conversation', 'messaging_message')"""
        )
        for table, column, kind in cursor.fetchall():
            value = {"boolean": "false", "integer": "0", "smallint": "0", "bigint": "0"}.get(
                kind, "''" if kind in ("character varying", "text") else None
            )
            if value is not None and column != "id":
                cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {value}')


def fill(args: argparse.Namespace) -> None:
    codes = {"tmall": "T", "amazon_fr": "A", "tmall_global": "TS", "rakuten": "AS"}
    markets = {code: Marketplace.objects.get(code=code) for code in codes}
    if Order.objects.filter(marketplace=markets["tmall"]).exists():
        say("Data found: fill skipped.")
        return
    say("Filling (set-based SQL; secondary indexes rebuilt afterwards)...")
    started = time.perf_counter()
    execute(RANDOM_FUNCTION)
    empty_defaults()
    execute("SET session_replication_role = replica")  # no FK trigger per row while loading
    execute("SET maintenance_work_mem = '1GB'")
    dropped = []
    for table in BULK_TABLES:
        for name, definition, constraint in secondary_indexes(table):
            dropped.append((table, name, definition, constraint))
            if constraint:
                execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            else:
                execute(f'DROP INDEX "{name}"')
    half = args.orders // 2
    tmall_delay, amazon_delay = "600 seconds", "48 hours"
    fill_marketplace(
        markets["tmall"],
        orders=half,
        cases=args.cases // 2,
        tag="T",
        reply_delay=tmall_delay,
        returns=False,
    )
    fill_marketplace(
        markets["amazon_fr"],
        orders=args.orders - half,
        cases=args.cases - args.cases // 2,
        tag="A",
        reply_delay=amazon_delay,
        returns=True,
    )
    sample_cases = max(1, args.sample_orders // 10)
    fill_marketplace(
        markets["tmall_global"],
        orders=args.sample_orders,
        cases=sample_cases,
        tag="TS",
        reply_delay=tmall_delay,
        returns=False,
    )
    fill_marketplace(
        markets["rakuten"],
        orders=args.sample_orders,
        cases=sample_cases,
        tag="AS",
        reply_delay=amazon_delay,
        returns=True,
    )
    execute("SET session_replication_role = origin")
    rebuild = time.perf_counter()
    for table, name, definition, constraint in dropped:
        execute(definition)
        if constraint:
            execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"')
    say(f"    indexes rebuilt in {time.perf_counter() - rebuild:.1f} s")
    execute("ANALYZE")
    say(f"Filled in {time.perf_counter() - started:.1f} s")


# -- naive per-row computations (written from the metric texts, not from the queries) -----------


def to_ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal("0.000001"), rounding=ROUND_HALF_UP
    )


def naive(metric: str, window: Window) -> tuple[int, int, Decimal | None]:
    m, start, end, seen = window.marketplace, window.start, window.end, window.observed_at
    cal = calendar_for(m)
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)

    def inside(moment):
        return moment is not None and start <= moment < end and moment < seen

    def before_seen(moment):
        return moment is not None and moment < seen

    if metric == "refund_rejection_rate":
        rows = RefundRequest.objects.filter(marketplace=m).values_list("decision", "decided_at")
        decided = [d for d, at in rows if d and inside(at)]
        return len([d for d in decided if d == "rejected"]), len(decided), None
    if metric == "platform_assistance_rate":
        rows = [
            r
            for r in Case.objects.filter(marketplace=m).values_list("opened_at", "escalated_at")
            if inside(r[0])
        ]
        return len([1 for _o, e in rows if before_seen(e)]), len(rows), None
    orders = list(
        Order.objects.filter(marketplace=m).values(
            "placed_at",
            "promised_ship_date",
            "shipped_at",
            "picked_up_at",
            "delivered_at",
            "fulfilled_by",
            "tracking_number",
            "tracking_valid",
            "cancelled_at",
            "cancelled_by",
            "a_to_z_claim_at",
            "a_to_z_claim_outcome",
            "chargeback_at",
            "negative_feedback_at",
        )
    )
    seller = [o for o in orders if o["fulfilled_by"] == "seller"]

    def cancelled_unshipped(o):
        return before_seen(o["cancelled_at"]) and not before_seen(o["shipped_at"])

    def claim(o):
        return before_seen(o["a_to_z_claim_at"]) and o["a_to_z_claim_outcome"] not in {
            "withdrawn",
            "decided_for_seller",
        }

    def shipped_late(o):
        if o["promised_ship_date"] is None or not o["promised_ship_date"] < cal.local_date(seen):
            return False
        if not before_seen(o["shipped_at"]):
            return True
        return cal.local_date(o["shipped_at"]) > o["promised_ship_date"]

    if metric == "carrier_pickup_24h_rate":
        judged = hits = 0
        for o in seller:
            if not inside(o["placed_at"]):
                continue
            picked = before_seen(o["picked_up_at"])
            if before_seen(o["cancelled_at"]) and not picked:
                continue
            if not (picked or o["placed_at"] <= seen - 24 * hour):
                continue
            judged += 1
            hits += picked and o["picked_up_at"] <= o["placed_at"] + 24 * hour
        return hits, judged, None
    if metric == "average_delivery_time":
        spans = [o["delivered_at"] - o["placed_at"] for o in seller if inside(o["delivered_at"])]
        total = round(sum(spans, dt.timedelta()).total_seconds())
        value = (Decimal(total) / len(spans)).quantize(Decimal("0.01")) if spans else None
        return total, len(spans), value
    if metric == "order_defect_rate":
        base = [o for o in orders if inside(o["placed_at"])]
        defects = [
            o
            for o in base
            if before_seen(o["negative_feedback_at"]) or before_seen(o["chargeback_at"]) or claim(o)
        ]
        return len(defects), len(base), None
    if metric.startswith("late_shipment_rate"):
        first = window.first_day
        base = [
            o
            for o in seller
            if o["promised_ship_date"]
            and first <= o["promised_ship_date"] <= window.as_of
            and not cancelled_unshipped(o)
            and (before_seen(o["shipped_at"]) or o["promised_ship_date"] < cal.local_date(seen))
        ]
        return len([o for o in base if shipped_late(o)]), len(base), None
    if metric == "pre_fulfilment_cancel_rate":
        base = [o for o in seller if inside(o["placed_at"])]
        hits = [
            o
            for o in base
            if o["cancelled_by"] == "seller"
            and before_seen(o["cancelled_at"])
            and (o["shipped_at"] is None or o["shipped_at"] > o["cancelled_at"])
        ]
        return len(hits), len(base), None
    if metric == "valid_tracking_rate":
        base = [o for o in seller if inside(o["shipped_at"])]
        valid = [
            o
            for o in base
            if o["tracking_number"]
            and (
                o["tracking_valid"] is True
                or (o["tracking_valid"] is None and before_seen(o["picked_up_at"]))
            )
        ]
        return len(valid), len(base), None
    if metric == "order_quality_score":
        weights = sorted(window.parameters.get("recency_weights") or DEFAULT_RECENCY_WEIGHTS)
        points = total_weight = 0
        for o in orders:
            if not inside(o["placed_at"]):
                continue
            if claim(o):
                score = -500
            elif o["fulfilled_by"] == "seller" and not cancelled_unshipped(o) and shipped_late(o):
                score = 0
            else:
                score = 100
            # the last d local days (a day is not always 24 h: DST ends within a year)
            weight = next(
                (
                    w
                    for d, w in weights
                    if o["placed_at"] >= cal.start_of_day(window.as_of - (d - 1) * day)
                ),
                1,
            )
            points += score * weight
            total_weight += weight
        value = max(Decimal(0), (Decimal(points) / total_weight).quantize(Decimal("0.01")))
        return points, total_weight, value
    if metric == "return_dissatisfaction_rate":
        judged = unhappy = 0
        for r in ReturnRequest.objects.filter(marketplace=m, is_valid=True).values():
            if not inside(r["requested_at"]):
                continue
            due_passed = r["requested_at"] <= seen - 48 * hour
            other = before_seen(r["rejection_overturned_at"]) or before_seen(
                r["negative_feedback_at"]
            )
            if not (due_passed or before_seen(r["responded_at"]) or other):
                continue
            judged += 1
            late = due_passed and (
                r["responded_at"] is None or r["responded_at"] > r["requested_at"] + 48 * hour
            )
            unhappy += late or other
        return unhappy, judged, None
    messages = Message.objects.filter(
        marketplace=m, direction="in", is_spam=False, no_response_needed=False
    ).values("received_at", "answered_at", "counterpart", "is_conversation_start")
    if metric == "average_first_response_time":
        spans = [
            x["answered_at"] - x["received_at"]
            for x in messages
            if x["is_conversation_start"]
            and inside(x["received_at"])
            and before_seen(x["answered_at"])
        ]
        total = round(sum(spans, dt.timedelta()).total_seconds())
        value = (Decimal(total) / len(spans)).quantize(Decimal("0.01")) if spans else None
        return total, len(spans), value
    if metric.startswith("contact_response_24h"):
        judged = on_time = 0
        for x in messages:
            if x["counterpart"] != "customer" or not inside(x["received_at"]):
                continue
            if not (x["received_at"] <= seen - 24 * hour or before_seen(x["answered_at"])):
                continue
            judged += 1
            on_time += x["answered_at"] is not None and (
                x["answered_at"] <= x["received_at"] + 24 * hour
            )
        return on_time, judged, None
    raise KeyError(metric)


# -- measuring ---------------------------------------------------------------------------------


def window_of(marketplace: Marketplace, metric: str) -> Window:
    days = WINDOWS.get(metric, 30)
    parameters = (
        {"recency_weights": DEFAULT_RECENCY_WEIGHTS} if metric == "order_quality_score" else {}
    )
    return Window.of(marketplace, AS_OF, days, now=NOW, parameters=parameters)


def timed(run: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = run(*args)
    return result, (time.perf_counter() - started) * 1000


# -- whole scorecards from the daily facts -----------------------------------------------------

# The moment the whole-scorecard runs read at: the end of the data, so that each scorecard
# window ends today and is observed now, as the live scorecard is.
LIVE_NOW = dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


def p50(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


RAW_FACTS = """
SELECT metric, sum(numerator), sum(denominator), count(*) FROM scorecards_scorecardfact
WHERE marketplace_id = %(m)s AND day BETWEEN %(first)s AND %(last)s GROUP BY metric
"""


def whole_scorecards(rounds: int, read_after: float = 300) -> int:
    """The whole scorecard of one marketplace from the facts, for windows of 30 and 365 days,
    alternating with (a) the raw SQL reading the same facts rows and (b) the direct aggregates
    of every metric (the pre-facts way); checks facts == direct. Then the admin dashboard."""
    from django.contrib.auth import get_user_model
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from scorecards.services import scorecard
    from scorecards.services.evaluation import metric_window
    from scorecards.services.facts import facts_refresh
    from scorecards.services.policies import policies_for

    say("\nDaily facts: building (the job's first run over the whole data)...")
    from scorecards.models import ScorecardFact, ScorecardFactBasis, ScorecardFactMark

    for model in (ScorecardFact, ScorecardFactBasis, ScorecardFactMark):
        model.objects.all().delete()
    (report, build_ms) = timed(lambda: facts_refresh(now=LIVE_NOW))
    say(
        f"  {report.rebuilt} (marketplace, metric) pairs rebuilt, {report.facts:,} fact rows, "
        f"{build_ms / 1000:.1f} s"
    )
    # The job runs every minute and recomputes a fact the clock can still move once it is five
    # minutes old (facts.UNSETTLED_REFRESH): reading five minutes after the build is the most
    # a read adds from the rows the clock flipped meanwhile.
    read_at = LIVE_NOW + dt.timedelta(seconds=read_after)
    say(f"  read {read_after:.0f} s after the facts were computed")
    differences = 0
    say(
        f"\n{'marketplace':<11} {'window':>6} {'metrics':>7} {'fact rows':>9} "
        f"{'scorecard p50/p95 ms':>21} {'raw facts SQL ms':>17} {'direct aggregates ms':>21} "
        f"{'ratio':>6}  equal"
    )
    for code in ("tmall", "amazon_fr"):
        marketplace = Marketplace.objects.get(code=code)
        as_of = calendar_for(marketplace).local_date(read_at)
        for window_days in (30, 365):
            policies = policies_for(marketplace)
            windows = [
                (METRICS[p.metric], metric_window(marketplace, p, as_of, window_days, read_at))
                for p in policies
            ]
            first = min(w.first_day for _d, w in windows)
            product, raw, direct = [], [], []
            for _ in range(rounds):
                result, ms = timed(
                    lambda m=marketplace, d=window_days, a=as_of: scorecard(
                        marketplace=m, as_of=a, window_days=d, now=read_at
                    )
                )
                product.append(ms)
                with connection.cursor() as cursor:
                    started = time.perf_counter()
                    cursor.execute(RAW_FACTS, {"m": marketplace.pk, "first": first, "last": as_of})
                    rows = cursor.fetchall()
                    raw.append((time.perf_counter() - started) * 1000)
            for _ in range(2):  # the direct aggregates are slow: two runs
                expected, ms = timed(lambda ws=windows: [d.counts(w) for d, w in ws])
                direct.append(ms)
            with CaptureQueriesContext(connection) as captured:
                scorecard(
                    marketplace=marketplace, as_of=as_of, window_days=window_days, now=read_at
                )
            slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
            got = [(m.numerator, m.denominator, m.value) for m in result]
            want = [(c.numerator, c.denominator, c.value) for c in expected]
            equal = got == want
            differences += not equal
            fact_rows = sum(r[3] for r in rows)
            say(
                f"{code:<11} {window_days:>6} {len(policies):>7} {fact_rows:>9,} "
                f"{p50(product):>10.1f} / {p95(product):>8.1f} {p50(raw):>17.1f} "
                f"{p50(direct):>21.0f} {p50(product) / max(p50(raw), 0.01):>6.1f}  "
                f"{'yes' if equal else 'NO'}"
            )
            say(
                f"    {len(captured.captured_queries)} queries; slowest: "
                + "; ".join(f"{float(q['time']) * 1000:.0f} ms {q['sql'][:90]}" for q in slowest)
            )
            if not equal:
                for metric, a, b in zip(policies, got, want, strict=True):
                    if a != b:
                        say(f"    {metric.metric}: facts {a} direct {b}")
    say("  goal: a whole scorecard <= 100 ms (p50)")

    user = get_user_model().objects.filter(username="bench").first() or get_user_model()(
        username="bench", is_staff=True, is_superuser=True
    )
    user.save()
    with override_settings(ALLOWED_HOSTS=["*"], AXES_ENABLED=False):
        import time_machine

        client = Client(REMOTE_ADDR="127.0.0.1")
        client.force_login(user)
        with time_machine.travel(read_at, tick=True):
            for code in ("tmall", "amazon_fr"):
                timings = []
                for _ in range(rounds):
                    reset_queries()
                    with CaptureQueriesContext(connection) as queries:
                        response, ms = timed(
                            client.get, "/admin/workspace/dashboard/", {"marketplace": code}
                        )
                    assert response.status_code == 200, response.status_code
                    timings.append(ms)
                say(
                    f"\nDashboard ({code} selected): p50 {p50(timings):.0f} ms, p95 "
                    f"{p95(timings):.0f} ms, {len(queries)} queries (goals: <= 200 ms, <= 20)"
                )
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--sample-orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument(
        "--read-after",
        type=float,
        default=300,
        help="seconds between the facts job and the whole-scorecard reads (default 300)",
    )
    parser.add_argument(
        "--whole-only",
        action="store_true",
        help="only the whole scorecards from the daily facts and the dashboard",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        say(
            "PostgreSQL only: run it as  scripts/with-postgres .venv/bin/python "
            "bench/scorecard_bench.py"
        )
        return 2
    call_command("migrate", verbosity=0)
    # the dashboard renders admin pages: with DEBUG off, static names come from the manifest
    call_command("collectstatic", interactive=False, verbosity=0)
    fill(args)
    remove_the_future()
    counts = {
        "orders": scalar("SELECT count(*) FROM cases_order"),
        "cases": scalar("SELECT count(*) FROM cases_case"),
        "refund requests": scalar("SELECT count(*) FROM cases_refundrequest"),
        "return requests": scalar("SELECT count(*) FROM cases_returnrequest"),
        "messages": scalar("SELECT count(*) FROM messaging_message"),
    }
    say(
        f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPU cores; data: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    if args.whole_only:
        return 1 if whole_scorecards(args.rounds, args.read_after) else 0
    say(f"As of {AS_OF} (window ends {AS_OF + dt.timedelta(days=1)} 00:00 local)\n")

    big = {"tmall": TMALL_METRICS, "amazon_fr": AMAZON_METRICS}
    say(
        f"{'marketplace':<11} {'metric':<28} {'rows judged':>12} {'value':>12} "
        f"{'cold ms':>9} {'warm ms':>9}"
    )
    for code, metrics in big.items():
        marketplace = Marketplace.objects.get(code=code)
        for metric in metrics:
            window = window_of(marketplace, metric)
            counts_cold, cold = timed(METRICS[metric].counts, window)
            _counts, warm = timed(METRICS[metric].counts, window)
            say(
                f"{code:<11} {metric:<28} {counts_cold.denominator:>12,} "
                f"{counts_cold.value!s:>12} {cold:>9.0f} {warm:>9.0f}"
            )

    say("\nSample check: the aggregate query against a naive per-row Python computation")
    say(
        f"{'marketplace':<13} {'metric':<28} {'aggregate (num/den)':>24} {'naive (num/den)':>24} "
        f"{'agg ms':>7} {'naive ms':>9}  equal"
    )
    samples = {"tmall_global": TMALL_METRICS, "rakuten": AMAZON_METRICS}
    differences = 0
    for code, metrics in samples.items():
        marketplace = Marketplace.objects.get(code=code)
        for metric in metrics:
            window = window_of(marketplace, metric)
            aggregate, agg_ms = timed(METRICS[metric].counts, window)
            (num, den, value), naive_ms = timed(naive, metric, window)
            if METRICS[metric].unit == "ratio":  # the naive side divides here
                value = to_ratio(num, den)
            equal = (aggregate.numerator, aggregate.denominator, aggregate.value) == (
                num,
                den,
                value,
            )
            differences += not equal
            say(
                f"{code:<13} {metric:<28} "
                f"{f'{aggregate.numerator}/{aggregate.denominator}':>24} {f'{num}/{den}':>24} "
                f"{agg_ms:>7.0f} {naive_ms:>9.0f}  {'yes' if equal else 'NO: ' + str((aggregate, value))}"
            )
    differences += whole_scorecards(args.rounds, args.read_after)
    say("\nAll equal." if not differences else f"\n{differences} metric(s) differ.")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
