"""The API door to a customer's personal data (``/api/v1/personal-data/``): export and erase,
only for clients given the right, only in their marketplaces, through the same service as the
admin and the command; the erasure is recorded."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.choices import Door
from cases.demo_media import make_photo
from cases.models import CaseEvent, Evidence, Order, PersonalDataErasure
from cases.services import evidence_add
from tests.api.conftest import http, make_client
from tests.api.test_auth import assert_problem
from tests.conftest import stored_evidence
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db

EMAIL = "li.api-erasable@example.com"
NAME = "Li Apierasable"


@pytest.fixture
def customer(system_actor):
    order = make_order("tmall", customer_name=NAME, customer_email=EMAIL, external_id="TM-API-PD")
    case = run(
        open_case("damaged_item", actor=system_actor, order=order, description=f"{NAME} here"),
        ["request_evidence"],
        system_actor,
    )
    evidence_add(
        case=case,
        upload=SimpleUploadedFile(f"{NAME}.jpg", make_photo("pd-api", size=(40, 30))),
        source="customer",
        actor=system_actor,
        door=Door.FORM,
    )
    other = make_order("tmall", customer_name="Keep Me", customer_email="keep@example.com")
    return order, case, other


@pytest.fixture
def privacy_api(db):
    return http(make_client("dpo-tool", ["tmall"], may_handle_personal_data=True)[1])


def test_export_gives_everything_held_about_the_customer(privacy_api, customer):
    _order, case, _other = customer
    response = privacy_api.post("/api/v1/personal-data/export/", {"email": EMAIL}, format="json")
    assert response.status_code == 200, response.content
    document = response.json()
    assert document["customer"]["emails"] == [EMAIL]
    assert [o["external_id"] for o in document["orders"]] == ["TM-API-PD"]
    assert [c["reference"] for c in document["cases"]] == [case.reference]
    assert document["evidence"][0]["original_name"] == f"{NAME}.jpg"
    by_order = privacy_api.post(
        "/api/v1/personal-data/export/", {"order": "TM-API-PD"}, format="json"
    )
    assert by_order.json()["orders"] == document["orders"]


def test_erase_pseudonymises_deletes_files_and_is_recorded(
    privacy_api, customer, django_capture_on_commit_callbacks
):
    order, case, other = customer
    assert len(stored_evidence()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = privacy_api.post(
            "/api/v1/personal-data/erase/", {"email": EMAIL, "confirm": True}, format="json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["orders"], body["cases"], body["evidence"]) == (1, 1, 1)
    erasure = PersonalDataErasure.objects.get(pk=body["id"])
    assert (erasure.door, erasure.actor_type, erasure.actor_name) == (
        "api",
        "api_client",
        "dpo-tool",
    )
    order.refresh_from_db()
    assert (order.customer_name, order.customer_email) == ("[erased]", "")
    assert Evidence.objects.get(case=case).erased_at is not None
    assert stored_evidence() == []
    assert CaseEvent.objects.filter(case=case, event_type="personal_data_erased").count() == 1
    # another customer is untouched
    assert Order.objects.get(pk=other.pk).customer_email == "keep@example.com"


def test_erase_needs_confirmation_and_changes_nothing_without_it(privacy_api, customer):
    order, _case, _other = customer
    for body in ({"email": EMAIL}, {"email": EMAIL, "confirm": False}):
        response = privacy_api.post("/api/v1/personal-data/erase/", body, format="json")
        assert_problem(response, 400, "invalid")
    assert not PersonalDataErasure.objects.exists()
    assert Order.objects.get(pk=order.pk).customer_email == EMAIL


def test_a_client_without_the_right_gets_403_and_nothing_happens(api, customer):
    for path in ("export", "erase"):
        response = api.post(
            f"/api/v1/personal-data/{path}/", {"email": EMAIL, "confirm": True}, format="json"
        )
        assert_problem(response, 403, "permission_denied")
    assert not PersonalDataErasure.objects.exists()


def test_customers_of_other_marketplaces_are_not_found(db, customer):
    jd = http(make_client("jd-dpo", ["jd"], may_handle_personal_data=True)[1])
    response = jd.post(
        "/api/v1/personal-data/erase/", {"email": EMAIL, "confirm": True}, format="json"
    )
    body = assert_problem(response, 400, "not_found")
    assert "No order of" in body["detail"]
    assert not PersonalDataErasure.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"email": EMAIL, "order": "TM-API-PD"}, {"email": "   "}, {"email": EMAIL, "x": 1}],
)
def test_the_customer_is_named_once(privacy_api, customer, body):
    response = privacy_api.post("/api/v1/personal-data/export/", body, format="json")
    assert response.status_code == 400


def test_the_schema_documents_both_operations(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for name in ("export", "erase"):
        operation = paths[f"/api/v1/personal-data/{name}/"]["post"]
        assert "403" in operation["responses"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert [v["required"][0] for v in body["oneOf"]] == ["email", "order"]


def test_export_and_erase_cover_the_carriers_scans_of_the_customers_parcels(
    privacy_api, customer, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from cases.models import TrackingEvent
    from cases.services.tracking import shipment_add, tracking_events_import

    order, _case, _other = customer
    shipment_add(order=order, carrier="SF Express", tracking_number="SFAPI1")
    at = timezone.now().replace(microsecond=0)
    tracking_events_import(
        items=[
            {
                "carrier": "SF Express",
                "tracking_number": "SFAPI1",
                "carrier_event_id": "d1",
                "status": "delivered",
                "occurred_at": at,
                "location": "Door of 5 Huaihai Road",
                "raw_text": f"Signed by {NAME}",
            }
        ]
    )
    document = privacy_api.post(
        "/api/v1/personal-data/export/", {"email": EMAIL}, format="json"
    ).json()
    assert [s["tracking_number"] for s in document["shipments"]] == ["SFAPI1"]
    assert [(e["location"], e["raw_text"]) for e in document["tracking_events"]] == [
        ("Door of 5 Huaihai Road", f"Signed by {NAME}")
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = privacy_api.post(
            "/api/v1/personal-data/erase/", {"email": EMAIL, "confirm": True}, format="json"
        )

    assert response.status_code == 200, response.content
    assert list(
        TrackingEvent.objects.values_list("status", "occurred_at", "location", "raw_text")
    ) == [("delivered", at, "[erased]", "[erased]")]
