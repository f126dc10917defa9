"""Orders and marketplaces in the admin: changes through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case, Order
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

from .helpers import SYSTEM

pytestmark = pytest.mark.django_db


def order_form(order: Order, **changes) -> dict:
    data = {
        "customer_name": order.customer_name,
        "customer_email": order.customer_email,
        "customer_language": order.customer_language,
        "placed_at_0": order.placed_at.strftime("%Y-%m-%d"),
        "placed_at_1": order.placed_at.strftime("%H:%M:%S"),
        "promised_ship_date": order.promised_ship_date.isoformat()
        if order.promised_ship_date
        else "",
        "destination_country": order.destination_country,
        "shipping_scope": order.shipping_scope,
        "total": str(order.total),
        "currency": order.currency,
    }
    for field in Order._meta.get_fields():
        name = getattr(field, "name", "")
        if name in data or not getattr(field, "concrete", False) or field.auto_created:
            continue
        if name in {"marketplace", "external_id", "created_at", "updated_at", "id"}:
            continue
        value = getattr(order, name, None)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = (
                "" if not field.null or field.get_internal_type() != "BooleanField" else "unknown"
            )
        elif isinstance(value, dt.datetime):
            data[f"{name}_0"], data[f"{name}_1"] = (
                value.strftime("%Y-%m-%d"),
                value.strftime("%H:%M:%S"),
            )
        else:
            data[name] = str(value)
    data.update(changes)
    return data


def test_changing_an_order_goes_through_order_upsert_and_moves_deadlines(agent_client):
    order = make_order("tmall", promised_ship_date=(timezone.now() - dt.timedelta(days=1)).date())
    case = open_case(
        "late_shipment", actor=SYSTEM, order=order, opened_at=timezone.now() - dt.timedelta(hours=5)
    )
    before = case.supplier_contact_due_at
    later = (timezone.now() + dt.timedelta(days=3)).date()

    response = agent_client.post(
        f"/admin/cases/order/{order.pk}/change/",
        order_form(order, promised_ship_date=later.isoformat(), customer_name="Zhang Min"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.promised_ship_date, order.customer_name) == (later, "Zhang Min")
    assert case.supplier_contact_due_at != before  # recomputed by the service


def test_order_page_lists_its_cases_and_cannot_be_deleted(agent_client, supervisor_client):
    case = open_case("wrong_item", actor=SYSTEM)
    html = agent_client.get(f"/admin/cases/order/{case.order_id}/change/").content.decode()
    assert case.reference in html
    assert supervisor_client.post(f"/admin/cases/order/{case.order_id}/delete/").status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()


def test_supervisor_changes_a_calendar_and_is_told_deadlines_move(supervisor_client):
    faire = Marketplace.objects.get(code="faire")
    version = faire.calendar_version
    url = f"/admin/marketplaces/marketplace/{faire.pk}/change/"
    page = supervisor_client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for flag in ("is_active", "attachments_allowed", "html_allowed"):
        if not data.get(flag):
            data.pop(flag, None)
    data["resolution_business_days"] = 10
    data.update(
        {
            "calendar_exceptions-TOTAL_FORMS": "0",
            "calendar_exceptions-INITIAL_FORMS": "0",
            "calendar_exceptions-MIN_NUM_FORMS": "0",
            "calendar_exceptions-MAX_NUM_FORMS": "1000",
        }
    )

    response = supervisor_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "are being recomputed in the background" in response.content.decode()
    faire.refresh_from_db()
    assert faire.resolution_business_days == 10
    assert faire.calendar_version != version
    assert "Next days off and extra working days" in page.content.decode()


def test_a_lost_parcel_shows_on_its_order_and_in_the_lost_filter(agent_client):
    from cases.services.tracking import shipment_add, tracking_events_import

    order = make_order("tmall")
    shipment_add(order=order, carrier="SF Express", tracking_number="SF-LOST")
    lost_at = timezone.now() - dt.timedelta(days=1)
    tracking_events_import(
        items=[
            {
                "carrier": "SF Express",
                "tracking_number": "SF-LOST",
                "carrier_event_id": "x1",
                "status": "lost",
                "occurred_at": lost_at,
                "location": "Hangzhou hub",
            }
        ]
    )

    page = agent_client.get(f"/admin/cases/order/{order.pk}/change/").content.decode()
    assert "SF-LOST" in page and "Hangzhou hub" in page
    assert "declared lost: decide on a missing-item case" in page
    listed = agent_client.get("/admin/cases/order/?parcel_lost__exact=1").content.decode()
    assert order.external_id in listed
