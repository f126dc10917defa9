"""Benchmark of the REST API: bulk order import (10,000 orders a request) and the case list over
100,000+ cases, through a real HTTP server, next to the same work in raw SQL on the same database.

    .venv/bin/python bench/api_bench.py                                 # SQLite (a temporary file)
    scripts/with-postgres .venv/bin/python bench/api_bench.py           # PostgreSQL
    .venv/bin/python bench/api_bench.py --cases 200000 --imports 5      # bigger

Without DATABASE_URL it never touches the development database: it makes a SQLite file in a
temporary folder. Prints throughput and latency (p50 / p95 / max) per scenario.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(keep: bool) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    if not os.environ.get("DATABASE_URL"):
        folder = Path(tempfile.mkdtemp(prefix="api-bench-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
        if not keep:
            import atexit
            import shutil

            atexit.register(shutil.rmtree, folder, ignore_errors=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    return connection.vendor


# -- measuring ------------------------------------------------------------------------------------


def timed(runs: int, work: Callable[[int], object]) -> list[float]:
    durations = []
    for index in range(runs):
        started = time.perf_counter()
        work(index)
        durations.append(time.perf_counter() - started)
    return durations


def summary(label: str, durations: list[float], items_per_run: int, unit: str) -> str:
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    total = sum(durations)
    rate = items_per_run * len(durations) / total if total else float("inf")
    p50 = statistics.median(durations)
    return (
        f"  {label:<46} {rate:>10,.0f} {unit}/s   p50 {p50 * 1000:>8.1f} ms"
        f"   p95 {p95 * 1000:>8.1f} ms   max {ordered[-1] * 1000:>8.1f} ms   (n={len(durations)})"
    )


# -- the HTTP side --------------------------------------------------------------------------------


class Server:
    """The project's WSGI application behind a real HTTP server on loopback."""

    def __init__(self) -> None:
        from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

        from django.core.wsgi import get_wsgi_application

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        class Threaded(WSGIServer):
            daemon_threads = True

        self.httpd = make_server(
            "127.0.0.1", 0, get_wsgi_application(), server_class=Threaded, handler_class=Quiet
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def call(self, key: str, method: str, path: str, body: object = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Token {key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())


# -- data -----------------------------------------------------------------------------------------


def fill_cases(count: int, marketplaces: list) -> None:
    """``count`` orders and cases, inserted in bulk (a benchmark fixture, not business data)."""
    from django.utils import timezone

    from cases.models import Case, Order

    rng = random.Random(7)
    now = timezone.now()
    kinds = ["damaged_item", "wrong_item", "cancellation", "late_shipment", "customs_delay"]
    states = ["new", "awaiting_evidence", "under_review", "refund_pending", "closed"]
    batch = 5000
    for start in range(0, count, batch):
        orders = [
            Order(
                marketplace=marketplaces[i % len(marketplaces)],
                external_id=f"BENCH-{i:07d}",
                customer_name="Bench Customer",
                customer_email=f"c{i}@example.com",
                placed_at=now - dt.timedelta(days=400 * rng.random() + 1),
                total=Decimal("50.00"),
                currency="CNY",
            )
            for i in range(start, min(count, start + batch))
        ]
        Order.objects.bulk_create(orders, batch_size=batch)
        cases = []
        for offset, order in enumerate(orders):
            i = start + offset
            opened = order.placed_at + dt.timedelta(hours=1 + 24 * rng.random())
            state = states[rng.randrange(len(states))]
            resolution = None if rng.random() < 0.3 else opened + dt.timedelta(days=21)
            cases.append(
                Case(
                    reference=f"AS-B-{i:09d}",
                    marketplace_id=order.marketplace_id,
                    order=order,
                    kind=kinds[i % len(kinds)],
                    state=state,
                    opened_at=opened,
                    response_due_at=opened + dt.timedelta(days=1),
                    resolution_due_at=resolution,
                    next_due_at=None if state == "closed" else (resolution or opened),
                )
            )
        Case.objects.bulk_create(cases, batch_size=batch)


def order_items(prefix: str, count: int, marketplace: str, placed: str, **extra) -> list[dict]:
    return [
        {
            "marketplace": marketplace,
            "external_id": f"{prefix}-{i:06d}",
            "placed_at": placed,
            "customer_name": "Import Customer",
            "customer_email": f"import{i}@example.com",
            "total": "99.90",
            "currency": "CNY",
            **extra,
        }
        for i in range(count)
    ]


# -- raw SQL next to it ---------------------------------------------------------------------------


def raw_upsert(rows: list[tuple], columns: list[str]) -> None:
    from django.db import connection, transaction

    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    updates = ", ".join(
        f"{c} = excluded.{c}"
        for c in columns
        if c not in {"marketplace_id", "external_id", "created_at"}
    )
    sql = (
        f"INSERT INTO cases_order ({names}) VALUES ({marks}) "
        f"ON CONFLICT (marketplace_id, external_id) DO UPDATE SET {updates}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def raw_upsert_copy(rows: list[tuple], columns: list[str]) -> None:
    """PostgreSQL's fastest plain path: COPY into a temporary table, then one INSERT .. SELECT
    .. ON CONFLICT DO UPDATE."""
    from django.db import connection, transaction

    names = ", ".join(columns)
    updates = ", ".join(
        f"{c} = excluded.{c}"
        for c in columns
        if c not in {"marketplace_id", "external_id", "created_at"}
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            f"CREATE TEMP TABLE bench_orders ON COMMIT DROP AS SELECT {names} FROM cases_order "
            "WITH NO DATA"
        )
        with raw.copy(f"COPY bench_orders ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            f"INSERT INTO cases_order ({names}) SELECT {names} FROM bench_orders "
            f"ON CONFLICT (marketplace_id, external_id) DO UPDATE SET {updates}"
        )


def raw_rows(prefix: str, count: int, marketplace) -> tuple[list[tuple], list[str]]:
    """Rows for the raw upsert, every NOT NULL column filled as the ORM would."""
    from django.db import connection
    from django.utils import timezone

    from cases.models import Order

    now = timezone.now()
    fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    rows = []
    for i in range(count):
        order = Order(
            marketplace=marketplace,
            external_id=f"{prefix}-{i:06d}",
            placed_at=now - dt.timedelta(days=3),
            customer_name="Import Customer",
            customer_email=f"import{i}@example.com",
            total=Decimal("99.90"),
            currency="CNY",
            created_at=now,
            updated_at=now,
        )
        rows.append(
            tuple(f.get_db_prep_save(getattr(order, f.attname), connection) for f in fields)
        )
    return rows, [f.column for f in fields]


def raw_case_page(marketplace_ids: list[int], where: str, order_by: str, params: list) -> list:
    from django.db import connection

    marks = ", ".join(["%s"] * len(marketplace_ids))
    sql = (
        "SELECT c.*, o.external_id AS order_external_id, u.username AS assignee_username "
        "FROM cases_case c JOIN cases_order o ON o.id = c.order_id "
        "LEFT JOIN auth_user u ON u.id = c.assignee_id "
        f"WHERE c.marketplace_id IN ({marks}) {where} ORDER BY {order_by} LIMIT 51"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*marketplace_ids, *params])
        return cursor.fetchall()


# -- the run --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the database")
    parser.add_argument("--batch", type=int, default=10_000, help="orders per import request")
    parser.add_argument("--imports", type=int, default=3, help="import requests per scenario")
    parser.add_argument("--lists", type=int, default=40, help="list requests per scenario")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file")
    args = parser.parse_args()

    vendor = setup_django(args.keep)
    from django.db import connection
    from django.utils import timezone

    from api.models import ApiClient
    from cases.models import Case, Order
    from marketplaces.models import Marketplace

    tmall = Marketplace.objects.get(code="tmall")
    amazon = Marketplace.objects.get(code="amazon_fr")
    client = ApiClient(name=f"bench-{time.time_ns()}", throttle_rate="1000000/min")
    key = client.set_new_key()
    client.save()
    client.marketplaces.set([tmall, amazon])

    print(f"aftersales API benchmark on {vendor} ({connection.settings_dict['NAME']})")
    existing = Case.objects.count()
    if existing < args.cases:
        started = time.perf_counter()
        fill_cases(args.cases - existing, [tmall, amazon])
        print(f"  filled {args.cases - existing:,} cases in {time.perf_counter() - started:.1f} s")
    # Planner statistics, as a maintained database has them (PostgreSQL's autovacuum; on SQLite
    # "PRAGMA optimize" run now and then). Without them SQLite sorts the whole table per page.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  {Case.objects.count():,} cases, {Order.objects.count():,} orders")
    server = Server()
    placed = (timezone.now() - dt.timedelta(days=3)).isoformat()
    run_id = time.time_ns() % 10**8

    print(f"\nBulk order import ({args.batch:,} orders a request, one transaction each)")
    new_batches = [
        order_items(f"N{run_id}-{i}", args.batch, "tmall", placed) for i in range(args.imports)
    ]
    results = []

    def import_new(i: int) -> None:
        results.append(server.call(key, "POST", "/api/v1/orders/", new_batches[i]))

    durations = timed(args.imports, import_new)
    assert all(r["created"] == args.batch for r in results), results
    print(summary("API: new orders", durations, args.batch, "orders"))

    changed = [
        [{**item, "customer_name": "Renamed Customer"} for item in batch] for batch in new_batches
    ]
    results.clear()

    def import_changed(i: int) -> None:
        results.append(server.call(key, "POST", "/api/v1/orders/", changed[i]))

    durations = timed(args.imports, import_changed)
    assert all(r["updated"] == args.batch for r in results), results
    print(summary("API: existing orders, one field changed", durations, args.batch, "orders"))
    results.clear()

    def import_same(i: int) -> None:
        results.append(server.call(key, "POST", "/api/v1/orders/", changed[i]))

    durations = timed(args.imports, import_same)
    assert all(r["unchanged"] == args.batch for r in results), results
    print(summary("API: existing orders, unchanged", durations, args.batch, "orders"))

    # For scale: the one-order service the bulk path replaces, on 1,000 orders.
    from cases.services import order_upsert

    one_by_one = [
        {**item, "marketplace": tmall, "placed_at": timezone.now() - dt.timedelta(days=3)}
        for item in order_items(f"S{run_id}", 1000, "tmall", placed)
    ]

    def upsert_each(_: int) -> None:
        for item in one_by_one:
            fields = {k: v for k, v in item.items() if k not in {"marketplace", "external_id"}}
            fields["total"] = Decimal(fields["total"])
            order_upsert(marketplace=tmall, external_id=item["external_id"], **fields)

    durations = timed(1, upsert_each)
    print(summary("service: order_upsert one by one (1,000)", durations, 1000, "orders"))

    raw_batches = [raw_rows(f"R{run_id}-{i}", args.batch, tmall) for i in range(args.imports)]
    durations = timed(args.imports, lambda i: raw_upsert(*raw_batches[i]))
    print(
        summary("raw SQL: INSERT .. ON CONFLICT DO UPDATE (new)", durations, args.batch, "orders")
    )
    durations = timed(args.imports, lambda i: raw_upsert(*raw_batches[i]))
    print(summary("raw SQL: same rows again (all conflicts)", durations, args.batch, "orders"))
    if vendor == "postgresql":
        copied = [raw_rows(f"C{run_id}-{i}", args.batch, tmall) for i in range(args.imports)]
        durations = timed(args.imports, lambda i: raw_upsert_copy(*copied[i]))
        print(summary("raw SQL: COPY + INSERT .. SELECT (new)", durations, args.batch, "orders"))
        durations = timed(args.imports, lambda i: raw_upsert_copy(*copied[i]))
        print(
            summary("raw SQL: COPY + INSERT .. SELECT (conflicts)", durations, args.batch, "orders")
        )

    print(f"\nCase list over {Case.objects.count():,} cases (50 a page)")
    ids = [tmall.pk, amazon.pk]
    scenarios = [
        ("newest first", "/api/v1/cases/?page_size=50", "", "c.opened_at DESC, c.id DESC", []),
        (
            "state=new, tmall",
            "/api/v1/cases/?page_size=50&state=new&marketplace=tmall",
            "AND c.state = %s AND c.marketplace_id = %s",
            "c.opened_at DESC, c.id DESC",
            ["new", tmall.pk],
        ),
        (
            "by resolution deadline",
            "/api/v1/cases/?page_size=50&ordering=resolution_due_at",
            "",
            "c.resolution_due_at ASC NULLS LAST, c.id ASC",
            [],
        ),
        (
            "overdue, soonest first",
            "/api/v1/cases/?page_size=50&overdue=true&ordering=next_due_at",
            "AND c.next_due_at < %s",
            "c.next_due_at ASC, c.id ASC",
            [timezone.now()],
        ),
    ]
    for label, path, where, order_by, params in scenarios:
        durations = timed(args.lists, lambda i, p=path: server.call(key, "GET", p))
        print(summary(f"API: {label}", durations, 1, "pages"))
        durations = timed(
            args.lists, lambda i, w=where, o=order_by, p=params: raw_case_page(ids, w, o, p)
        )
        print(summary(f"raw SQL: {label}", durations, 1, "pages"))

    # Deep paging: following the cursor costs what the first page costs.
    page = server.call(key, "GET", "/api/v1/cases/?page_size=50")
    for _ in range(199):
        page = server.call(key, "GET", page["next"].removeprefix(server.url))
    durations = timed(
        args.lists, lambda i: server.call(key, "GET", page["next"].removeprefix(server.url))
    )
    print(summary("API: page 201 by cursor", durations, 1, "pages"))
    server.httpd.shutdown()


if __name__ == "__main__":
    main()
