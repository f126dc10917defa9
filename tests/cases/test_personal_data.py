"""A customer's personal data exported and erased (``cases.personal_data``): the export holds
everything, the erasure leaves nothing of the e-mail or name anywhere in the database, deletes
the files, keeps the audit trail whole and readable, and is itself recorded."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.demo_media import make_photo
from cases.errors import CaseRefused
from cases.events import RenderContext, render_event
from cases.models import Case, CaseEvent, Evidence, PersonalDataErasure, evidence_storage
from cases.personal_data import (
    personal_data_erase,
    personal_data_export,
    personal_data_export_zip,
    personal_data_subject,
)
from cases.services import evidence_add
from marketplaces.models import Marketplace
from messaging.services import message_import
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db

EMAIL = "zhang.erasable@example.com"
NAME = "Zhang Erasable"
ACTOR = Actor.system("tests")


@pytest.fixture
def customer():
    """Two orders of one customer on Tmall (one case with a photo and messages), one of another
    customer, which must be untouched."""
    first = make_order("tmall", customer_name=NAME, customer_email=EMAIL, external_id="TM-PD-1")
    make_order("tmall", customer_name=NAME, customer_email=EMAIL.upper(), external_id="TM-PD-2")
    other = make_order("tmall", customer_name="Someone Else", customer_email="else@example.com")
    case = run(
        open_case("damaged_item", actor=ACTOR, order=first, description=f"{NAME} says broken"),
        ["request_evidence"],
        ACTOR,
    )
    evidence_add(
        case=case,
        upload=SimpleUploadedFile(f"{NAME} box.jpg", make_photo("pd", size=(60, 40))),
        source="customer",
        actor=ACTOR,
        door=Door.FORM,
    )
    sent = timezone.now() - dt.timedelta(hours=2)
    message_import(
        marketplace=Marketplace.objects.get(code="tmall"),
        messages=[
            {
                "external_id": "pd-m1",
                "conversation_id": "pd-thread",
                "direction": "in",
                "counterpart": "customer",
                "channel": "chat",
                "sent_at": sent.isoformat(),
                "order": "TM-PD-1",
                "subject": f"From {NAME}",
                "body": f"Write to me at {EMAIL}",
            }
        ],
        actor=ACTOR,
        door=Door.API,
    )
    open_case("cancellation", actor=ACTOR, order=other)
    return case


def text_in_database(*needles: str) -> list[str]:
    """Every (table.column) whose values contain one of ``needles`` (case-insensitive)."""
    found = []
    lowered = [needle.lower() for needle in needles]
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for name, value in zip(fields, row, strict=True):
                text = json.dumps(value, ensure_ascii=False).lower()
                if any(needle in text for needle in lowered):
                    found.append(f"{model._meta.db_table}.{name}")
    return sorted(set(found))


def test_the_export_holds_everything_about_the_customer(customer):
    subject = personal_data_subject(email=EMAIL)
    document = personal_data_export(subject)
    assert [o["external_id"] for o in document["orders"]] == ["TM-PD-1", "TM-PD-2"]
    assert {o["customer_email"] for o in document["orders"]} == {EMAIL, EMAIL.upper()}
    assert [c["reference"] for c in document["cases"]] == [customer.reference]
    assert document["cases"][0]["description"] == f"{NAME} says broken"
    assert [e["original_name"] for e in document["evidence"]] == [f"{NAME} box.jpg"]
    assert [m["body"] for m in document["messages"]["messages"]] == [f"Write to me at {EMAIL}"]
    assert [c["subject"] for c in document["messages"]["conversations"]] != []
    assert document["customer"]["names"] == [NAME]
    assert "Someone Else" not in json.dumps(document)
    # the ZIP has the document and the file, byte for byte as stored
    archive = zipfile.ZipFile(io.BytesIO(personal_data_export_zip(subject)))
    names = archive.namelist()
    assert "personal-data.json" in names
    evidence = Evidence.objects.get(case=customer)
    with evidence_storage.open(evidence.file.name) as stored:
        assert archive.read(f"evidence/{evidence.pk}.jpg") == stored.read()
    inside = json.loads(archive.read("personal-data.json"))
    assert inside["evidence"][0]["file"] == f"evidence/{evidence.pk}.jpg"


def test_found_by_order_id_and_only_on_the_marketplaces_allowed(customer):
    by_order = personal_data_subject(order="TM-PD-2")
    assert len(by_order.order_ids) == 2  # the order, and the other orders of its address
    with pytest.raises(CaseRefused):
        personal_data_subject(email=EMAIL, marketplace="amazon_fr")
    jd = Marketplace.objects.get(code="jd")
    with pytest.raises(CaseRefused):
        personal_data_subject(email=EMAIL, marketplaces=[jd.pk])
    with pytest.raises(CaseRefused):
        personal_data_subject(email="nobody@example.com")


def test_erasure_leaves_nothing_and_keeps_the_audit_trail(
    customer, django_capture_on_commit_callbacks
):
    evidence = Evidence.objects.get(case=customer)
    files = [evidence.file.name]
    events_before = list(
        CaseEvent.objects.filter(case=customer).order_by("pk").values_list("pk", "data")
    )
    assert text_in_database(EMAIL, NAME) != []
    # when
    with django_capture_on_commit_callbacks(execute=True):
        erasure = personal_data_erase(
            subject=personal_data_subject(email=EMAIL), actor=ACTOR, door=Door.COMMAND
        )
    # then nothing of the e-mail or the name is left anywhere
    assert text_in_database(EMAIL, NAME) == []
    # the files are gone, the evidence row stays, marked, with its digest
    assert not any(evidence_storage.exists(name) for name in files)
    evidence.refresh_from_db()
    assert evidence.erased_at is not None and evidence.original_name == "erased.jpg"
    assert evidence.file.name == "" and len(evidence.sha256) == 64
    # the audit trail is intact: earlier rows unchanged, one new typed event, all render
    events_after = list(
        CaseEvent.objects.filter(case=customer).order_by("pk").values_list("pk", "data")
    )
    assert events_after[: len(events_before)] == events_before
    new = CaseEvent.objects.filter(case=customer).order_by("pk").last()
    assert (new.event_type, new.data) == ("personal_data_erased", {"erasure": erasure.pk})
    rendered = [render_event(e, RenderContext()) for e in CaseEvent.objects.filter(case=customer)]
    assert "Customer's personal data erased" in {r.title for r in rendered}
    # the record says who and how much, not what
    record = PersonalDataErasure.objects.get()
    assert (record.orders, record.cases, record.evidence) == (2, 1, 1)
    assert record.parts == {
        "api_copies": 0,
        "clearance_reminders": 0,
        "messages": 2,  # the message and its thread (subject, first line)
        "tracking_events": 0,
        "legacy_events": 0,
    }
    assert record.actor_name == "tests" and record.door == "command"
    assert len(record.subject_hash) == 64 and EMAIL not in record.subject_hash
    # the other customer is untouched
    assert text_in_database("else@example.com") != []
    assert Case.objects.get(pk=customer.pk).version > 0


def test_the_command_exports_and_erases(customer, tmp_path, capsys):
    output = tmp_path / "customer.zip"
    call_command("personal_data", "export", "--email", EMAIL, "--output", str(output))
    assert "personal-data.json" in zipfile.ZipFile(output).namelist()
    call_command("personal_data", "export", "--order", "TM-PD-1", "--json")
    printed = capsys.readouterr().out
    assert json.loads(printed[printed.index("{") :])["orders"][0]["external_id"] == "TM-PD-1"
    with pytest.raises(CommandError, match="cannot be undone: add --yes"):
        call_command("personal_data", "erase", "--email", EMAIL)
    assert not PersonalDataErasure.objects.exists()
    call_command("personal_data", "erase", "--email", EMAIL, "--marketplace", "tmall", "--yes")
    assert "Erasure #" in capsys.readouterr().out
    assert PersonalDataErasure.objects.get().marketplace.code == "tmall"
    with pytest.raises(CommandError, match="No order of"):
        call_command("personal_data", "export", "--email", EMAIL, "--json")


STREET = "88 Nanjing Road, flat 12"


@pytest.fixture
def parcel_of_customer():
    """The customer's order with a shipment, an open late-shipment case, and scans whose
    location and text name the customer and the street (as carriers' texts do)."""
    from cases.services.tracking import shipment_add, tracking_events_import

    order = make_order("tmall", customer_name=NAME, customer_email=EMAIL, external_id="TM-PD-9")
    case = open_case("late_shipment", actor=ACTOR, order=order)
    shipment_add(order=order, carrier="SF Express", tracking_number="SFPD1")
    base = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    scans = [
        ("e1", "picked_up", base, "Shanghai hub", "Picked up"),
        ("e2", "delivered", base + dt.timedelta(days=2), STREET, f"Signed by {NAME}"),
    ]
    items = [
        {
            "carrier": "SF Express",
            "tracking_number": "SFPD1",
            "carrier_event_id": event_id,
            "status": status,
            "occurred_at": at,
            "location": location,
            "raw_text": text,
        }
        for event_id, status, at, location, text in scans
    ]
    tracking_events_import(items=items)
    return order, case, base, items


def test_the_export_holds_the_shipments_and_the_carriers_scans(parcel_of_customer):
    document = personal_data_export(personal_data_subject(email=EMAIL))
    assert [(s["order_external_id"], s["tracking_number"]) for s in document["shipments"]] == [
        ("TM-PD-9", "SFPD1")
    ]
    assert [(e["status"], e["location"], e["raw_text"]) for e in document["tracking_events"]] == [
        ("picked_up", "Shanghai hub", "Picked up"),
        ("delivered", STREET, f"Signed by {NAME}"),
    ]


def test_erasure_pseudonymises_the_scans_and_keeps_their_status_and_time(
    parcel_of_customer, django_capture_on_commit_callbacks
):
    from cases.models import TrackingEvent
    from cases.services.tracking import tracking_events_import
    from workspace.timeline import case_timeline

    order, case, base, items = parcel_of_customer
    # the timeline shows where the parcel was, read from the scan (not copied into the trail)
    assert STREET in {entry.detail for entry in case_timeline(case)}
    assert not CaseEvent.objects.filter(case=case, data__icontains="Nanjing").exists()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        personal_data_erase(
            subject=personal_data_subject(email=EMAIL), actor=ACTOR, door=Door.COMMAND
        )
    # then neither the street nor the name is left; status and times stay for the metrics
    assert text_in_database(EMAIL, NAME, "Nanjing") == []
    assert list(
        TrackingEvent.objects.order_by("occurred_at").values_list(
            "status", "occurred_at", "location", "raw_text"
        )
    ) == [
        ("picked_up", base, "[erased]", "[erased]"),
        ("delivered", base + dt.timedelta(days=2), "[erased]", "[erased]"),
    ]
    order.refresh_from_db()
    assert (order.picked_up_at, order.delivered_at) == (base, base + dt.timedelta(days=2))
    assert PersonalDataErasure.objects.get().parts["tracking_events"] == 2
    assert "[erased]" in {entry.detail for entry in case_timeline(case)}
    # a carrier replaying the scans brings nothing back
    again = tracking_events_import(items=items)
    assert (again.created, again.unchanged) == (0, 2)
    assert text_in_database("Nanjing", NAME) == []
    # erasing again (the e-mail is gone: by order id) changes no scan
    personal_data_erase(
        subject=personal_data_subject(order="TM-PD-9"), actor=ACTOR, door=Door.COMMAND
    )
    assert PersonalDataErasure.objects.order_by("pk").last().parts["tracking_events"] == 0
