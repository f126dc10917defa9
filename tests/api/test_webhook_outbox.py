"""The webhook outbox: a case write records one row per event and names no subscription; the
worker expands it into deliveries for the subscriptions live at that moment. Whatever a client
does to its subscriptions, no other client's write fails (PostgreSQL, real HTTP, threads).
A client holds at most ``API_WEBHOOK_MAX_SUBSCRIPTIONS`` subscriptions."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from api.models import (
    ApiClient,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from api.tasks import deliver_due_webhooks
from api.webhooks.delivery import delivery_attempt, due_delivery_ids
from api.webhooks.events import EVENT_TYPES
from api.webhooks.outbox import outbox_drain, outbox_expand
from cases.models import Case, CaseEvent
from tests.api.conftest import make_client, order
from tests.api.test_auth import assert_problem
from tests.api.test_live import Http
from tests.api.test_webhooks import Receiver, subscribe
from tests.factories import open_case

# -- the outbox ---------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.mark.django_db
def test_a_case_write_records_one_row_per_event_whatever_the_subscriptions(
    api, receiver, system_actor, django_assert_num_queries
):
    for n in range(5):
        subscribe(api, f"{receiver.url}/{n}", ["*"])
    # given five subscriptions, the write records one outbox row and no delivery
    open_case("cancellation", actor=system_actor)
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().expanded_at is None
    assert not WebhookDelivery.objects.exists()
    # when the worker expands it: one delivery per subscription, the row leaves the outbox
    expanded, delivery_ids = outbox_expand()
    assert expanded == 1 and len(delivery_ids) == 5
    assert WebhookEvent.objects.get().expanded_at is not None
    assert set(WebhookDelivery.objects.values_list("subscription__url", flat=True)) == {
        f"{receiver.url}/{n}" for n in range(5)
    }
    # expanding again does nothing
    assert outbox_expand() == (0, [])
    assert WebhookDelivery.objects.count() == 5


@pytest.mark.django_db
def test_only_a_live_subscription_of_the_cases_marketplace_puts_its_events_in_the_outbox(
    system_actor,
):
    # given subscriptions that cannot want Tmall's events: inactive, of a revoked client, of
    # a client on JD only
    idle, _key = make_client("idle", ["tmall"])
    WebhookSubscription.objects.create(client=idle, url="https://idle.example/", is_active=False)
    gone, _key = make_client("gone", ["tmall"], revoked_at=timezone.now())
    WebhookSubscription.objects.create(client=gone, url="https://gone.example/")
    elsewhere, _key = make_client("elsewhere", ["jd"])
    WebhookSubscription.objects.create(client=elsewhere, url="https://jd.example/")
    # when a Tmall case is opened: no outbox row; a JD case: one
    open_case("cancellation", actor=system_actor, marketplace="tmall")
    assert not WebhookEvent.objects.exists()
    open_case("cancellation", actor=system_actor, marketplace="jd")
    assert WebhookEvent.objects.count() == 1
    # and once a live client of Tmall subscribes, Tmall's events are recorded too
    live, _key = make_client("live", ["tmall", "jd"])
    WebhookSubscription.objects.create(client=live, url="https://live.example/")
    open_case("cancellation", actor=system_actor, marketplace="tmall")
    assert WebhookEvent.objects.filter(case__marketplace__code="tmall").count() == 1


@pytest.mark.django_db
def test_deliveries_go_to_the_subscriptions_live_when_the_worker_expands(
    api, receiver, system_actor
):
    kept = subscribe(api, f"{receiver.url}/kept", ["*"])
    dropped = subscribe(api, f"{receiver.url}/dropped", ["*"])
    paused = subscribe(api, f"{receiver.url}/paused", ["*"])
    case = open_case("cancellation", actor=system_actor)
    # between the write and the expansion, one subscription is deleted, one paused, one added
    assert api.delete(f"/api/v1/webhooks/{dropped['id']}/").status_code == 204
    api.patch(f"/api/v1/webhooks/{paused['id']}/", {"is_active": False}, format="json")
    added = subscribe(api, f"{receiver.url}/added", ["case.created"])
    outbox_drain()
    assert sorted(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == sorted(
        [kept["id"], added["id"]]
    )
    assert set(WebhookDelivery.objects.values_list("event__case", flat=True)) == {case.pk}


@pytest.mark.django_db
def test_the_periodic_catch_up_expands_what_the_queue_lost(api, receiver, system_actor):
    # given events whose expansion task never ran (the queue dropped it)
    subscribe(api, receiver.url, ["case.created"])
    receiver.start()
    cases = [open_case("cancellation", actor=system_actor) for _ in range(3)]
    assert WebhookEvent.objects.filter(expanded_at__isnull=True).count() == 3
    # when the periodic task runs (every minute), they are expanded and sent
    deliver_due_webhooks()
    assert not WebhookEvent.objects.filter(expanded_at__isnull=True).exists()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    received = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert (
        received == {str(e.event_id) for e in WebhookEvent.objects.filter(case__in=cases)}
        and len(receiver.requests) == 3
    )


@pytest.mark.django_db
def test_a_delivery_whose_subscription_vanished_is_dropped_not_sent(api, receiver, system_actor):
    subscription = subscribe(api, receiver.url, ["*"])
    receiver.start()
    open_case("cancellation", actor=system_actor)
    outbox_drain()
    delivery = WebhookDelivery.objects.get()
    # the race the missing constraint allows: the subscription deleted under a fresh delivery
    # (a plain SQL delete, as if it happened between the expansion's read and its insert)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {WebhookSubscription._meta.db_table} WHERE id = %s",
            [subscription["id"]],
        )
    assert delivery_attempt(delivery.pk) is None
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


@pytest.mark.django_db
def test_deleting_a_subscription_deletes_its_deliveries(api, receiver, system_actor):
    subscription = subscribe(api, receiver.url, ["*"])
    open_case("cancellation", actor=system_actor)
    outbox_drain()
    assert WebhookDelivery.objects.count() == 1
    assert api.delete(f"/api/v1/webhooks/{subscription['id']}/").status_code == 204
    assert not WebhookDelivery.objects.exists()
    assert WebhookEvent.objects.count() == 1  # the event itself stays (other clients' log)


# -- the limit ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_client_holds_at_most_the_configured_number_of_subscriptions(api, jd_api, settings):
    settings.API_WEBHOOK_MAX_SUBSCRIPTIONS = 3
    created = [subscribe(api, f"https://hooks.example.com/{n}", ["*"]) for n in range(3)]
    # the fourth is refused, clearly, and nothing is written
    body = assert_problem(
        api.post(
            "/api/v1/webhooks/",
            {"url": "https://hooks.example.com/4", "event_types": ["*"]},
            format="json",
        ),
        409,
        "too_many_subscriptions",
    )
    assert body["detail"] == (
        "A client may have at most 3 webhook subscriptions and this one has 3. Delete one you "
        "no longer use (or subscribe one URL to several event types) first."
    )
    assert WebhookSubscription.objects.count() == 3
    # a paused subscription still counts; another client has its own limit
    api.patch(f"/api/v1/webhooks/{created[0]['id']}/", {"is_active": False}, format="json")
    assert (
        api.post(
            "/api/v1/webhooks/", {"url": "https://h.example.com/5", "event_types": ["*"]}
        ).status_code
        == 409
    )
    subscribe(jd_api, "https://hooks.example.com/jd", ["*"])
    # deleting one frees its place
    assert api.delete(f"/api/v1/webhooks/{created[0]['id']}/").status_code == 204
    subscribe(api, "https://hooks.example.com/6", ["*"])
    assert WebhookSubscription.objects.filter(client__name="erp").count() == 3


@pytest.mark.django_db
def test_the_default_limit_is_twenty(api, settings):
    assert settings.API_WEBHOOK_MAX_SUBSCRIPTIONS == 20
    for n in range(20):
        subscribe(api, f"https://hooks.example.com/{n}", ["*"])
    response = api.post(
        "/api/v1/webhooks/", {"url": "https://hooks.example.com/x", "event_types": ["*"]}
    )
    assert_problem(response, 409, "too_many_subscriptions")


@pytest.mark.django_db
def test_the_admin_keeps_the_limit_too(admin_client, settings):
    settings.API_WEBHOOK_MAX_SUBSCRIPTIONS = 2
    client, _key = make_client("erp", ["tmall"])
    for n in range(2):
        WebhookSubscription.objects.create(
            client=client, url=f"https://hooks.example.com/{n}", event_types=["*"]
        )
    # the subscription's own page
    response = admin_client.post(
        "/admin/api/webhooksubscription/add/",
        {
            "client": client.pk,
            "url": "https://hooks.example.com/3",
            "event_types": '["*"]',
            "is_active": "on",
            "secret": "whsec_AAAA",
        },
    )
    assert response.status_code == 200
    assert "at most 2 webhook subscriptions" in response.content.decode()
    # the client's page, adding two rows at once to a client that has none
    other, _ = make_client("other", ["tmall"])
    prefix = "webhook_subscriptions"
    data = {
        "name": "other",
        "marketplaces": [m.pk for m in other.marketplaces.all()],
        "notes": "",
        "throttle_rate": "",
        f"{prefix}-TOTAL_FORMS": "3",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n in range(3):
        data |= {
            f"{prefix}-{n}-url": f"https://hooks.example.com/o{n}",
            f"{prefix}-{n}-event_types": '["*"]',
            f"{prefix}-{n}-is_active": "on",
        }
    response = admin_client.post(f"/admin/api/apiclient/{other.pk}/change/", data)
    assert response.status_code == 200
    assert "at most 2 webhook subscriptions (3 given)" in response.content.decode()
    assert not WebhookSubscription.objects.filter(client=other).exists()


# -- churn during writes (PostgreSQL, real HTTP, threads) ----------------------------------------

WRITES = 30


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_subscription_churn_of_one_client_never_fails_another_clients_writes(
    live_server, receiver, monkeypatch
):
    from django_q.conf import Conf

    # A real deployment: tasks go to the queue, a separate worker runs them (here a thread).
    monkeypatch.setattr(Conf, "SYNC", False)
    receiver.start()
    churner_client, churner_key = make_client("churner", ["tmall"])
    writer_client, writer_key = make_client("writer", ["tmall"])
    churner, writer = Http(live_server.url, churner_key), Http(live_server.url, writer_key)
    status, body = writer.json(
        "POST", "/api/v1/webhooks/", {"url": f"{receiver.url}/writer", "event_types": ["*"]}
    )
    assert status == 201, body
    writer_subscription = body["id"]
    for n in range(WRITES):
        order(f"O-CHURN-{n}")
    done = threading.Event()
    churn_statuses: list[int] = []
    write_statuses: list[tuple[str, int, str]] = []
    worker_errors: list[str] = []

    def churn() -> None:
        # create, pause, delete, as fast as the server answers, until the writes are done
        try:
            while not done.is_set():
                status, body = churner.json(
                    "POST",
                    "/api/v1/webhooks/",
                    {"url": f"{receiver.url}/churn", "event_types": ["*"]},
                )
                churn_statuses.append(status)
                if status != 201:
                    continue
                url = f"/api/v1/webhooks/{body['id']}/"
                churn_statuses.append(churner.json("PATCH", url, {"is_active": False})[0])
                churn_statuses.append(churner.json("PATCH", url, {"is_active": True})[0])
                churn_statuses.append(churner.call("DELETE", url)[0])
        finally:
            connection.close()

    def work() -> None:
        # the worker: expand the outbox and send what is due, in a loop
        try:
            while not done.is_set():
                try:
                    outbox_drain()
                    for delivery_id in due_delivery_ids():
                        delivery_attempt(delivery_id)
                except Exception as error:
                    worker_errors.append(repr(error))
                time.sleep(0.01)
        finally:
            connection.close()

    def write() -> None:
        try:
            for n in range(WRITES):
                status, body = writer.json(
                    "POST",
                    "/api/v1/cases/",
                    {"marketplace": "tmall", "order": f"O-CHURN-{n}", "kind": "cancellation"},
                )
                write_statuses.append(("create", status, body.get("code", "")))
                if status != 201:
                    continue
                status, body = writer.json(
                    "POST",
                    f"/api/v1/cases/{body['reference']}/transitions/",
                    {"transition": "request_refund"},
                )
                write_statuses.append(("transition", status, body.get("code", "")))
        finally:
            done.set()
            connection.close()

    threads = [threading.Thread(target=target) for target in (churn, work, write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    # then the writer got no error at all, nor did the churner
    assert [s for s in write_statuses if s[1] not in {200, 201}] == []
    assert len(write_statuses) == 2 * WRITES
    assert [s for s in churn_statuses if s not in {200, 201, 204}] == []
    assert churn_statuses.count(204) >= 10, "the churn really ran during the writes"
    assert worker_errors == []

    # and once the worker has caught up, every event of the writer's cases reached its URL
    outbox_drain()
    for _ in range(5):
        for delivery_id in due_delivery_ids(now=timezone.now()):
            delivery_attempt(delivery_id)
    cases = Case.objects.filter(order__external_id__startswith="O-CHURN-")
    assert cases.count() == WRITES
    events = CaseEvent.objects.filter(case__in=cases, event_type__in=list(EVENT_TYPES))
    webhook_events = WebhookEvent.objects.filter(case__in=cases)
    assert webhook_events.count() == events.count() >= 2 * WRITES
    assert set(webhook_events.values_list("case_event", flat=True)) == set(
        events.values_list("pk", flat=True)
    )
    to_writer = WebhookDelivery.objects.filter(subscription_id=writer_subscription)
    assert to_writer.count() == webhook_events.count()
    assert set(to_writer.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    received = {
        headers["webhook-id"]
        for headers, _body in receiver.requests
        if headers.get("aftersales-delivery")
        in {str(pk) for pk in to_writer.values_list("pk", flat=True)}
    }
    assert received == {str(e) for e in webhook_events.values_list("event_id", flat=True)}
    assert ApiClient.objects.filter(pk__in=[churner_client.pk, writer_client.pk]).count() == 2
