"""Benchmark of the carrier-scan import: 5,000 scans in one request, target under 2 s on
PostgreSQL, then the same list again (a replay: nothing written).

    scripts/with-postgres .venv/bin/python bench/tracking_bench.py
    .venv/bin/python bench/tracking_bench.py --events 10000      # SQLite (a temporary file)

The scans are those of 1,000 parcels (``--events`` / 5 each: pickup, transit, out for delivery,
delivered, with a customs hold and clearance for 2 % of them), 5 % of the parcels unknown yet
(kept for later), on orders of which 5 % have an open late-shipment case (the first scan ships
it) and 2 % an interception under way. Timed through the API (``POST /api/v1/tracking-events/``
with Django's test client: JSON parsing, validation, the service) and the service alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_bench import setup_django  # noqa: E402

TARGET_SECONDS = 2.0


def build(parcels: int, now: dt.datetime) -> tuple[list[dict], list[dict]]:
    """Orders with their shipments and cases; returns the scans (as JSON) of every parcel."""
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
            "external_id": f"TB-{n}",
            "placed_at": placed,
            "promised_ship_date": (placed + dt.timedelta(days=1)).date(),
            "customer_name": f"客户 {n}",
            "customer_email": f"c{n}@example.com",
        }
        if n % 20 != 19:  # 5 % of the parcels are not known yet
            item["shipments"] = [{"carrier": "SF Express", "tracking_number": f"SF{n:08d}"}]
        items.append(item)
    order_bulk_upsert(items=items)
    system = Actor.system("bench")
    orders = {o.external_id: o for o in Order.objects.filter(external_id__startswith="TB-")}
    for n in range(parcels):
        order = orders[f"TB-{n}"]
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
                    "tracking_number": f"SF{n:08d}",
                    "carrier_event_id": f"{n}-{step}",
                    "status": status,
                    "occurred_at": (start + dt.timedelta(hours=9 * step)).isoformat(),
                    "location": "深圳转运中心",
                    "raw_text": f"【深圳】快件在途 {status}",
                }
            )
    return scans, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--profile", action="store_true", help="profile the first import")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    vendor = setup_django(keep=False)

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from api.models import ApiClient
    from cases.models import Case, CaseEvent, TrackingEvent
    from cases.services.tracking import tracking_events_import
    from marketplaces.models import Marketplace

    setup_test_environment()
    now = timezone.now()
    parcels = args.events // 5
    scans, _items = build(parcels, now)
    scans = scans[: args.events]
    client = ApiClient(name="bench")
    key = client.set_new_key()
    client.save()
    client.marketplaces.set(Marketplace.objects.filter(code="tmall"))
    http = Client(HTTP_AUTHORIZATION=f"Token {key}")
    body = json.dumps(scans)
    print(f"{vendor}: {len(scans):,} scans of {parcels:,} parcels")

    # Warm-up: the first request of a process imports modules and fills caches (a running
    # server has done that long before); one scan of a parcel nobody knows.
    warm = [{**scans[0], "tracking_number": "WARM-UP", "carrier_event_id": "w"}]
    http.post("/api/v1/tracking-events/", json.dumps(warm), content_type="application/json")
    events_before = CaseEvent.objects.count()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    response = http.post("/api/v1/tracking-events/", body, content_type="application/json")
    first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    assert response.status_code == 200, response.content[:2000]
    result = response.json()
    print(
        f"  first import (API):  {first * 1000:8.0f} ms  (this process's CPU "
        f"{first_cpu * 1000:.0f} ms)  {result}"
    )
    shipped = Case.objects.filter(kind="late_shipment", state="shipped").count()
    intercepted = Case.objects.filter(kind="interception", state="intercepted").count()
    customs = Case.objects.filter(kind="customs_delay").values_list("state", flat=True)
    print(
        f"    cases: {shipped} late shipments shipped, {intercepted} interceptions intercepted, "
        f"{len(customs)} customs cases ({', '.join(sorted(set(customs)))}); "
        f"{CaseEvent.objects.count() - events_before} case events written"
    )

    started = time.perf_counter()
    response = http.post("/api/v1/tracking-events/", body, content_type="application/json")
    replay = time.perf_counter() - started
    assert response.status_code == 200 and response.json()["created"] == 0
    print(f"  replay (API):        {replay * 1000:8.0f} ms  {response.json()}")

    # The service alone, on a fresh set of scans (new ids for the same parcels).
    from django.utils.dateparse import parse_datetime

    fresh = [
        {
            **scan,
            "carrier_event_id": f"b-{scan['carrier_event_id']}",
            "occurred_at": parse_datetime(scan["occurred_at"]) + dt.timedelta(minutes=1),
        }
        for scan in scans
    ]
    started = time.perf_counter()
    tracking_events_import(items=fresh)
    service = time.perf_counter() - started
    print(f"  service alone:       {service * 1000:8.0f} ms  (5 new scans a parcel again)")
    print(f"  stored scans: {TrackingEvent.objects.count():,}")
    verdict = "OK" if first < TARGET_SECONDS else "TOO SLOW"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"first import {first:.2f} s, target under {TARGET_SECONDS:.0f} s: {verdict} "
        f"(load average {load:.1f} on {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
