#!/usr/bin/env python
"""Benchmark: the support workspace's case list over a million cases.

Fills the database with N cases (default 1,000,000), one order each, 15 % of them open, with
assignees, deadlines, escalations and refund requests, using set-based SQL (generate_series
on PostgreSQL, a recursive CTE on SQLite), with a progress bar; then requests the admin's case
list as a logged-in support agent through Django's full stack (middleware, admin, templates;
no network) and prints the server time of each view: the default one (open cases, most urgent
first) and filtered ones, with their query counts. The target is 300 ms.

    scripts/with-postgres .venv/bin/python bench/admin_changelist.py          # production DB
    .venv/bin/python bench/admin_changelist.py --cases 200000                  # SQLite file

Without DATABASE_URL it uses its own SQLite file (var/bench-admin.sqlite3), never the
development database. Re-running on a filled database skips the fill.
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
if not os.environ.get("DATABASE_URL"):
    (ROOT / "var").mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-admin.sqlite3'}"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.choices import CLAIM_KINDS, CaseKind  # noqa: E402
from cases.models import Case, Order, RefundRequest  # noqa: E402
from marketplaces.models import Marketplace  # noqa: E402
from workspace.roles import SUPPORT_AGENT  # noqa: E402

CHUNK = 50_000
AGENTS = 20
TARGET_MS = 300.0
PG = connection.vendor == "postgresql"


# -- progress ---------------------------------------------------------------------------------


class Progress:
    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.started = label, total, time.perf_counter()

    def update(self, done: int) -> None:
        width = 40
        filled = int(width * done / self.total) if self.total else width
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0
        sys.stderr.write(
            f"\r{self.label:<16} [{'#' * filled}{'.' * (width - filled)}] "
            f"{100 * done / self.total:5.1f} % {done:>10,}/{self.total:,}  "
            f"{elapsed:6.1f} s  {rate:,.0f}/s"
        )
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


# -- SQL helpers (PostgreSQL and SQLite) -------------------------------------------------------


def series(start: int, stop: int) -> str:
    """A row source of integers g in [start, stop]."""
    if PG:
        return f"generate_series({start}::bigint, {stop}::bigint) AS s(g)"
    return (
        f"(WITH RECURSIVE s(g) AS (SELECT {start} UNION ALL SELECT g + 1 FROM s WHERE g < {stop})"
        " SELECT g FROM s) AS s"
    )


def moment(seconds_sql: str) -> str:
    """The bench's "now" plus ``seconds_sql`` seconds, as the database stores a datetime."""
    if PG:
        return f"(%(now)s::timestamptz + ({seconds_sql}) * interval '1 second')"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %(now)s, printf('%%+d seconds', {seconds_sql}))"


def when(condition: str, then: str, otherwise: str = "NULL") -> str:
    return f"(CASE WHEN {condition} THEN {then} ELSE {otherwise} END)"


def after_opening(seconds: int) -> str:
    """The case's opening (``x.ago`` seconds before now) plus ``seconds``, never after now: a
    change recorded in the future would make the product refuse the next transition (it
    would happen "before the case's last change")."""
    offset = f"-(x.ago) + {seconds}"
    return moment(f"(CASE WHEN {offset} > 0 THEN 0 ELSE {offset} END)")


def case_when(expression: str, values: list) -> str:
    parts = " ".join(f"WHEN {i} THEN {value}" for i, value in enumerate(values))
    return f"(CASE ({expression}) %% {len(values)} {parts} END)"


def quote(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if PG else ("1" if value else "0")
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_sql(model: type, expressions: dict[str, str], source: str) -> str:
    """INSERT ... SELECT with an expression for every column: the given ones, NULL for nullable
    columns, the field's default otherwise (so columns other helpers add are filled too)."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.column in expressions:
            values.append(expressions[field.column])
        elif field.null:
            values.append("NULL")
        else:
            default = field.get_default()
            if default is None:
                raise SystemExit(f"No value for {model.__name__}.{field.column}")
            values.append(quote(getattr(default, "value", default)))
    table = connection.ops.quote_name(model._meta.db_table)
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"


# -- filling -------------------------------------------------------------------------------------


def fill(total: int, now: dt.datetime) -> None:
    existing = Case.objects.count()
    if existing >= total:
        print(f"{existing:,} cases already there: fill skipped.")
        return
    if existing:
        raise SystemExit(
            f"The database has {existing:,} cases (fewer than {total:,}): use an empty one."
        )
    marketplaces = list(Marketplace.objects.order_by("pk").values_list("pk", flat=True))
    agents = make_agents()
    kinds = [quote(kind) for kind in CaseKind.values]
    claim_kinds = [quote(kind) for kind in CaseKind.values if kind in CLAIM_KINDS]
    base = (Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    params = {"now": now.strftime("%Y-%m-%d %H:%M:%S") if not PG else now}

    # Per-row choices, computed once in a subquery (x): open or not, age, kind, state.
    # An open case (15 %) was opened in the last 60 days, a closed one within 2 years.
    is_open = "((g * 37) %% 100 < 15)"
    opened_ago = (
        f"(CASE WHEN {is_open} THEN (g %% 60) * 86400 + (g * 13) %% 86400 "
        "ELSE (g %% 730) * 86400 + (g * 13) %% 86400 END)"
    )
    kind = case_when("g * 7", kinds)
    open_state = (
        f"(CASE WHEN {kind} IN ({', '.join(claim_kinds)}) THEN "
        + case_when(
            "g / 7",
            ["'awaiting_evidence'", "'under_review'", "'new'", "'confirmed'", "'escalated'"],
        )
        + " ELSE "
        + case_when("g / 7", ["'new'", "'new'", "'refund_pending'", "'escalated'"])
        + " END)"
    )
    # OFFSET 0 keeps PostgreSQL from inlining the subquery (and computing each choice again
    # wherever it is used).
    choices = (
        f"(SELECT g, {is_open} AS is_open, {opened_ago} AS ago, {kind} AS kind, "
        f"(CASE WHEN {is_open} THEN {open_state} ELSE 'closed' END) AS state "
        f"FROM {{series}}{' OFFSET 0' if PG else ''}) AS x"
    )
    # Open cases' next deadline: from 10 days ago to 20 days ahead, spread evenly.
    due_offset = "(((g * 7919) %% 2592000) - 864000)"
    assignee = f"(CASE WHEN g %% 25 < {len(agents)} THEN {case_when('g', agents)} ELSE NULL END)"
    is_open, opened_ago, state = "x.is_open", "x.ago", "x.state"

    orders = Progress("orders", total)
    cases = Progress("cases", total)
    order_expr = {
        "id": f"g + {base - 1}",
        "marketplace_id": case_when("g", marketplaces),
        "external_id": "'BO-' || g",
        "customer_name": case_when(
            "g * 3",
            [
                quote(n)
                for n in [
                    "Li Wei",
                    "Léa Martin",
                    "Zhang Min",
                    "Hugo Petit",
                    "Emma Dubois",
                    "Chen Jing",
                    "Lucas Bernard",
                ]
            ],
        )
        + " || ' ' || (g %% 9973)",
        "customer_email": "'customer' || g || '@example.com'",
        "placed_at": moment(f"-({opened_ago}) - 86400"),
        "destination_country": "'FR'",
        "total": "((g %% 500) + 10)",
        "currency": "'EUR'",
        "created_at": moment("0"),
        "updated_at": moment("0"),
    }
    case_expr = {
        "id": f"g + {base - 1}",
        "reference": "'B-' || g",
        "marketplace_id": case_when("g", marketplaces),
        "order_id": f"g + {base - 1}",
        "kind": "x.kind",
        "state": state,
        "opened_at": moment(f"-({opened_ago})"),
        "assignee_id": assignee,
        "escalated": f"({state} = 'escalated')",
        "escalated_at": when(f"{state} = 'escalated'", after_opening(7200)),
        "first_responded_at": after_opening(3600),
        "last_transition_at": after_opening(3600),
        "evidence_requested_at": when(f"{state} = 'awaiting_evidence'", after_opening(3600)),
        "evidence_due_at": when(f"{state} = 'awaiting_evidence'", moment(due_offset)),
        "resolution_due_at": when(is_open, moment(due_offset), after_opening(15 * 86400)),
        "next_due_at": when(is_open, moment(due_offset)),
        "resolved_at": when(is_open, "NULL", after_opening(3 * 86400)),
        "closed_at": when(is_open, "NULL", after_opening(4 * 86400)),
        "resolution_outcome": when(is_open, "''", "'refunded'"),
        "resolution_met": when(is_open, "NULL", quote(True)),
        "description": "''",
        "created_at": moment("0"),
        "updated_at": moment("0"),
    }
    with connection.cursor() as cursor:
        # Secondary indexes are built once after the rows are in, not kept up row by row: with
        # its 25 indexes, the case table took 800 rows/s on a loaded machine; built afterwards,
        # 1,000,000 cases load in a few minutes.
        dropped = drop_secondary_indexes(cursor, [Order, Case]) if PG else []
        for start in range(1, total + 1, CHUNK):
            stop = min(start + CHUNK - 1, total)
            source = choices.replace("{series}", series(start, stop))
            cursor.execute(insert_sql(Order, order_expr, source), params)
            orders.update(stop)
        orders.close()
        for start in range(1, total + 1, CHUNK):
            stop = min(start + CHUNK - 1, total)
            source = choices.replace("{series}", series(start, stop))
            cursor.execute(insert_sql(Case, case_expr, source), params)
            cases.update(stop)
        cases.close()
        started = time.perf_counter()
        for definition in dropped:
            cursor.execute(definition)
        if dropped:
            print(f"{len(dropped)} indexes rebuilt in {time.perf_counter() - started:.1f} s")
        # A refund request on one case in 20; undecided on open cases, decided on closed ones.
        refund_expr = {
            "case_id": "c.id",
            "marketplace_id": "c.marketplace_id",
            "amount": "25",
            "currency": "'EUR'",
            "requested_at": "c.opened_at",
            "decision": "(CASE WHEN c.closed_at IS NULL THEN '' ELSE 'approved' END)",
            "approved_amount": "(CASE WHEN c.closed_at IS NULL THEN NULL ELSE 25 END)",
            "decided_at": "c.closed_at",
            "created_at": "c.opened_at",
        }
        table = connection.ops.quote_name(Case._meta.db_table)
        sql = insert_sql(
            RefundRequest, {**refund_expr, "id": "c.id"}, f"{table} c WHERE c.id %% 20 = 0"
        )
        started = time.perf_counter()
        cursor.execute(sql, params)
        elapsed = time.perf_counter() - started
        print(f"refund requests  {RefundRequest.objects.count():,} in {elapsed:.1f} s")
        if PG:
            for model in (Order, Case, RefundRequest):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        # What autovacuum does on a live database: statistics, and the visibility map that lets
        # PostgreSQL answer from an index alone.
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE" if PG else "ANALYZE")
        print(f"VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")


def drop_secondary_indexes(cursor: object, models: list[type]) -> list[str]:
    """Drop the plain indexes of ``models``' tables (not those behind a primary key or a
    unique constraint, which the rows are checked against); returns their CREATE statements."""
    tables = [model._meta.db_table for model in models]
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname "
        "JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.tablename = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary",
        [tables],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def make_agents() -> list[int]:
    group = Group.objects.get(name=SUPPORT_AGENT)
    ids = []
    for number in range(AGENTS):
        user, created = get_user_model().objects.get_or_create(
            username=f"bench-agent-{number}", defaults={"is_staff": True}
        )
        if created:
            user.groups.add(group)
        ids.append(user.pk)
    return ids


# -- measuring ---------------------------------------------------------------------------------

VIEWS = [
    ("default: open cases, most urgent first", {}, True),
    ("due within 2 business days", {"due": "soon"}, True),
    ("mine, overdue", {"assignee": "mine", "due": "overdue"}, True),
    ("Tmall damaged-item claims", {"marketplace": "tmall", "kind": "damaged_item"}, True),
    ("under review", {"state": "under_review"}, False),
    ("refund awaiting a decision", {"refund": "undecided"}, False),
    ("escalated", {"escalated__exact": "1"}, False),
    ("unassigned, overdue", {"assignee": "unassigned", "due": "overdue"}, False),
    ("all cases (open and closed)", {"status": "all"}, False),
    ("search: a reference", {"q": "B-500000"}, False),
    ("search: an order id", {"q": "BO-424242"}, False),
    ("search: an e-mail", {"q": "customer777@example.com"}, False),
    ("search: a customer name", {"q": "Zhang Min 4242"}, False),
]


def measure(client: Client, url: str, params: dict, repeat: int) -> dict:
    client.get(url, params)  # warm: caches, calendars, connection
    times, queries, sql = [], 0, 0.0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, params, response.status_code)
        queries = len(captured.captured_queries)
        sql = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[min(len(times) - 1, int(len(times) * 0.9))],
        "max": times[-1],
        "queries": queries,
        "sql": sql,
        "rows": response.context["cl"].result_count
        if response.context and "cl" in response.context
        else None,
    }


def print_row(label: str, result: dict, verdict: str) -> None:
    times = " ".join(f"{result[key]:>6.1f}ms" for key in ("median", "p90", "max", "sql"))
    print(f"{label:<42} {times} {result['queries']:>8}  {verdict}")


def explain(client: Client, params: dict) -> None:
    """Print the plan of the list's main query (PostgreSQL)."""
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/cases/case/", params)
    # The page query, not the paginator's own row estimate (an EXPLAIN already: explaining it
    # again was the crash on PostgreSQL).
    pages = [q for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    main = max(pages, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main["sql"])
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the main query's plans")
    args = parser.parse_args()

    print(f"Database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
    call_command("migrate", verbosity=0)
    now = timezone.now().replace(microsecond=0)
    fill(args.cases, now)
    agent = get_user_model().objects.get(username="bench-agent-0")
    client = Client()
    client.force_login(agent)
    open_cases = Case.objects.exclude(state__in=["closed", "withdrawn"]).count()
    print(
        f"{Case.objects.count():,} cases ({open_cases:,} open), {Order.objects.count():,} "
        f"orders, {RefundRequest.objects.count():,} refund requests; page size 50; "
        f"{args.repeat} timed requests per view after one warm-up.\n"
    )
    header = f"{'view':<42} {'median':>8} {'p90':>8} {'max':>8} {'SQL':>8} {'queries':>8}  target"
    print(header)
    print("-" * len(header))
    verdicts = []
    for label, params, required in VIEWS:
        result = measure(client, "/admin/cases/case/", params, args.repeat)
        verdict = "ok" if result["median"] < TARGET_MS else "SLOW"
        if required:
            verdicts.append(verdict)
        print_row(label, result, verdict if required else f"({verdict})")
        if args.explain:
            explain(client, params)
    under_review = Case.objects.filter(state="under_review").values_list("pk", flat=True)
    for label, url in [
        ("admin home (work queues)", "/admin/"),
        ("dashboard", "/admin/workspace/dashboard/"),
        ("a case page", f"/admin/cases/case/{under_review.first()}/change/"),
    ]:
        print_row(label, measure(client, url, {}, max(3, args.repeat // 2)), "")
    print(
        f"\nDefault view and three filtered views under {TARGET_MS:.0f} ms (median server "
        f"time): {'yes' if all(v == 'ok' for v in verdicts) else 'NO'}"
    )


if __name__ == "__main__":
    main()
