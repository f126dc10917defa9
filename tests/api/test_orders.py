"""POST /api/v1/orders/ (bulk upsert, all or nothing) and GET /api/v1/orders/."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases.models import Case, Order
from cases.services.orders import ORDER_FIELDS
from tests.api.conftest import order
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def item(external_id: str, marketplace: str = "tmall", **fields) -> dict:
    return {
        "marketplace": marketplace,
        "external_id": external_id,
        "placed_at": "2026-01-05T10:00:00+08:00",
        "customer_name": "Wang Fang",
        "total": "99.90",
        "currency": "CNY",
        **fields,
    }


def post(api, items, **extra):
    return api.post("/api/v1/orders/", items, format="json", **extra)


def test_new_orders_are_created_and_counted(api):
    response = post(api, [item("A-1"), item("A-2", "amazon_fr", currency="EUR")])
    assert response.status_code == 200, response.content
    assert response.json() == {
        "received": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "cases_recomputed": 0,
    }
    stored = Order.objects.get(marketplace__code="tmall", external_id="A-1")
    assert stored.placed_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    assert stored.total == Decimal("99.90")
    assert Order.objects.get(marketplace__code="amazon_fr", external_id="A-2").currency == "EUR"


def test_upsert_updates_only_what_changed_and_keeps_what_was_left_out(api):
    post(api, [item("A-1"), item("A-2")])
    response = post(
        api,
        [
            {"marketplace": "tmall", "external_id": "A-1", "customer_name": "Zhang Wei"},
            {"marketplace": "tmall", "external_id": "A-2", "total": "99.90"},  # same value
            item("A-3"),
        ],
    )
    assert response.json() == {
        "received": 3,
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "cases_recomputed": 0,
    }
    first = Order.objects.get(external_id="A-1")
    assert first.customer_name == "Zhang Wei"
    assert first.total == Decimal("99.90")  # left out: kept
    assert first.placed_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    assert Order.objects.count() == 3


def test_one_bad_item_refuses_the_whole_batch_with_every_error_by_index(api):
    order("EXISTING", customer_name="Kept")
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    batch = [
        item("OK-1"),
        item("BAD-EMAIL", customer_email="not-an-e-mail"),
        {"marketplace": "tmall", "external_id": "NEW-NO-DATE"},
        item("NAIVE", placed_at="2026-01-05T10:00:00"),
        item("FUTURE", shipped_at=future),
        item("ELSEWHERE", marketplace="jd"),
        item("NEGATIVE", total="-1"),
        {"marketplace": "tmall", "external_id": "EXISTING", "customer_name": "Changed"},
    ]
    response = post(api, batch)
    body = assert_problem(response, 400, "invalid")
    problems = {(e["index"], e["field"]) for e in body["errors"]}
    assert (1, "customer_email") in problems
    assert (3, "placed_at") in problems
    assert (5, "marketplace") in problems
    assert (6, "total") in problems
    naive = next(e for e in body["errors"] if e["index"] == 3)
    assert "offset" in naive["detail"]
    assert naive["pointer"] == "/3/placed_at"
    # nothing was written
    assert not Order.objects.filter(external_id="OK-1").exists()
    assert Order.objects.get(external_id="EXISTING").customer_name == "Kept"


def test_service_rules_refuse_the_batch_too(api):
    # Shape is fine, but a new order needs placed_at, nothing happens in the future and an
    # order appears once per list: the service's checks, by index.
    future = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    response = post(
        api,
        [
            item("OK-1"),
            {"marketplace": "tmall", "external_id": "NEW-NO-DATE", "total": "1.00"},
            item("FUTURE", shipped_at=future),
            item("OK-1", customer_name="twice"),
        ],
    )
    body = assert_problem(response, 400, "invalid_value")
    problems = {(e["index"], e["field"], e["code"]) for e in body["errors"]}
    assert problems == {
        (1, "placed_at", "required"),
        (2, "shipped_at", "occurred_in_future"),
        (3, "external_id", "duplicate"),
    }
    assert "nothing was imported" in body["detail"]
    assert not Order.objects.filter(external_id="OK-1").exists()


def test_limits_of_a_batch(api, settings):
    assert_problem(post(api, []), 400, "invalid")
    assert_problem(post(api, {"marketplace": "tmall"}), 400, "invalid")
    too_many = [{"marketplace": "tmall", "external_id": str(i)} for i in range(10_001)]
    body = assert_problem(post(api, too_many), 400, "invalid")
    assert "10000" in body["detail"] or "10,000" in body["detail"]
    settings.API_MAX_JSON_BYTES = 500
    assert_problem(post(api, [item(f"O-{i}") for i in range(10)]), 413, "request_too_large")
    assert not Order.objects.exists()


def test_a_ship_date_change_recomputes_open_late_shipment_deadlines(api, system_actor):
    # given a late-shipment case whose supplier deadlines come from the promised ship date
    promised = (timezone.now() - dt.timedelta(days=1)).date()
    late = order("LATE-1", promised_ship_date=promised)
    case = open_case(
        "late_shipment",
        actor=system_actor,
        order=late,
        opened_at=timezone.now() - dt.timedelta(hours=2),
    )
    before = case.supplier_contact_due_at
    # when the marketplace says the ship date moved two days later
    new_date = promised + dt.timedelta(days=2)
    response = post(
        api,
        [{"marketplace": "tmall", "external_id": "LATE-1", "promised_ship_date": str(new_date)}],
    )
    # then the case's deadlines moved with it
    assert response.json()["cases_recomputed"] == 1
    case = Case.objects.get(pk=case.pk)
    assert case.supplier_contact_due_at == before + dt.timedelta(days=2)
    assert case.supplier_contact_due_at == Order.objects.get(pk=late.pk).late_since(2)
    assert case.supplier_switch_due_at == Order.objects.get(pk=late.pk).late_since(4)


def test_every_order_field_is_accepted_and_shown(api):
    post(api, [item("A-1", carrier="SF Express", tracking_number="SF123")])
    shown = api.get("/api/v1/orders/").json()["results"][0]
    assert set(ORDER_FIELDS) <= set(shown)
    assert shown["carrier"] == "SF Express"
    assert shown["marketplace"] == "tmall"


def test_list_filters_cursor_and_fixed_query_count(api, django_assert_num_queries):
    post(
        api,
        [item(f"L-{i:02}", placed_at=f"2026-01-{i + 1:02}T00:00:00Z") for i in range(12)]
        + [item("AMZ", "amazon_fr")],
    )
    api.get("/api/v1/orders/")  # warm: the client's "last used" write happens at most once a minute
    seen = []
    url = "/api/v1/orders/?marketplace=tmall&page_size=5&ordering=placed_at"
    while url:
        with django_assert_num_queries(2):  # the client with its marketplaces, the page
            page = api.get(url).json()
        seen += [row["external_id"] for row in page["results"]]
        url = page["next"]
    assert seen == [f"L-{i:02}" for i in range(12)]
    after = api.get("/api/v1/orders/?placed_after=2026-01-10T00:00:00Z&marketplace=tmall").json()
    assert {row["external_id"] for row in after["results"]} == {"L-09", "L-10", "L-11"}
    one = api.get("/api/v1/orders/?external_id=AMZ").json()["results"]
    assert [row["marketplace"] for row in one] == ["amazon_fr"]
    assert_problem(api.get("/api/v1/orders/?placed_after=yesterday"), 400, "invalid")


def test_an_order_created_by_another_request_meanwhile_keeps_what_that_request_wrote(
    api, monkeypatch
):
    """Found in review: a new order inserted while another request created the same one
    overwrote every field with this batch's defaults. It now updates only the fields it gave."""
    import cases.services.orders_bulk as bulk

    order("RACE-1", customer_name="Li Wei", customer_email="li.wei@example.com")
    real_lock = bulk._lock_existing
    calls = []

    def not_there_yet(keys):  # the first read ran before the other request committed
        calls.append(keys)
        return {} if len(calls) == 1 else real_lock(keys)

    monkeypatch.setattr(bulk, "_lock_existing", not_there_yet)
    response = post(api, [{**item("RACE-1"), "customer_name": "Zhang Wei"}])

    assert response.status_code == 200, response.content
    assert response.json()["created"] == 0 and response.json()["updated"] == 1
    stored = Order.objects.get(external_id="RACE-1")
    assert stored.customer_name == "Zhang Wei"  # what this batch gave
    assert stored.customer_email == "li.wei@example.com"  # not given: kept
    assert stored.total == Decimal("99.90") and stored.currency == "CNY"
    assert Order.objects.filter(external_id="RACE-1").count() == 1
