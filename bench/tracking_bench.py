"""Benchmark of the carrier-scan import: 5,000 scans in one request, target a p50 under 2 s on
PostgreSQL, then the same list again (a replay: nothing written), against a raw baseline.

    scripts/with-postgres .venv/bin/python bench/tracking_bench.py
    scripts/with-postgres .venv/bin/python bench/tracking_bench.py --rounds 7 --queries
    .venv/bin/python bench/tracking_bench.py --events 10000      # SQLite (a temporary file)

Each round imports the scans of its own fleet of parcels (built before any timing), so every
round is a first import; the p50 over the rounds is the figure. The raw baseline writes the
same rows with the driver alone (``json.loads`` of the same body, then psycopg's COPY, and
``executemany``) into a scratch table shaped like the scans' table (same unique key and
indexes): no validation, no matching, no rules.

The scans are those of 1,000 parcels (``--events`` / 5 each: pickup, transit, out for delivery,
delivered, with a customs hold and clearance for 2 % of them), 5 % of the parcels unknown yet
(kept for later), on orders of which 5 % have an open late-shipment case (the first scan ships
it) and 2 % an interception under way. Timed through the API (``POST /api/v1/tracking-events/``
with Django's test client: JSON parsing, validation, the service) and the service alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import setup_django  # noqa: E402

TARGET_SECONDS = 2.0


def build(parcels: int, now: dt.datetime, fleet: int = 0) -> tuple[list[dict], list[dict]]:
    """Orders with their shipments and cases; returns the scans (as JSON) of every parcel.
    ``fleet`` numbers a set of parcels of its own (orders, tracking numbers)."""
    from cases.actors import Actor
    from cases.choices import Door
    from cases.models import Order
    from cases.services import case_open, case_transition
    from cases.services.orders_bulk import order_bulk_upsert
    from marketplaces.models import Marketplace

    marketplace = Marketplace.objects.get(code="tmall")
    placed = now - dt.timedelta(days=12)
    items = []
    for n in range(parcels):
        item = {
            "marketplace": marketplace,
            "external_id": f"TB-{fleet}-{n}",
            "placed_at": placed,
            "promised_ship_date": (placed + dt.timedelta(days=1)).date(),
            "customer_name": f"客户 {n}",
            "customer_email": f"c{n}@example.com",
        }
        if n % 20 != 19:  # 5 % of the parcels are not known yet
            item["shipments"] = [{"carrier": "SF Express", "tracking_number": f"SF{fleet}-{n:08d}"}]
        items.append(item)
    order_bulk_upsert(items=items)
    system = Actor.system("bench")
    orders = {
        o.external_id: o for o in Order.objects.filter(external_id__startswith=f"TB-{fleet}-")
    }
    for n in range(parcels):
        order = orders[f"TB-{fleet}-{n}"]
        if n % 20 == 3:
            case_open(
                marketplace=marketplace,
                order=order,
                kind="late_shipment",
                actor=system,
                door=Door.COMMAND,
                opened_at=placed + dt.timedelta(days=2),
            )
        elif n % 50 == 7:
            case, _ = case_open(
                marketplace=marketplace,
                order=order,
                kind="interception",
                actor=system,
                door=Door.COMMAND,
                opened_at=placed + dt.timedelta(days=2),
            )
            case_transition(
                case=case,
                transition="request_interception",
                actor=system,
                door=Door.COMMAND,
                occurred_at=placed + dt.timedelta(days=2, hours=1),
            )
    scans = []
    for n in range(parcels):
        start = placed + dt.timedelta(days=3, minutes=n)
        statuses = ["picked_up", "in_transit", "out_for_delivery", "delivered"]
        if n % 50 == 11:  # held at customs now: a case opens, the clearance e-mail is queued
            statuses = ["picked_up", "in_transit", "in_transit", "in_transit", "customs_hold"]
        elif n % 50 == 23:  # held and cleared since: nothing to open
            statuses = ["picked_up", "customs_hold", "in_transit", "customs_cleared", "delivered"]
        elif n % 50 == 7:
            statuses = ["picked_up", "in_transit", "returned_to_sender", "in_transit"]
        while len(statuses) < 5:
            statuses.insert(1, "in_transit")
        for step, status in enumerate(statuses):
            scans.append(
                {
                    "carrier": "SF Express",
                    "tracking_number": f"SF{fleet}-{n:08d}",
                    "carrier_event_id": f"{n}-{step}",
                    "status": status,
                    "occurred_at": (start + dt.timedelta(hours=9 * step)).isoformat(),
                    "location": "深圳转运中心",
                    "raw_text": f"【深圳】快件在途 {status}",
                }
            )
    return scans, items


RAW_COLUMNS = (
    "carrier",
    "tracking_number",
    "carrier_event_id",
    "status",
    "occurred_at",
    "location",
    "raw_text",
    "received_at",
    "import_batch",
)


def raw_table() -> str:
    """A scratch table shaped like the scans' table: same columns, unique key and indexes."""
    from django.db import connection

    from cases.models import TrackingEvent

    table = TrackingEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE bench_raw_scans (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(
                "CREATE TABLE bench_raw_scans (id INTEGER PRIMARY KEY AUTOINCREMENT, carrier "
                "varchar(64), tracking_number varchar(64), carrier_event_id varchar(128), status "
                "varchar(24), occurred_at datetime, location varchar(200), raw_text text, "
                "shipment_id bigint, received_at datetime, import_batch char(32), "
                "UNIQUE (carrier, tracking_number, carrier_event_id))"
            )
    return "bench_raw_scans"


def raw_import(body: str, how: str) -> int:
    """The driver alone: parse the body, write its rows (COPY or executemany), commit."""
    import uuid

    from django.db import connection
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    now, batch = timezone.now(), uuid.uuid4()
    if connection.vendor != "postgresql":
        now = now.isoformat()  # type: ignore[assignment]
        batch = batch.hex  # type: ignore[assignment]
    rows = [
        (
            scan["carrier"],
            scan["tracking_number"],
            scan["carrier_event_id"],
            scan["status"],
            parse_datetime(scan["occurred_at"]),
            scan["location"],
            scan["raw_text"],
            now,
            batch,
        )
        for scan in json.loads(body)
    ]
    columns = ", ".join(RAW_COLUMNS)
    cursor = connection.connection.cursor()
    with connection.connection.transaction() if connection.vendor == "postgresql" else _noop():
        if how == "copy":
            with cursor.copy(f"COPY bench_raw_scans ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(
                ["%s" if connection.vendor == "postgresql" else "?"] * len(RAW_COLUMNS)
            )
            cursor.executemany(f"INSERT INTO bench_raw_scans ({columns}) VALUES ({marks})", rows)
    if connection.vendor != "postgresql":
        connection.connection.commit()
    cursor.execute("DELETE FROM bench_raw_scans")
    if connection.vendor != "postgresql":
        connection.connection.commit()
    return len(rows)


class _noop:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def p50(durations: list[float]) -> float:
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5, help="first imports timed (p50)")
    parser.add_argument("--profile", action="store_true", help="profile the first round")
    parser.add_argument(
        "--queries", action="store_true", help="count the first round's queries by statement"
    )
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    vendor = setup_django(keep=False)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from api.models import ApiClient
    from cases.models import Case, CaseEvent, TrackingEvent
    from cases.services.tracking import tracking_events_import
    from marketplaces.models import Marketplace

    setup_test_environment()
    now = timezone.now()
    parcels = args.events // 5
    started = time.perf_counter()
    fleets = [build(parcels, now, fleet)[0][: args.events] for fleet in range(args.rounds)]
    print(
        f"{vendor}: {args.rounds} rounds of {len(fleets[0]):,} scans of {parcels:,} parcels "
        f"(built in {time.perf_counter() - started:.0f} s)"
    )
    client = ApiClient(name="bench")
    key = client.set_new_key()
    client.save()
    client.marketplaces.set(Marketplace.objects.filter(code="tmall"))
    http = Client(HTTP_AUTHORIZATION=f"Token {key}")
    raw_table()

    def post(body: str) -> dict:
        response = http.post("/api/v1/tracking-events/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:2000]
        return response.json()

    # Warm-up: the first request of a process imports modules and fills caches (a running
    # server has done that long before); one scan of a parcel nobody knows.
    scans = fleets[0]
    post(json.dumps([{**scans[0], "tracking_number": "WARM-UP", "carrier_event_id": "w"}]))
    raw_import(json.dumps(scans[:10]), "copy" if vendor == "postgresql" else "many")

    counted: list[str] = []

    def count(run, sql, *rest):
        counted.append(sql)
        return run(sql, *rest)

    firsts: list[float] = []
    cpus: list[float] = []
    replays: list[float] = []
    raw: dict[str, list[float]] = {"copy": [], "many": []}
    for fleet, scans in enumerate(fleets):
        body = json.dumps(scans)
        events_before = CaseEvent.objects.count()
        profiler = None
        if fleet == 0 and args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        # Query capture (a debug cursor) only when asked: it costs time of its own.
        capture = args.queries and fleet == 0
        counted.clear()
        with (
            CaptureQueriesContext(connection) if capture else contextlib.nullcontext() as queries,
            connection.execute_wrapper(count),
        ):
            started, cpu = time.perf_counter(), time.process_time()
            result = post(body)
            firsts.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        if fleet == 0:
            print(f"  round 0: {result}, {len(counted)} queries")
            if queries is not None:
                print_queries(queries.captured_queries)
            shipped = Case.objects.filter(kind="late_shipment", state="shipped").count()
            intercepted = Case.objects.filter(kind="interception", state="intercepted").count()
            customs = Case.objects.filter(kind="customs_delay").values_list("state", flat=True)
            print(
                f"    cases: {shipped} late shipments shipped, {intercepted} interceptions "
                f"intercepted, {len(customs)} customs cases ({', '.join(sorted(set(customs)))}); "
                f"{CaseEvent.objects.count() - events_before} case events written"
            )
        started = time.perf_counter()
        again = post(body)
        replays.append(time.perf_counter() - started)
        assert again["created"] == 0, again
        for how in ("copy", "many") if vendor == "postgresql" else ("many",):
            started = time.perf_counter()
            raw_import(body, how)
            raw[how].append(time.perf_counter() - started)

    def line(label: str, durations: list[float]) -> str:
        return (
            f"  {label:<34} p50 {p50(durations) * 1000:8.0f} ms   min {min(durations) * 1000:6.0f}"
            f"   max {max(durations) * 1000:6.0f} ms  (n={len(durations)})"
        )

    print(line("first import (API)", firsts))
    print(f"    this process's CPU: p50 {p50(cpus) * 1000:.0f} ms")
    print(line("replay (API)", replays))
    baseline = raw["copy"] or raw["many"]
    if raw["copy"]:
        print(line("raw: json.loads + COPY", raw["copy"]))
    print(line("raw: json.loads + executemany", raw["many"]))
    print(f"  ratio first import / raw: {p50(firsts) / p50(baseline):.1f}x")

    # The service alone, on a fresh set of scans (new ids for the same parcels).
    from django.utils.dateparse import parse_datetime

    fresh = [
        {
            **scan,
            "carrier_event_id": f"b-{scan['carrier_event_id']}",
            "occurred_at": parse_datetime(scan["occurred_at"]) + dt.timedelta(minutes=1),
        }
        for scan in fleets[0]
    ]
    started = time.perf_counter()
    tracking_events_import(items=fresh)
    service = time.perf_counter() - started
    print(f"  service alone:       {service * 1000:8.0f} ms  (5 new scans a parcel again)")
    print(f"  stored scans: {TrackingEvent.objects.count():,}")
    verdict = "OK" if p50(firsts) < TARGET_SECONDS else "TOO SLOW"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"first import p50 {p50(firsts):.2f} s, target under {TARGET_SECONDS:.0f} s: {verdict} "
        f"(load average {load:.1f} on {os.cpu_count()} cores)"
    )


def print_queries(captured: list[dict]) -> None:
    """The statements of a request, grouped by their first words, the costliest first."""
    import re
    from collections import defaultdict

    groups: dict[str, list[float]] = defaultdict(list)
    for query in captured:
        groups[re.sub(r"\d+", "N", query["sql"][:90])].append(float(query["time"]))
    for sql, times in sorted(groups.items(), key=lambda item: -sum(item[1]))[:25]:
        print(f"    {len(times):4d} x {sum(times) * 1000:7.1f} ms  {sql}")


if __name__ == "__main__":
    main()
