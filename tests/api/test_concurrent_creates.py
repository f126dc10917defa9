"""Connectors retry and race: the same case or order sent twice at the same moment, without an
Idempotency-Key, gives one row and never a server error (PostgreSQL, real HTTP for cases)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from cases.models import Case, Order
from cases.services import order_upsert
from marketplaces.models import Marketplace
from tests.api.conftest import make_client, order
from tests.api.test_live import Http

PAIRS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_pairs_of_concurrent_case_creations_give_fifty_cases(live_server):
    _client, key = make_client("racing-connector", ["tmall"])
    order("O-RACE")
    http = Http(live_server.url, key)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def create(external_id: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        status, body = http.json(
            "POST",
            "/api/v1/cases/",
            {
                "marketplace": "tmall",
                "order": "O-RACE",
                "kind": "damaged_item",
                "external_id": external_id,
            },
        )
        with lock:
            results.append((status, body.get("reference", body.get("code", ""))))

    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(PAIRS):
            barrier = threading.Barrier(2)
            futures = [pool.submit(create, f"TM-RACE-{n}", barrier) for _ in range(2)]
            for future in futures:
                future.result()
    statuses = sorted(status for status, _ in results)
    assert [s for s in statuses if s >= 500] == []
    assert statuses.count(201) == PAIRS and statuses.count(200) == PAIRS
    assert Case.objects.filter(external_id__startswith="TM-RACE-").count() == PAIRS
    # both callers of a pair got the same case: 100 answers name 50 references
    assert len({reference for _, reference in results}) == PAIRS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_pairs_of_concurrent_order_upserts_give_fifty_orders():
    marketplace = Marketplace.objects.get(code="tmall")
    placed = timezone.now() - dt.timedelta(days=3)
    outcomes: list[object] = []
    lock = threading.Lock()

    def upsert(external_id: str, barrier: threading.Barrier, total: str) -> None:
        barrier.wait()
        try:
            _order, created = order_upsert(
                marketplace=marketplace,
                external_id=external_id,
                placed_at=placed,
                total=total,
                currency="CNY",
            )
            with lock:
                outcomes.append(created)
        except Exception as error:
            with lock:
                outcomes.append(error)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(PAIRS):
            barrier = threading.Barrier(2)
            futures = [
                pool.submit(upsert, f"O-RACE-{n}", barrier, total) for total in ("10.00", "12.00")
            ]
            for future in futures:
                future.result()
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert outcomes.count(True) == PAIRS and outcomes.count(False) == PAIRS
    assert Order.objects.filter(external_id__startswith="O-RACE-").count() == PAIRS
