"""Webhooks: subscriptions, the outbox (rows in the change's transaction, queued on commit),
signed deliveries to a real HTTP receiver on loopback, retries with backoff, replays."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from api.models import (
    ApiClient,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from api.tasks import deliver_due_webhooks
from api.webhooks import signing
from api.webhooks.delivery import backoff, delivery_attempt, due_delivery_ids
from api.webhooks.outbox import outbox_drain
from cases.actors import Actor
from cases.choices import Door
from cases.demo_media import make_photo
from cases.events import DeadlineAtRisk, DeadlineMissed
from cases.kernel import case_action
from cases.services import case_transition
from tests.api.conftest import http, make_client, order
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


# -- a real receiver on loopback ----------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it gets; down until ``start()``."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # nothing listens there yet: connections are refused
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []  # statuses to answer, in order; then 204
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/aftersales"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                # header names are case-insensitive: keep them in lower case
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append((headers, body))
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


def subscribe(api, url: str, events: list[str]) -> dict:
    response = api.post("/api/v1/webhooks/", {"url": url, "event_types": events}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def expand() -> None:
    """What the worker does after the commit (tests run inside one transaction that never
    commits): outbox events become deliveries."""
    outbox_drain()


def drive(clock: dt.datetime) -> list[WebhookAttempt]:
    """The retry step, run with a clock we control instead of waiting for the worker."""
    return [
        attempt
        for delivery_id in due_delivery_ids(now=clock)
        if (attempt := delivery_attempt(delivery_id, now=clock)) is not None
    ]


# -- the whole story ----------------------------------------------------------------------------


def test_receiver_down_then_back_gets_every_event_signed(
    api, tmall_client, receiver, system_actor, django_capture_on_commit_callbacks
):
    # given a subscription to every event, and a JD client's subscription that must get nothing
    secret = subscribe(api, receiver.url, ["*"])["secret"]
    _, jd_key = make_client("jd-erp", ["jd"])
    subscribe(http(jd_key), receiver.url, ["*"])
    order("O-1")
    with django_capture_on_commit_callbacks(execute=True):
        # case.created
        created = api.post(
            "/api/v1/cases/",
            {
                "marketplace": "tmall",
                "order": "O-1",
                "kind": "damaged_item",
                "refund_request": {"amount": "30", "currency": "CNY"},
            },
            format="json",
        ).json()
        reference = created["reference"]
        # case.transitioned
        api.post(
            f"/api/v1/cases/{reference}/transitions/",
            {"transition": "request_evidence"},
            format="json",
        )
        # evidence.added
        api.post(
            f"/api/v1/cases/{reference}/evidence/",
            {"file": SimpleUploadedFile("box.jpg", make_photo("hook"))},
            format="multipart",
        )
        # refund.decided
        refund_id = created["refund_requests"][0]["id"]
        api.post(
            f"/api/v1/cases/{reference}/refund-decisions/",
            {"refund_request": refund_id, "decision": "approved"},
            format="json",
        )
        # deadline.at_risk and deadline.missed, as the deadline sweep records them
        from cases.models import Case

        case = Case.objects.select_related("marketplace", "order").get(reference=reference)
        due = case.response_due_at.isoformat()
        for payload in (DeadlineAtRisk, DeadlineMissed):
            with case_action(case, actor=Actor.system("deadline sweep"), door=Door.JOB) as act:
                act.event(payload(clock="response", due_at=due, business_days_left=0))
    # then each event was tried once, right after its commit, and failed: the receiver is down
    events = WebhookEvent.objects.order_by("pk")
    types = [e.event_type for e in events]
    assert types == [
        "case.created",
        "case.transitioned",
        "evidence.added",
        "refund.decided",  # no transition: a claim awaiting evidence cannot go to refund yet
        "deadline.at_risk",
        "deadline.missed",
    ]
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.count() == events.count()  # the JD subscription got none
    assert all(d.status == DeliveryStatus.PENDING and d.attempt_count == 1 for d in deliveries)
    first_attempts = WebhookAttempt.objects.filter(number=1)
    assert all(a.status_code is None and a.outcome == "retry" for a in first_attempts)
    assert "Connection" in first_attempts[0].error or "refused" in first_attempts[0].error.lower()
    assert receiver.requests == []

    # when it comes back, answering 503 once first
    receiver.answers = [503]
    receiver.start()
    clock = timezone.now()
    for _ in range(10):
        clock += dt.timedelta(minutes=5)
        drive(clock)
        if not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
            break

    # then every event arrived, signed, with its id; the 503 was retried
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    received_ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    expected_ids = {str(e.event_id) for e in events}
    assert set(received_ids) == expected_ids
    assert len(received_ids) == len(expected_ids) + 1  # one of them twice: after the 503
    for headers, body in receiver.requests:
        assert signing.verify(secret, headers, body)
        assert not signing.verify(secret, headers, body + b" ")
        payload = json.loads(body)
        assert payload["id"] == headers["webhook-id"]
        assert payload["type"] == headers["aftersales-event-type"]
        assert payload["data"]["case"]["reference"] == reference
        assert payload["data"]["case"]["marketplace"] == "tmall"
    by_type = {json.loads(b)["type"]: json.loads(b) for _, b in receiver.requests}
    assert by_type["evidence.added"]["data"]["event"]["data"]["name"] == "box.jpg"
    assert by_type["refund.decided"]["data"]["event"]["data"]["decision"] == "approved"
    assert by_type["deadline.missed"]["data"]["event"]["actor"]["name"] == "deadline sweep"
    assert by_type["case.created"]["data"]["event"]["actor"] == {
        "type": "api_client",
        "name": "erp",
    }
    # every attempt is logged
    assert WebhookAttempt.objects.filter(outcome="delivered").count() == len(expected_ids)
    assert WebhookAttempt.objects.filter(status_code=503, outcome="retry").count() == 1


def test_subscriptions_filter_event_types(
    api, receiver, system_actor, django_capture_on_commit_callbacks
):
    subscribe(api, receiver.url, ["case.created"])
    with django_capture_on_commit_callbacks(execute=False):
        case = open_case("cancellation", actor=system_actor)
        case_transition(case=case, transition="request_refund", actor=system_actor, door="command")
    # the outbox has both events; only the wanted one becomes a delivery
    assert sorted(WebhookEvent.objects.values_list("event_type", flat=True)) == [
        "case.created",
        "case.transitioned",
    ]
    expand()
    assert list(WebhookDelivery.objects.values_list("event__event_type", flat=True)) == [
        "case.created"
    ]


def test_outbox_rows_are_written_only_with_the_change(
    api, receiver, system_actor, django_capture_on_commit_callbacks
):
    subscribe(api, receiver.url, ["*"])
    case = open_case("cancellation", actor=system_actor)
    WebhookEvent.objects.all().delete()
    # a refused transition writes nothing and queues nothing
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            f"/api/v1/cases/{case.reference}/transitions/", {"transition": "close"}, format="json"
        )
    assert response.status_code == 409
    assert callbacks == [] and not WebhookEvent.objects.exists()
    # a change rolled back after its event was recorded leaves no row and queues nothing
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        case_transition(case=case, transition="request_refund", actor=system_actor, door="command")
        # one outbox row inside the transaction, and no delivery: no subscription is named
        assert WebhookEvent.objects.count() == 1
        assert not WebhookDelivery.objects.exists()
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_revoked_clients_and_inactive_subscriptions_get_nothing(
    api, tmall_client, receiver, system_actor
):
    subscription = subscribe(api, receiver.url, ["*"])
    WebhookSubscription.objects.filter(pk=subscription["id"]).update(is_active=False)
    open_case("cancellation", actor=system_actor)
    assert not WebhookEvent.objects.exists()
    WebhookSubscription.objects.filter(pk=subscription["id"]).update(is_active=True)
    ApiClient.objects.filter(pk=tmall_client[0].pk).update(revoked_at=timezone.now())
    open_case("cancellation", actor=system_actor)
    assert not WebhookEvent.objects.exists()


# -- retries --------------------------------------------------------------------------------------


def test_5xx_is_retried_with_growing_waits_for_at_least_24_hours(api, receiver, system_actor):
    subscribe(api, receiver.url, ["case.created"])
    receiver.answers = [500] * 100
    receiver.start()
    open_case("cancellation", actor=system_actor)
    expand()
    delivery = WebhookDelivery.objects.get()
    clock = delivery.next_attempt_at
    waits = []
    while True:
        attempt = delivery_attempt(delivery.pk, now=clock)
        assert attempt is not None
        delivery.refresh_from_db()
        if delivery.status != DeliveryStatus.PENDING:
            break
        waits.append(delivery.next_attempt_at - clock)
        clock = delivery.next_attempt_at
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert delivery.status == DeliveryStatus.FAILED
    assert attempts[-1].outcome == "failed" and all(a.outcome == "retry" for a in attempts[:-1])
    assert attempts[-1].started_at - attempts[0].started_at >= dt.timedelta(hours=24)
    assert waits[0] < dt.timedelta(minutes=1)  # 30 s ± 10 %
    assert all(later >= earlier * 0.8 for earlier, later in itertools.pairwise(waits))
    assert max(waits) <= dt.timedelta(hours=4, minutes=25)  # capped at 4 h (+10 %)
    assert 10 <= len(attempts) <= 20
    assert len(receiver.requests) == len(attempts)
    # the event id never changed: the receiver can drop duplicates
    assert {h["webhook-id"] for h, _ in receiver.requests} == {str(delivery.event.event_id)}


def test_a_4xx_answer_fails_at_once(api, receiver, system_actor):
    subscribe(api, receiver.url, ["case.created"])
    receiver.answers = [410]
    receiver.start()
    open_case("cancellation", actor=system_actor)
    expand()
    delivery = WebhookDelivery.objects.get()
    attempt = delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert (attempt.outcome, attempt.status_code) == ("failed", 410)
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None


def test_a_delivery_is_claimed_by_one_worker_at_a_time(api, receiver, system_actor):
    subscribe(api, receiver.url, ["case.created"])
    receiver.start()
    open_case("cancellation", actor=system_actor)
    expand()
    delivery = WebhookDelivery.objects.get()
    assert delivery_attempt(delivery.pk) is not None
    assert delivery_attempt(delivery.pk) is None  # delivered: nothing more to do
    assert len(receiver.requests) == 1


def test_backoff_doubles_and_is_capped():
    import random

    rng = random.Random(1)
    waits = [backoff(n, rng=rng).total_seconds() for n in range(1, 15)]
    assert 27 <= waits[0] <= 33 and 54 <= waits[1] <= 66
    assert max(waits) <= 4 * 3600 * 1.1


def test_due_deliveries_are_queued_by_the_periodic_task(api, receiver, system_actor, settings):
    subscribe(api, receiver.url, ["case.created"])
    open_case("cancellation", actor=system_actor)
    expand()  # no attempt yet: its task never ran (the queue lost it)
    receiver.start()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert deliver_due_webhooks() == 1  # the task runs in-process in tests
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_private_addresses_are_refused_in_production(api, settings, system_actor):
    settings.API_WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "ftp://example.com/",
    ):
        body = assert_problem(
            api.post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json"),
            400,
            "invalid",
        )
        assert body["errors"][0]["field"] == "url"
    # a name that resolves to loopback is refused when sending (no retry: it will not change)
    subscription = WebhookSubscription.objects.create(
        client=ApiClient.objects.get(name="erp"), url="http://localhost:9/x", event_types=["*"]
    )
    open_case("cancellation", actor=system_actor)
    expand()
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "non-public address" in delivery.last_error


# -- replays --------------------------------------------------------------------------------------


def test_replay_from_the_admin_sends_the_same_event_again(
    api, receiver, system_actor, admin_client, django_capture_on_commit_callbacks
):
    subscribe(api, receiver.url, ["case.created"])
    receiver.start()
    open_case("cancellation", actor=system_actor)
    expand()
    delivery = WebhookDelivery.objects.get()
    delivery_attempt(delivery.pk)
    assert len(receiver.requests) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/api/webhookdelivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.replayed_at is not None
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]
    assert WebhookAttempt.objects.filter(delivery=delivery, replay=True).count() == 1
    page = admin_client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b"case.created" in page.content


def test_replay_and_delivery_log_through_the_api(
    api, jd_api, receiver, system_actor, django_capture_on_commit_callbacks
):
    subscription = subscribe(api, receiver.url, ["case.created"])
    with django_capture_on_commit_callbacks(execute=True):
        open_case("cancellation", actor=system_actor)  # first attempt fails: receiver down
    receiver.start()
    log = api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries/").json()
    delivery = log["results"][0]
    assert delivery["status"] == "pending" and delivery["attempts"][0]["outcome"] == "retry"
    url = f"/api/v1/webhooks/{subscription['id']}/deliveries/{delivery['id']}/replay/"
    assert_problem(jd_api.post(url), 404, "not_found")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert response.status_code == 202
    assert WebhookDelivery.objects.get(pk=delivery["id"]).status == DeliveryStatus.DELIVERED


# -- managing subscriptions ----------------------------------------------------------------------


def test_subscription_lifecycle(api, jd_api, receiver):
    created = subscribe(api, receiver.url, ["case.created", "refund.decided", "case.created"])
    assert created["event_types"] == ["case.created", "refund.decided"]
    assert created["secret"].startswith("whsec_")
    url = f"/api/v1/webhooks/{created['id']}/"
    shown = api.get(url).json()
    assert "secret" not in shown
    assert_problem(jd_api.get(url), 404, "not_found")
    changed = api.patch(
        url, {"event_types": ["deadline.missed"], "is_active": False}, format="json"
    )
    assert (
        changed.json()["event_types"] == ["deadline.missed"]
        and changed.json()["is_active"] is False
    )
    rotated = api.post(f"{url}rotate-secret/").json()["secret"]
    assert rotated != created["secret"]
    assert [s["id"] for s in api.get("/api/v1/webhooks/").json()] == [created["id"]]
    assert api.delete(url).status_code == 204
    assert not WebhookSubscription.objects.exists()
    bad = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "event_types": ["case.exploded"]}, format="json"
    )
    assert assert_problem(bad, 400, "invalid")["errors"][0]["field"] == "event_types"
    empty = api.post("/api/v1/webhooks/", {"url": receiver.url, "event_types": []}, format="json")
    assert_problem(empty, 400, "invalid")


def test_signature_matches_the_standard_webhooks_test_vector():
    # From the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert (
        signing.signature(
            secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body
        )
        == expected
    )
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bogus {expected}",
    }
    assert signing.verify(secret, headers, body, now=1614265330 + 10)
    assert not signing.verify(secret, headers, body, now=1614265330 + 3600)  # too old


def test_a_calendar_change_tells_subscribers_once_per_moved_case_and_sync_finds_them(
    api, receiver, system_actor, django_capture_on_commit_callbacks
):
    from marketplaces.calendars import calendar_for
    from marketplaces.models import Marketplace
    from marketplaces.services import calendar_exception_set

    subscribe(api, receiver.url, ["case.deadlines_changed"])
    claims = []
    for _ in range(3):
        case = open_case("damaged_item", actor=system_actor)
        claims.append(
            case_transition(
                case=case, transition="request_evidence", actor=system_actor, door="command"
            )
        )
    untouched = open_case("cancellation", actor=system_actor)  # no evidence clock to move
    sync_from = timezone.now()
    tmall = Marketplace.objects.get(code="tmall")
    closure = calendar_for(tmall).local_date(claims[0].evidence_due_at)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_exception_set(marketplace=tmall, date=closure, kind="closed", label="Audit")
    events = WebhookEvent.objects.filter(event_type="case.deadlines_changed")
    assert sorted(e.case_id for e in events) == sorted(c.pk for c in claims)
    payload = events.first().payload["data"]
    assert payload["event"]["data"]["cause"] == "calendar_change"
    assert set(payload["event"]["data"]["before"]) >= {"evidence_due_at"}
    # an integration syncing with updated_after sees the three claims, not the other case
    response = api.get("/api/v1/cases/", {"updated_after": sync_from.isoformat()})
    assert response.status_code == 200, response.content
    references = {row["reference"] for row in response.json()["results"]}
    assert references == {c.reference for c in claims}
    assert untouched.reference not in references
