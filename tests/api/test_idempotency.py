"""Idempotency-Key: any POST can be retried safely."""

import threading

import pytest
from django.db import connection

from api.models import IdempotencyKey
from cases.models import Case, CaseEvent, Order
from tests.api.conftest import http, make_client, order
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def post(api, url, body, key, **extra):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retried_case_creation_answers_the_first_result(api):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"}  # no external id
    first = post(api, "/api/v1/cases/", body, "key-1")
    again = post(api, "/api/v1/cases/", body, "key-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1
    # a new key is a new request
    assert post(api, "/api/v1/cases/", body, "key-2").status_code == 201
    assert Case.objects.count() == 2


def test_a_retried_transition_is_not_a_409(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    url = f"/api/v1/cases/{case.reference}/transitions/"
    first = post(api, url, {"transition": "request_refund"}, "t-1")
    again = post(api, url, {"transition": "request_refund"}, "t-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    assert CaseEvent.objects.filter(case=case, event_type="transition").count() == 1
    # without the key the same request is, rightly, a conflict
    assert_problem(
        api.post(url, {"transition": "request_refund"}, format="json"),
        409,
        "transition_not_available",
    )


def test_a_retried_import_answers_the_first_counts(api):
    items = [{"marketplace": "tmall", "external_id": "A", "placed_at": "2026-01-01T00:00:00Z"}]
    first = post(api, "/api/v1/orders/", items, "import-7")
    again = post(api, "/api/v1/orders/", items, "import-7")
    assert first.json()["created"] == again.json()["created"] == 1
    assert Order.objects.count() == 1


def test_an_error_answer_is_replayed_too(api):
    body = {"marketplace": "tmall", "order": "MISSING", "kind": "cancellation"}
    first = post(api, "/api/v1/cases/", body, "bad-1")
    order("MISSING")
    again = post(api, "/api/v1/cases/", body, "bad-1")
    assert first.status_code == again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"
    assert again.json() == first.json()
    assert not Case.objects.exists()


def test_the_same_key_for_another_request_is_422(api):
    order("O-1")
    post(
        api, "/api/v1/cases/", {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"}, "k"
    )
    other = post(
        api, "/api/v1/cases/", {"marketplace": "tmall", "order": "O-1", "kind": "oversized"}, "k"
    )
    body = assert_problem(other, 422, "idempotency_key_reused")
    assert "different request" in body["detail"]
    assert Case.objects.count() == 1


def test_keys_belong_to_one_client(api, db):
    order("O-1")
    _, key = make_client("other", ["tmall"])
    body = {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"}
    assert post(api, "/api/v1/cases/", body, "shared").status_code == 201
    assert post(http(key), "/api/v1/cases/", body, "shared").status_code == 201
    assert Case.objects.count() == 2


def test_invalid_keys_are_refused(api):
    assert_problem(post(api, "/api/v1/orders/", [], "x" * 256), 400, "invalid")
    assert not IdempotencyKey.objects.exists()


def test_a_server_error_does_not_keep_the_key(api, monkeypatch):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"}

    def crash(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("api.views.cases.case_open", crash)
    assert_problem(post(api, "/api/v1/cases/", body, "k-500"), 500, "server_error")
    assert not IdempotencyKey.objects.exists()
    monkeypatch.undo()
    assert post(api, "/api/v1/cases/", body, "k-500").status_code == 201


def test_expired_keys_are_forgotten(api, settings):
    from api.idempotency import purge_expired

    order("O-1")
    settings.API_IDEMPOTENCY_SECONDS = 0
    body = {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"}
    post(api, "/api/v1/cases/", body, "old")
    assert purge_expired() == 1
    assert post(api, "/api/v1/cases/", body, "old").status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_do_the_work_once():
    order("O-1")
    _, key = make_client("racer", ["tmall"])
    barrier = threading.Barrier(4)
    statuses = []

    def send() -> None:
        api = http(key)
        barrier.wait()
        try:
            response = post(
                api,
                "/api/v1/cases/",
                {"marketplace": "tmall", "order": "O-1", "kind": "cancellation"},
                "race",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 4
    assert Case.objects.count() == 1


def test_answers_echoing_nul_characters_are_stored(api):
    # found by Schemathesis on PostgreSQL, which cannot store U+0000 in text or JSON
    items = [
        {"marketplace": "t\u0000mall", "external_id": "A", "placed_at": "2026-01-01T00:00:00Z"}
    ]
    first = post(api, "/api/v1/orders/", items, "nul-1")
    again = post(api, "/api/v1/orders/", items, "nul-1")
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert_problem(post(api, "/api/v1/ord\u0000ers/", items, "nul-2"), 404, "not_found")
