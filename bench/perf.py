#!/usr/bin/env python
"""Benchmarks you can trust (issue 11): each figure next to a raw baseline doing the same work.

    make bench                                   # PostgreSQL, 100,000 cases
    make bench SIZE=1000000                      # PostgreSQL, 1,000,000 cases
    make bench-sqlite                            # SQLite list at 100,000 cases vs raw sqlite3
    scripts/with-postgres .venv/bin/python bench/perf.py --cases 1000000 --repeat 21

Fills the database by set-based SQL (``bench/admin_changelist.fill``: generate_series on
PostgreSQL, a recursive CTE on SQLite; 15 % of the cases open), starts the production server
(gunicorn, 2 sync workers, DEBUG=0, persistent connections) and, for each scenario, alternates
the product (an HTTP request, or the job in process) with its raw baseline (hand-written SQL on
the driver and ``json.dumps`` of the same fields), checks both return the same rows, and prints
p50 / p95 of each, the ratio of the medians, the product's query count and the goal:

* API list, page 50: marketplace + state by resolution deadline; newest first; overdue; an
  assignee's cases by next deadline (goal: p50 <= 3x raw); at scale each plan is EXPLAINed and
  must read its rows from an index (no sequential scan, no more than 10,000 rows read);
* case detail (goal <= 5x raw) and a transition;
* bulk order import, 10,000 orders a request, against executemany of the same rows
  (throughput; goal >= 0.3x);
* deadline sweep when nothing changed (goal <= 1 s, 0 writes) against its one query.

Exits non-zero when a check (rows, plans, writes) fails; goals missed are reported, not fatal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
os.environ["DEBUG"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL"):
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-perf.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from api.models import ApiClient  # noqa: E402
from bench import admin_changelist as filler  # noqa: E402
from cases.models import Case, CaseEvent, Order  # noqa: E402
from jobs.models import DeadlineAlert  # noqa: E402
from jobs.sweep import deadline_sweep_run, new_findings_query  # noqa: E402
from marketplaces.models import Marketplace  # noqa: E402

PG = connection.vendor == "postgresql"
FAILURES: list[str] = []
TIMES = [
    "opened_at",
    "escalated_at",
    "confirmed_at",
    "resolved_at",
    "closed_at",
    "first_responded_at",
    "response_due_at",
    "evidence_due_at",
    "resolution_due_at",
    "supplier_contact_due_at",
    "supplier_switch_due_at",
    "review_due_at",
    "refund_decision_due_at",
    "next_due_at",
    "created_at",
    "updated_at",
]
PRIORITY_NAMES = {10: "low", 20: "normal", 30: "high", 40: "urgent"}


# -- measuring ------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def alternate(repeat: int, product: Callable[[int], Any], raw: Callable[[int], Any]):
    """Run product and raw one after the other ``repeat`` times (after one warm-up each), so
    that both see the same machine; returns their durations and last results."""
    product(-1), raw(-1)
    times: dict[str, list[float]] = {"product": [], "raw": []}
    results: dict[str, Any] = {}
    for index in range(repeat):
        for name, work in (
            (("product", product), ("raw", raw))
            if index % 2
            else (
                ("raw", raw),
                ("product", product),
            )
        ):
            started = time.perf_counter()
            results[name] = work(index)
            times[name].append(time.perf_counter() - started)
    return times, results


ROWS: list[dict[str, Any]] = []


def report(label: str, times: dict[str, list[float]], *, queries: int | str, goal: str, ok: bool):
    p = {
        name: (statistics.median(t) * 1000, percentile(t, 0.95) * 1000) for name, t in times.items()
    }
    ratio = p["product"][0] / p["raw"][0] if p["raw"][0] else float("inf")
    row = {
        "scenario": label,
        "p50": p["product"][0],
        "p95": p["product"][1],
        "raw p50": p["raw"][0],
        "raw p95": p["raw"][1],
        "ratio": ratio,
        "queries": queries,
        "goal": goal,
        "met": "yes" if ok else "NO",
    }
    ROWS.append(row)
    print(
        f"  {label:<44} {row['p50']:>8.1f} {row['p95']:>8.1f} | {row['raw p50']:>7.1f} "
        f"{row['raw p95']:>7.1f} | {ratio:>5.2f}x | {queries!s:>4} | {goal:<14} {row['met']}",
        flush=True,
    )
    return ratio


def check(condition: bool, what: str) -> None:
    if not condition:
        FAILURES.append(what)
        print(f"  CHECK FAILED: {what}", flush=True)


# -- the production server ------------------------------------------------------------------------


class Server:
    """gunicorn with 2 sync workers, DEBUG=0, persistent database connections."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "DATABASE_CONN_MAX_AGE": "600", "DEBUG": "0"}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                *(str(gunicorn), "aftersales.wsgi", "-w", "2", "-b", f"127.0.0.1:{self.port}"),
                *("--timeout", "600", "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("gunicorn did not start")

    def call(self, key: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {key}", "Host": "127.0.0.1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, payload

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# -- raw baselines --------------------------------------------------------------------------------


class Raw:
    """The driver's own connection (psycopg or sqlite3), outside Django's ORM."""

    def __init__(self) -> None:
        if PG:
            connection.ensure_connection()
            self.db = connection.connection
            self.mark = "%s"
        else:
            self.db = sqlite3.connect(connection.settings_dict["NAME"])
            self.mark = "?"

    def rows(self, sql: str, params: list[Any]) -> list[tuple]:
        cursor = self.db.cursor()
        cursor.execute(sql.replace("%s", self.mark), params)
        found = cursor.fetchall()
        cursor.close()
        return found


def iso(value: Any) -> str | None:
    """A time as the API writes it (UTC, ISO 8601, "Z")."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's text, in UTC
        return value.replace(" ", "T") + "Z"
    text = value.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z"


LIST_COLUMNS = (
    "c.reference, c.marketplace_id, o.external_id, c.kind, c.state, c.version, c.priority, "
    "u.username, c.external_id, c.external_claim_id, c.escalated, c.resolution_outcome, "
    "c.resolution_met, " + ", ".join(f"c.{name}" for name in TIMES)
)


def raw_list(raw: Raw, where: str, order: str, params: list[Any], codes: dict[int, str]) -> bytes:
    sql = (
        f"SELECT {LIST_COLUMNS} FROM cases_case c JOIN cases_order o ON o.id = c.order_id "
        f"LEFT JOIN auth_user u ON u.id = c.assignee_id WHERE {where} ORDER BY {order} LIMIT 51"
    )
    now = timezone.now()
    results = []
    for row in raw.rows(sql, params)[:50]:
        times = dict(zip(TIMES, row[13:], strict=True))
        next_due = times["next_due_at"]
        if isinstance(next_due, str):
            overdue = next_due < now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            overdue = next_due is not None and next_due < now
        results.append(
            {
                "reference": row[0],
                "url": f"http://127.0.0.1/api/v1/cases/{row[0]}/",
                "marketplace": codes[row[1]],
                "order": row[2],
                "kind": row[3],
                "state": row[4],
                "version": row[5],
                "priority": PRIORITY_NAMES.get(row[6], str(row[6])),
                "assignee": row[7],
                "external_id": row[8],
                "external_claim_id": row[9],
                "escalated": bool(row[10]),
                "resolution_outcome": row[11],
                "resolution_met": None if row[12] is None else bool(row[12]),
                "overdue": overdue,
                **{name: iso(value) for name, value in times.items()},
            }
        )
    return json.dumps({"next": "cursor", "results": results}).encode()


# -- data -----------------------------------------------------------------------------------------


def api_key() -> str:
    ApiClient.objects.filter(name="bench").delete()
    client = ApiClient(name="bench", throttle_rate="1000000/min", may_withdraw_cases=True)
    key = client.set_new_key()
    client.save()
    client.marketplaces.set(Marketplace.objects.all())
    return key


def product_queries(key: str, method: str, path: str, body: Any = None) -> int:
    """The request's query count, from one run in process (the server's are not visible)."""
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/v1/marketplaces/")  # warm: "last used" is written once a minute
    with CaptureQueriesContext(connection) as captured:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, body, content_type="application/json")
    check(response.status_code < 300, f"{method} {path} answered {response.status_code}")
    return len(captured)


def references(payload: bytes) -> list[str]:
    return [row["reference"] for row in json.loads(payload)["results"]]


# -- scenarios ------------------------------------------------------------------------------------


def list_scenarios(args, server: Server, raw: Raw, key: str) -> None:
    codes = dict(Marketplace.objects.values_list("pk", "code"))
    all_ids = sorted(codes)
    scope = f"c.marketplace_id IN ({', '.join(['%s'] * len(all_ids))})"
    tmall = next(pk for pk, code in codes.items() if code == "tmall")
    agent = filler.get_user_model().objects.get(username="bench-agent-3")
    now = timezone.now()
    now_param = now if PG else now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    combos = [
        (
            "list: tmall + new by resolution due",
            "?marketplace=tmall&state=new&ordering=resolution_due_at",
            "c.marketplace_id IN (%s) AND c.state IN (%s)",
            "c.resolution_due_at ASC NULLS LAST, c.id ASC",
            [tmall, "new"],
        ),
        ("list: newest first (default)", "", scope, "c.opened_at DESC, c.id DESC", all_ids),
        (
            "list: overdue, newest first",
            "?overdue=true",
            scope + " AND c.next_due_at < %s",
            "c.opened_at DESC, c.id DESC",
            [*all_ids, now_param],
        ),
        (
            "list: assignee by next deadline",
            f"?assignee={agent.username}&ordering=next_due_at",
            scope + " AND u.username = %s",
            "c.next_due_at ASC NULLS LAST, c.id ASC",
            [*all_ids, agent.username],
        ),
    ]
    for label, query, where, order, params in combos:
        path = "/api/v1/cases/" + query
        queries = product_queries(key, "GET", path)

        def product(_i: int, path: str = path) -> bytes:
            status, payload = server.call(key, "GET", path)
            check(status == 200, f"{path} answered {status}")
            return payload

        def baseline(_i: int, where: str = where, order: str = order, params=params) -> bytes:
            return raw_list(raw, where, order, params, codes)

        times, results = alternate(args.repeat, product, baseline)
        if "overdue" not in label:  # "now" moves: the overdue page's edge may differ by a row
            check(
                references(results["product"]) == references(results["raw"]),
                f"{label}: rows differ",
            )
        else:
            mine, theirs = references(results["product"]), references(results["raw"])
            check(len(set(mine) & set(theirs)) >= len(mine) - 2, f"{label}: rows differ")
        ratio = statistics.median(times["product"]) / statistics.median(times["raw"])
        report(label, times, queries=queries, goal="p50 <= 3x raw", ok=ratio <= 3)
        if PG and args.cases >= 500_000:
            explain_check(label, path, key)


def explain_check(label: str, path: str, key: str) -> None:
    """The page query's plan at scale: read from an index, no sequential scan of the cases,
    at most 10,000 case rows read for a page of 50."""
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    page = [q["sql"] for q in captured if 'FROM "cases_case"' in q["sql"]][-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + page)
        plan = cursor.fetchone()[0]
    plan = plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"]
    nodes = []

    def walk(node: dict) -> None:
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    on_cases = [n for n in nodes if n.get("Relation Name") == "cases_case"]
    read = sum(
        n.get("Actual Rows", 0) * n.get("Actual Loops", 1) + n.get("Rows Removed by Filter", 0)
        for n in on_cases
    )
    kinds = sorted({f"{n['Node Type']}:{n.get('Index Name', '-')}" for n in on_cases})
    print(f"    plan: {', '.join(kinds)}; {read:,} case rows read", flush=True)
    check(not any(n["Node Type"] == "Seq Scan" for n in on_cases), f"{label}: sequential scan")
    check(read <= 10_000, f"{label}: {read:,} case rows read for a page")


def detail_and_transition(args, server: Server, raw: Raw, key: str) -> None:
    # Cancellations still new: each transition run takes the next one.
    fresh = list(
        Case.objects.filter(kind="cancellation", state="new")
        .order_by("-pk")
        .values_list("reference", flat=True)[: 2 * args.repeat + 4]
    )
    product_refs, raw_refs = fresh[: args.repeat + 2], fresh[args.repeat + 2 :]
    body = {"transition": "request_refund", "note": "bench"}
    queries = product_queries(key, "POST", f"/api/v1/cases/{product_refs.pop()}/transitions/", body)
    template = CaseEvent.objects.filter(event_type="transition").order_by("-pk").first()
    columns = [f.column for f in CaseEvent._meta.concrete_fields if not f.primary_key]

    def transition(_i: int) -> bytes:
        status, payload = server.call(
            key, "POST", f"/api/v1/cases/{product_refs.pop()}/transitions/", body
        )
        check(status == 200, f"transition answered {status}")
        return payload

    def raw_transition(_i: int) -> bytes:
        reference = raw_refs.pop()
        now = timezone.now()
        with transaction.atomic():
            case_id, _version = raw.rows(
                "SELECT id, version FROM cases_case WHERE reference = %s FOR UPDATE", [reference]
            )[0]
            raw.rows(
                "UPDATE cases_case SET state = 'refund_pending', version = version + 1, "
                "updated_at = %s, last_transition_at = %s WHERE id = %s RETURNING id",
                [now, now, case_id],
            )
            values = ", ".join("%s" if c == "case_id" else c for c in columns)
            raw.rows(
                f"INSERT INTO cases_caseevent ({', '.join(columns)}) SELECT {values} "
                "FROM cases_caseevent WHERE id = %s RETURNING id",
                [case_id, template.pk],
            )
        return raw_detail_json(raw, reference)

    times, _ = alternate(args.repeat, transition, raw_transition)
    report("transition (request_refund)", times, queries=queries, goal="-", ok=True)

    reference = (
        Case.objects.filter(state="refund_pending", kind="cancellation")
        .order_by("-pk")
        .values_list("reference", flat=True)[0]
    )
    path = f"/api/v1/cases/{reference}/"
    queries = product_queries(key, "GET", path)

    def detail(_i: int) -> bytes:
        status, payload = server.call(key, "GET", path)
        check(status == 200, f"detail answered {status}")
        return payload

    times, results = alternate(args.repeat, detail, lambda _i: raw_detail_json(raw, reference))
    product_json, raw_json = json.loads(results["product"]), json.loads(results["raw"])
    check(product_json["reference"] == raw_json["reference"], "detail: another case")
    check(len(product_json["history"]) == len(raw_json["history"]), "detail: history differs")
    ratio = statistics.median(times["product"]) / statistics.median(times["raw"])
    report("case detail", times, queries=queries, goal="p50 <= 5x raw", ok=ratio <= 5)


def raw_detail_json(raw: Raw, reference: str) -> bytes:
    (row,) = raw.rows(
        f"SELECT {LIST_COLUMNS}, c.id, c.description, m.code, o.customer_name, o.placed_at "
        "FROM cases_case c JOIN cases_order o ON o.id = c.order_id "
        "JOIN marketplaces_marketplace m ON m.id = c.marketplace_id "
        "LEFT JOIN auth_user u ON u.id = c.assignee_id WHERE c.reference = %s",
        [reference],
    )
    case_id = row[13 + len(TIMES)]
    parts = {}
    for name, table, order in (
        ("evidence", "cases_evidence", "id"),
        ("evidence_requests", "cases_evidencerequest", "id"),
        ("refund_requests", "cases_refundrequest", "id"),
        ("history", "cases_caseevent", "occurred_at, id"),
    ):
        cursor = raw.db.cursor()
        cursor.execute(
            f"SELECT * FROM {table} WHERE case_id = {raw.mark} ORDER BY {order}", [case_id]
        )
        names = [d[0] for d in cursor.description]
        parts[name] = [
            {
                n: iso(v) if isinstance(v, dt.datetime) else str(v) if isinstance(v, Decimal) else v
                for n, v in zip(names, r, strict=True)
            }
            for r in cursor.fetchall()
        ]
        cursor.close()
    data = {
        "reference": row[0],
        "state": row[4],
        "version": row[5],
        "order": {"external_id": row[2], "customer_name": row[-2], "placed_at": iso(row[-1])},
        **{name: iso(v) for name, v in zip(TIMES, row[13 : 13 + len(TIMES)], strict=True)},
        **parts,
    }
    return json.dumps(data, default=str).encode()


def bulk_import(args, server: Server, raw: Raw, key: str) -> None:
    size = args.import_size
    tmall = Marketplace.objects.get(code="tmall")
    placed = "2026-01-05T10:00:00+08:00"

    def items(tag: str) -> list[dict[str, Any]]:
        return [
            {
                "marketplace": "tmall",
                "external_id": f"IMP-{tag}-{i}",
                "placed_at": placed,
                "customer_name": "Wang Fang",
                "customer_email": f"c{i}@example.com",
                "total": "99.90",
                "currency": "CNY",
                "promised_ship_date": "2026-01-07",
                "destination_country": "CN",
            }
            for i in range(size)
        ]

    stamp = str(int(time.time()))
    columns = [f for f in Order._meta.concrete_fields if not f.primary_key]
    sql = (
        f"INSERT INTO cases_order ({', '.join(f.column for f in columns)}) "
        f"VALUES ({', '.join([raw.mark] * len(columns))})"
    )
    defaults = {f.attname: getattr(f.get_default(), "value", f.get_default()) for f in columns}

    def product(index: int) -> int:
        status, payload = server.call(key, "POST", "/api/v1/orders/", items(f"P{stamp}{index}"))
        check(status == 200, f"import answered {status}: {payload[:200]!r}")
        return json.loads(payload)["created"]

    def executemany(index: int) -> int:
        now = timezone.now()
        values = []
        for item in items(f"R{stamp}{index}"):
            row = {
                **defaults,
                "marketplace_id": tmall.pk,
                "external_id": item["external_id"],
                "customer_name": item["customer_name"],
                "customer_email": item["customer_email"],
                "placed_at": dt.datetime.fromisoformat(item["placed_at"]),
                "promised_ship_date": dt.date.fromisoformat(item["promised_ship_date"]),
                "destination_country": item["destination_country"],
                "total": Decimal(item["total"]),
                "currency": item["currency"],
                "created_at": now,
                "updated_at": now,
            }
            if not PG:
                row = {
                    n: v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
                    if isinstance(v, dt.datetime)
                    else str(v)
                    if isinstance(v, Decimal | dt.date)
                    else v
                    for n, v in row.items()
                }
            values.append([row[f.attname] for f in columns])
        cursor = raw.db.cursor()
        if PG:
            with raw.db.transaction():
                cursor.executemany(sql, values)
        else:
            cursor.executemany(sql, values)
            raw.db.commit()
        cursor.close()
        return len(values)

    times, results = alternate(max(3, args.repeat // 4), product, executemany)
    check(results["product"] == size, f"import created {results['product']}")
    ratio = statistics.median(times["raw"]) / statistics.median(times["product"])
    rate = size / statistics.median(times["product"])
    base = size / statistics.median(times["raw"])
    report(
        f"bulk import {size:,} ({rate:,.0f}/s vs {base:,.0f}/s)",
        times,
        queries="-",
        goal=">= 0.3x tput",
        ok=ratio >= 0.3,
    )
    ROWS[-1]["ratio"] = ratio  # throughput ratio (product / executemany)
    print(f"    throughput ratio (product / executemany): {ratio:.2f}x", flush=True)


def sweep(args, raw: Raw) -> None:
    """The deadline sweep when nothing changed, next to its one query run raw."""
    marketplaces = list(Marketplace.objects.filter(is_active=True).order_by("pk"))
    at = timezone.now()
    # Fixture: every clock found at risk or overdue now already has its alert (as after the
    # sweeps of a live system), written by SQL from the sweep's own query.
    sql, params = new_findings_query(
        marketplaces=marketplaces,
        at=at,
        select="f.id, f.clock, f.level, f.due, %s, %s, 'bench'",
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO jobs_deadlinealert (case_id, clock, level, due_at, detected_at, "
            f"notified_at, notified_to) {sql}",
            [*params, at, at],  # the select's two times come after the query's own
        )
        cursor.execute("ANALYZE jobs_deadlinealert" if PG else "ANALYZE")
    alerts = DeadlineAlert.objects.count()
    print(f"    {alerts:,} alerts recorded as fixture in {time.perf_counter() - started:.1f} s")
    open_cases = Case.objects.open().count()
    versions = Case.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    with CaptureQueriesContext(connection) as captured:
        # at the fixture's moment: a clock that falls due while the bench runs is a real change
        result = deadline_sweep_run(at=at)
    writes = [
        q["sql"] for q in captured if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    check(result.alerts_created == 0, f"sweep created {result.alerts_created} alerts")
    check(DeadlineAlert.objects.count() == alerts, "sweep wrote alerts")
    check(
        Case.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
        == versions,
        "sweep changed cases",
    )
    sql, params = new_findings_query(
        marketplaces=marketplaces, at=at, select="DISTINCT f.marketplace_id, f.id"
    )
    times, _ = alternate(
        max(5, args.repeat // 2),
        lambda _i: deadline_sweep_run(at=at),
        lambda _i: raw.rows(sql, params),
    )
    p50 = statistics.median(times["product"])
    report(
        f"sweep, nothing changed ({open_cases:,} open)",
        times,
        queries=len(captured),
        goal="<= 1 s, 0 writes",
        ok=p50 <= 1.0 and result.alerts_created == 0,  # seconds
    )
    print(f"    writing statements in a quiet sweep: {len(writes)} (claim releases, 0 rows)")


# -- main -----------------------------------------------------------------------------------------


def markdown() -> str:
    lines = [
        "| scenario | p50 ms | p95 ms | raw p50 ms | raw p95 ms | ratio | queries | goal | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in ROWS:
        lines.append(
            f"| {row['scenario']} | {row['p50']:.1f} | {row['p95']:.1f} | {row['raw p50']:.1f} "
            f"| {row['raw p95']:.1f} | {row['ratio']:.2f}x | {row['queries']} | {row['goal']} "
            f"| {row['met']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--import-size", type=int, default=10_000)
    parser.add_argument(
        "--only", default="list,detail,import,sweep", help="comma-separated scenarios"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not PG:
        only &= {"list"}  # the embedded database: the list against raw sqlite3
    print(f"Database: {connection.vendor}; {args.cases:,} cases requested", flush=True)
    filler.call_command("migrate", verbosity=0)
    started = time.perf_counter()
    filler.fill(args.cases, timezone.now().replace(microsecond=0))
    print(f"Data ready in {time.perf_counter() - started:.0f} s", flush=True)
    key = api_key()
    raw = Raw()
    server = Server()
    print(
        f"\n  {'scenario':<44} {'p50':>8} {'p95':>8} | {'raw p50':>7} {'p95':>7} | ratio | "
        "qrys | goal"
    )
    try:
        if "list" in only:
            list_scenarios(args, server, raw, key)
        if "detail" in only:
            detail_and_transition(args, server, raw, key)
        if "import" in only:
            bulk_import(args, server, raw, key)
        if "sweep" in only:
            sweep(args, raw)
    finally:
        server.stop()
    print("\n" + markdown())
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:", *FAILURES, sep="\n  ")
        sys.exit(1)


if __name__ == "__main__":
    main()
