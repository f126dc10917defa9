"""The admin door to a customer's personal data: the erasure record and the request page (export
as a ZIP, erasure after confirmation), for staff with ``cases.handle_personal_data`` only; the
same service as the API and the command, and the erasure recorded."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.choices import Door
from cases.demo_media import make_photo
from cases.models import CaseEvent, Order, PersonalDataErasure
from cases.services import evidence_add
from tests.admin.conftest import logged_in
from tests.conftest import stored_evidence
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db

EMAIL = "chen.adminerasable@example.com"
NAME = "Chen Adminerasable"
PAGE = "/admin/cases/personaldataerasure/request/"


@pytest.fixture
def customer(system_actor):
    order = make_order("tmall", customer_name=NAME, customer_email=EMAIL, external_id="TM-ADM-PD")
    case = run(
        open_case("damaged_item", actor=system_actor, order=order),
        ["request_evidence"],
        system_actor,
    )
    evidence_add(
        case=case,
        upload=SimpleUploadedFile("box.jpg", make_photo("pd-admin", size=(40, 30))),
        source="customer",
        actor=system_actor,
        door=Door.FORM,
    )
    return order, case


@pytest.fixture
def privacy_officer(supervisor_user):
    supervisor_user.user_permissions.add(
        Permission.objects.get(content_type__app_label="cases", codename="handle_personal_data")
    )
    return logged_in(type(supervisor_user).objects.get(pk=supervisor_user.pk))


def test_the_page_is_reachable_from_the_erasure_list(privacy_officer):
    listing = privacy_officer.get("/admin/cases/personaldataerasure/")
    assert listing.status_code == 200
    assert PAGE in listing.content.decode()
    page = privacy_officer.get(PAGE)
    assert page.status_code == 200
    assert 'name="erase"' in page.content.decode()


def test_export_downloads_a_zip_of_everything(privacy_officer, customer):
    response = privacy_officer.post(PAGE, {"email": EMAIL, "export": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document = json.loads(archive.read("personal-data.json"))
    assert [o["external_id"] for o in document["orders"]] == ["TM-ADM-PD"]
    assert any(name.startswith("evidence/") for name in archive.namelist())
    assert not PersonalDataErasure.objects.exists()


def test_erasure_needs_the_box_ticked(privacy_officer, customer):
    response = privacy_officer.post(PAGE, {"email": EMAIL, "erase": "1"})
    assert response.status_code == 200
    assert "Tick the box to confirm the erasure." in response.content.decode()
    assert not PersonalDataErasure.objects.exists()
    assert Order.objects.get(pk=customer[0].pk).customer_email == EMAIL


def test_erasure_is_carried_out_and_recorded(
    privacy_officer, supervisor_user, customer, django_capture_on_commit_callbacks
):
    order, case = customer
    with django_capture_on_commit_callbacks(execute=True):
        response = privacy_officer.post(PAGE, {"order": "TM-ADM-PD", "confirm": "on", "erase": "1"})
    assert response.status_code == 302
    erasure = PersonalDataErasure.objects.get()
    assert (erasure.door, erasure.actor_name, erasure.orders) == ("admin", "wang", 1)
    assert Order.objects.get(pk=order.pk).customer_name == "[erased]"
    assert stored_evidence() == []
    event = CaseEvent.objects.get(case=case, event_type="personal_data_erased")
    assert event.door == "admin"
    listing = privacy_officer.get(response["Location"])
    assert "Erased: 1 orders, 1 cases, 1 evidence files" in listing.content.decode()


def test_an_unknown_customer_is_said_so(privacy_officer, customer):
    response = privacy_officer.post(PAGE, {"email": "nobody@example.com", "export": "1"})
    assert response.status_code == 200
    assert "No order of nobody@example.com was found." in response.content.decode()


def test_staff_without_the_permission_get_403(supervisor_client, agent_client, customer):
    for client in (supervisor_client, agent_client):
        assert client.get(PAGE).status_code == 403
        response = client.post(PAGE, {"email": EMAIL, "confirm": "on", "erase": "1"})
        assert response.status_code == 403
    assert not PersonalDataErasure.objects.exists()
