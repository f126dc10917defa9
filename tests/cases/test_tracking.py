"""Carrier tracking: scans recorded once, matched to their shipment whenever it arrives, and the
rules they run on cases (through the kernel, actor carrier, door tracking, at the scan's time)."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from cases.choices import ActorType, Door, EventType
from cases.errors import CaseRefused, ErrorCode
from cases.events import render_event
from cases.models import Case, CaseEvent, Shipment, TrackingEvent
from cases.services import case_transition
from cases.services.tracking import shipment_add, shipments_add, tracking_events_import
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db

CARRIER = "SF Express"


@pytest.fixture(autouse=True)
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def base():
    """A moment well after the orders were placed, far enough back for scans days apart."""
    return timezone.now().replace(microsecond=0) - dt.timedelta(days=20)


def parcel(number="SF100", marketplace="tmall_global", **fields):
    order = make_order(marketplace, customer_email="buyer@example.com", **fields)
    shipment = shipment_add(order=order, carrier=CARRIER, tracking_number=number)
    return order, shipment


def scan(number, event_id, status, at, **extra):
    return {
        "carrier": CARRIER,
        "tracking_number": number,
        "carrier_event_id": event_id,
        "status": status,
        "occurred_at": at,
        "location": extra.pop("location", "Shanghai"),
        "raw_text": extra.pop("raw_text", f"{status} scan"),
        **extra,
    }


def customs_cases(order):
    return list(Case.objects.filter(order=order, kind="customs_delay"))


def test_a_customs_hold_opens_one_customs_case_per_shipment_and_sends_the_reminder(
    base, django_capture_on_commit_callbacks
):
    order, _shipment = parcel()

    # when: two holds of the same parcel
    with django_capture_on_commit_callbacks(execute=True):
        tracking_events_import(
            items=[
                scan("SF100", "e1", "picked_up", base),
                scan("SF100", "e2", "customs_hold", base + dt.timedelta(days=2)),
                scan("SF100", "e3", "customs_hold", base + dt.timedelta(days=3)),
            ]
        )

    # then: one case, opened and reminded at the first hold's time, by the carrier
    [case] = customs_cases(order)
    assert case.state == "reminder_sent"
    assert case.opened_at == base + dt.timedelta(days=2)
    transition = CaseEvent.objects.get(case=case, event_type=EventType.TRANSITION)
    assert transition.transition == "send_clearance_reminder"
    assert transition.occurred_at == base + dt.timedelta(days=2)
    assert (transition.actor_type, transition.actor_name, transition.door) == (
        ActorType.SYSTEM,
        "carrier",
        Door.TRACKING,
    )
    assert transition.data.get("source") == "tracking"
    assert Shipment.objects.get(tracking_number="SF100").customs_case_id == case.pk
    # the clearance e-mail went (tasks run in-process in tests)
    assert [message.to for message in mail.outbox] == [["buyer@example.com"]]


def test_clearance_and_delivery_move_the_customs_case_and_set_the_order_times(base):
    order, _ = parcel()
    tracking_events_import(
        items=[
            scan("SF100", "e1", "picked_up", base),
            scan("SF100", "e2", "customs_hold", base + dt.timedelta(days=2)),
        ]
    )
    tracking_events_import(
        items=[scan("SF100", "e3", "customs_cleared", base + dt.timedelta(days=4))]
    )
    [case] = customs_cases(order)
    assert case.state == "cleared"
    assert case.last_transition_at == base + dt.timedelta(days=4)

    tracking_events_import(items=[scan("SF100", "e4", "delivered", base + dt.timedelta(days=6))])

    case.refresh_from_db()
    order.refresh_from_db()
    assert case.state == "delivered"
    assert case.resolved_at == base + dt.timedelta(days=6)
    assert order.picked_up_at == base
    assert order.delivered_at == base + dt.timedelta(days=6)


def test_a_delivery_without_clearance_scan_passes_through_cleared(base):
    order, _ = parcel()
    tracking_events_import(items=[scan("SF100", "e1", "customs_hold", base)])
    tracking_events_import(items=[scan("SF100", "e2", "delivered", base + dt.timedelta(days=5))])
    [case] = customs_cases(order)
    moves = list(
        CaseEvent.objects.filter(case=case, event_type=EventType.TRANSITION)
        .order_by("occurred_at", "pk")
        .values_list("transition", flat=True)
    )
    assert moves == ["send_clearance_reminder", "mark_cleared", "mark_delivered"]


def test_the_first_scan_ships_an_open_late_shipment_case(system_actor, base):
    order, _ = parcel(marketplace="tmall")
    late = open_case("late_shipment", actor=system_actor, order=order, opened_at=base)

    tracking_events_import(
        items=[
            scan("SF100", "e2", "in_transit", base + dt.timedelta(days=2)),
            scan("SF100", "e1", "picked_up", base + dt.timedelta(days=1)),
        ]
    )

    late.refresh_from_db()
    assert late.state == "shipped"
    assert late.last_transition_at == base + dt.timedelta(days=1)
    # both scans are on its timeline, in the reader's language
    tracking = CaseEvent.objects.filter(case=late, event_type=EventType.TRACKING_EVENT)
    assert sorted(render_event(e).title for e in tracking) == [
        "Carrier: In transit",
        "Carrier: Picked up by the carrier",
    ]


def test_returned_to_sender_marks_a_requested_interception_intercepted(system_actor, base):
    order, _ = parcel(marketplace="tmall")
    case = open_case("interception", actor=system_actor, order=order, opened_at=base)
    case_transition(
        case=case,
        transition="request_interception",
        actor=system_actor,
        door=Door.ADMIN,
        occurred_at=base + dt.timedelta(hours=1),
    )

    tracking_events_import(
        items=[scan("SF100", "e1", "returned_to_sender", base + dt.timedelta(days=2))]
    )

    case.refresh_from_db()
    assert case.state == "intercepted"
    assert case.last_transition_at == base + dt.timedelta(days=2)


def test_a_lost_parcel_flags_its_order_and_opens_nothing(base):
    order, _ = parcel()
    tracking_events_import(items=[scan("SF100", "e1", "lost", base)])

    order.refresh_from_db()
    assert order.parcel_lost is True
    assert Shipment.objects.get(tracking_number="SF100").lost_at == base
    assert not Case.objects.filter(order=order).exists()


def test_replaying_the_same_scans_changes_nothing(base, django_capture_on_commit_callbacks):
    order, _ = parcel()
    items = [
        scan("SF100", "e1", "picked_up", base),
        scan("SF100", "e2", "customs_hold", base + dt.timedelta(days=1)),
        scan("SF100", "e3", "in_transit", base + dt.timedelta(days=2)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        first = tracking_events_import(items=items)
    [case] = customs_cases(order)
    events = CaseEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        again = tracking_events_import(items=items)

    assert (first.created, first.matched) == (3, 3)
    assert (again.created, again.unchanged, again.cases_changed) == (0, 3, 0)
    assert TrackingEvent.objects.count() == 3
    assert CaseEvent.objects.count() == events
    assert Case.objects.get(pk=case.pk).version == case.version
    assert len(mail.outbox) == 1


def test_scans_before_their_shipment_are_kept_and_matched_when_it_arrives(base):
    order = make_order("tmall_global", customer_email="buyer@example.com")
    result = tracking_events_import(
        items=[
            scan("SF200", "e1", "picked_up", base),
            scan("SF200", "e2", "customs_hold", base + dt.timedelta(days=1)),
        ]
    )
    assert (result.created, result.matched, result.unmatched) == (2, 0, 2)
    assert not Case.objects.exists()

    # when: the shipment arrives with the order's data
    added = shipments_add(items=[(order, {"carrier": CARRIER, "tracking_number": "SF200"})])

    assert added.events_matched == 2
    [case] = customs_cases(order)
    assert (case.state, case.opened_at) == ("reminder_sent", base + dt.timedelta(days=1))
    order.refresh_from_db()
    assert order.picked_up_at == base
    assert TrackingEvent.objects.filter(shipment__isnull=True).count() == 0


def test_an_older_scan_arriving_late_does_not_undo_a_newer_state(base):
    order, _ = parcel()
    tracking_events_import(items=[scan("SF100", "e1", "customs_hold", base)])
    tracking_events_import(items=[scan("SF100", "e4", "delivered", base + dt.timedelta(days=5))])
    [case] = customs_cases(order)
    version = Case.objects.get(pk=case.pk).version

    # when: the clearance scan (older than the delivery) and an older pickup arrive
    tracking_events_import(
        items=[
            scan("SF100", "e3", "customs_cleared", base + dt.timedelta(days=3)),
            scan("SF100", "e0", "picked_up", base - dt.timedelta(days=1)),
        ]
    )

    case.refresh_from_db()
    order.refresh_from_db()
    assert case.state == "delivered"  # not back to cleared
    assert case.version == version + 1  # only the two timeline lines were added
    assert order.picked_up_at == base - dt.timedelta(days=1)  # the earliest pickup wins
    assert order.delivered_at == base + dt.timedelta(days=5)


def test_a_hold_older_than_the_clearance_opens_no_case(base):
    # The parcel is past customs: no case to work, no clearance e-mail to send.
    order, _ = parcel()
    tracking_events_import(
        items=[scan("SF100", "e3", "customs_cleared", base + dt.timedelta(days=3))]
    )
    tracking_events_import(items=[scan("SF100", "e1", "customs_hold", base)])
    assert customs_cases(order) == []
    # the same when both arrive together
    other, _ = parcel("SF101")
    tracking_events_import(
        items=[
            scan("SF101", "e1", "customs_hold", base),
            scan("SF101", "e2", "delivered", base + dt.timedelta(days=3)),
        ]
    )
    assert customs_cases(other) == []


def test_each_rule_can_be_switched_off_per_marketplace(system_actor, base):
    Marketplace.objects.filter(code="tmall_global").update(
        tracking_opens_customs_cases=False, tracking_flags_lost_parcels=False
    )
    order, _ = parcel()
    tracking_events_import(
        items=[
            scan("SF100", "e1", "customs_hold", base),
            scan("SF100", "e2", "lost", base + dt.timedelta(days=1)),
        ]
    )
    order.refresh_from_db()
    assert customs_cases(order) == []
    assert order.parcel_lost is False

    Marketplace.objects.filter(code="tmall").update(tracking_ships_late_cases=False)
    other, _ = parcel("SF300", marketplace="tmall")
    late = open_case("late_shipment", actor=system_actor, order=other, opened_at=base)
    tracking_events_import(items=[scan("SF300", "e1", "picked_up", base + dt.timedelta(hours=2))])
    late.refresh_from_db()
    assert late.state == "new"


def test_one_bad_scan_refuses_the_whole_list_with_every_problem(base):
    parcel()
    future = timezone.now() + dt.timedelta(days=1)
    with pytest.raises(CaseRefused) as refused:
        tracking_events_import(
            items=[
                scan("SF100", "e1", "picked_up", base),
                scan("SF100", "e2", "teleported", base),
                scan("SF100", "e3", "delivered", future),
                {**scan("SF100", "", "in_transit", base), "colour": "red"},
            ]
        )
    assert refused.value.code == ErrorCode.INVALID_VALUE
    problems = [(e["index"], e["field"], e["code"]) for e in refused.value.details["errors"]]
    assert problems == [
        (1, "status", "invalid_choice"),
        (2, "occurred_at", "occurred_in_future"),
        (3, "colour", "unknown_field"),
        (3, "carrier_event_id", "required"),
    ]
    assert TrackingEvent.objects.count() == 0


def test_a_scan_id_sent_again_saying_otherwise_is_refused(base):
    parcel()
    tracking_events_import(items=[scan("SF100", "e1", "picked_up", base)])
    with pytest.raises(CaseRefused) as refused:
        tracking_events_import(
            items=[
                scan("SF100", "e2", "in_transit", base + dt.timedelta(hours=1)),
                scan("SF100", "e1", "delivered", base),
            ]
        )
    [error] = refused.value.details["errors"]
    assert (error["index"], error["code"]) == (1, "duplicate")
    assert TrackingEvent.objects.count() == 1


def test_a_tracking_number_of_another_order_is_refused(base):
    parcel("SF100")
    other = make_order("tmall_global")
    with pytest.raises(CaseRefused) as refused:
        shipments_add(items=[(other, {"carrier": CARRIER, "tracking_number": "SF100"})])
    [error] = refused.value.details["errors"]
    assert (error["field"], error["code"]) == ("tracking_number", "duplicate")
    assert Shipment.objects.count() == 1


def test_a_time_outside_the_plausible_years_is_refused(base):
    ancient = dt.datetime.fromisoformat("0001-01-01T00:00:00+23:59")
    with pytest.raises(CaseRefused) as refused:
        tracking_events_import(items=[scan("SF100", "e1", "picked_up", ancient)])
    [error] = refused.value.details["errors"]
    assert (error["field"], error["code"]) == ("occurred_at", "invalid_value")
    assert TrackingEvent.objects.count() == 0


def test_the_latest_scan_becomes_the_orders_last_scan_time_whatever_the_order(base):
    order, _ = parcel()
    tracking_events_import(
        items=[
            scan("SF100", "e2", "in_transit", base + dt.timedelta(hours=30)),
            scan("SF100", "e1", "picked_up", base),
        ]
    )
    order.refresh_from_db()
    assert order.last_tracking_event_at == base + dt.timedelta(hours=30)

    # when: an older scan arrives late, then a newer one
    tracking_events_import(items=[scan("SF100", "e0", "in_transit", base + dt.timedelta(hours=5))])
    order.refresh_from_db()
    assert order.last_tracking_event_at == base + dt.timedelta(hours=30)  # only ever later
    tracking_events_import(items=[scan("SF100", "e3", "delivered", base + dt.timedelta(days=3))])
    order.refresh_from_db()
    assert (order.picked_up_at, order.delivered_at, order.last_tracking_event_at) == (
        base,
        base + dt.timedelta(days=3),
        base + dt.timedelta(days=3),
    )


def test_scans_matched_when_their_shipment_arrives_set_the_last_scan_time(base):
    order = make_order("tmall_global", customer_email="buyer@example.com")
    tracking_events_import(items=[scan("SF300", "e1", "in_transit", base + dt.timedelta(days=1))])
    order.refresh_from_db()
    assert order.last_tracking_event_at is None  # not known to be this order's yet

    shipments_add(items=[(order, {"carrier": CARRIER, "tracking_number": "SF300"})])

    order.refresh_from_db()
    assert order.last_tracking_event_at == base + dt.timedelta(days=1)


def test_a_time_given_with_an_offset_is_stored_and_compared_as_the_same_moment(base):
    order, _ = parcel()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    tracking_events_import(items=[scan("SF100", "e1", "picked_up", base.astimezone(shanghai))])
    order.refresh_from_db()
    assert order.picked_up_at == base
    assert TrackingEvent.objects.get().occurred_at == base


def test_the_import_costs_the_same_queries_for_ten_parcels_or_twenty_five(base):
    # Set-based: no query per scan, per parcel or per order when no rule acts on a case.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def import_parcels(prefix, count):
        for n in range(count):
            parcel(f"{prefix}{n}")
        items = [
            scan(f"{prefix}{n}", f"e{step}", status, base + dt.timedelta(hours=step))
            for n in range(count)
            for step, status in enumerate(["picked_up", "in_transit", "delivered"])
        ]
        items.append(scan(f"{prefix}-unknown", "e1", "picked_up", base))  # kept for later
        with CaptureQueriesContext(connection) as queries:
            result = tracking_events_import(items=items)
        assert (result.created, result.unmatched) == (3 * count + 1, 1)
        return len(queries.captured_queries)

    # (25 parcels: SQLite's 999 parameters a statement still hold their scans in one INSERT)
    assert import_parcels("A", 10) == import_parcels("B", 25)
    assert Shipment.objects.filter(order__delivered_at=base + dt.timedelta(hours=2)).count() == 35
