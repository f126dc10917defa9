"""Rules of the server that the schema states (found by Schemathesis, tests/api/test_schema.py:
each was a 400 to a request the schema called valid). Each value is refused by the server as a
problem naming its field, nothing is written, and the schema refuses the same value."""

from __future__ import annotations

import re

import pytest

from cases.models import Case, EvidenceRequest, PersonalDataErasure, Shipment, TrackingEvent
from scorecards.models import CustomerServiceSurvey
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    return client.get("/api/schema/?format=json").json()


def body_schema(schema: dict, path: str) -> dict:
    content = schema["paths"][path]["post"]["requestBody"]["content"]
    return next(iter(content.values()))["schema"]


def component(schema: dict, ref: dict) -> dict:
    if "items" in ref:  # a list body
        ref = ref["items"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]


def text_variants(prop: dict) -> list[dict]:
    """The string schemas a property allows (drf-spectacular writes a blank-allowing field as
    oneOf: the text, or "")."""
    return [v for v in prop.get("oneOf", [prop]) if v.get("type") == "string"]


def schema_allows(prop: dict, value: str) -> bool:
    return any(
        len(value) <= v.get("maxLength", len(value))
        and len(value) >= v.get("minLength", 0)
        and re.search(v.get("pattern", ""), value) is not None
        for v in text_variants(prop)
    )


def test_nul_in_an_evidence_request_message_is_refused_as_the_schema_says(
    api, schema, system_actor
):
    # given
    claim = open_case("damaged_item", actor=system_actor)
    version = Case.objects.get(pk=claim.pk).version
    path = "/api/v1/cases/{reference}/evidence-requests/"
    message = component(schema, body_schema(schema, path))["properties"]["message"]

    # when
    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence-requests/",
        {"message": "Please send\x00 a photo"},
        format="json",
    )

    # then
    body = assert_problem(response, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("message", "null_characters_not_allowed")
    ]
    assert not EvidenceRequest.objects.filter(case=claim).exists()
    assert Case.objects.get(pk=claim.pk).version == version
    assert not schema_allows(message, "Please send\x00 a photo")
    assert schema_allows(message, "Please send a photo") and schema_allows(message, "")


@pytest.mark.parametrize("value", ["   ", "\x1c\u3000", "\t\n"])
def test_a_tracking_number_of_spaces_is_blank_as_the_schema_says(api, schema, value):
    from tests.api.conftest import order

    order("T-1")
    item = {"marketplace": "tmall", "order": "T-1", "carrier": "SF", "tracking_number": value}
    prop = component(schema, body_schema(schema, "/api/v1/shipments/"))["properties"]

    response = api.post("/api/v1/shipments/", [item], format="json")

    body = assert_problem(response, 400, "invalid")
    assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [
        (0, "tracking_number", "blank")
    ]
    assert not Shipment.objects.exists()
    assert not schema_allows(prop["tracking_number"], value)
    assert schema_allows(prop["tracking_number"], f"{value}SF1{value}")


def test_nul_in_imported_ids_is_refused_per_item_as_the_schema_says(api, schema):
    survey = {
        "marketplace": "amazon_fr",
        "external_id": "S\x001",
        "answered_at": "2025-10-20T12:00:00+02:00",
        "dissatisfied": False,
    }
    scan = {
        "carrier": "SF",
        "tracking_number": "SF\x001",
        "carrier_event_id": "1",
        "status": "picked_up",
        "occurred_at": "2026-01-05T10:00:00+08:00",
    }
    cases = [
        ("/api/v1/survey-answers/", survey, "external_id", CustomerServiceSurvey),
        ("/api/v1/tracking-events/", scan, "tracking_number", TrackingEvent),
    ]
    for path, item, field, model in cases:
        fixed = {**item, field: item[field].replace("\x00", "")}
        prop = component(schema, body_schema(schema, path))["properties"][field]

        response = api.post(path, [fixed, item], format="json")

        body = assert_problem(response, 400, "invalid")
        assert [(e["index"], e["field"], e["code"]) for e in body["errors"]] == [
            (1, field, "null_characters_not_allowed")
        ], path
        assert not model.objects.exists(), path
        assert not schema_allows(prop, item[field]) and schema_allows(prop, fixed[field])


@pytest.mark.parametrize("action", ["export", "erase"])
def test_personal_data_needs_a_body_as_the_schema_says(db, schema, action):
    from tests.api.conftest import http, make_client

    api = http(make_client("dpo", ["tmall"], may_handle_personal_data=True)[1])
    path = f"/api/v1/personal-data/{action}/"

    response = api.post(path)

    body = assert_problem(response, 400, "invalid_value" if action == "export" else "invalid")
    assert body["errors"][0]["field"] in {"email", "confirm"}
    assert not PersonalDataErasure.objects.exists()
    assert schema["paths"][path]["post"]["requestBody"]["required"] is True


def test_checklist_items_with_the_same_key_are_refused_as_duplicates(api, system_actor):
    # "Box!" and "box" both make the key box: a rule on the items together, which no schema
    # states, answered with its own code (as duplicate items of an import are).
    claim = open_case("damaged_item", actor=system_actor)
    version = Case.objects.get(pk=claim.pk).version

    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence-requests/",
        {"checklist": ["Box!", {"label": "box", "hint": "the outer box"}]},
        format="json",
    )

    body = assert_problem(response, 400, "duplicate")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("checklist", "duplicate")]
    assert "“box”" in body["detail"]
    assert not EvidenceRequest.objects.filter(case=claim).exists()
    assert Case.objects.get(pk=claim.pk).version == version


@pytest.mark.parametrize(
    ("occurred_at", "plausible"),
    [
        ("1970-01-01T05:00:00+08:00", False),  # 1969-12-31 in UTC
        ("0119-06-16T12:40:17Z", False),
        ("2101-01-01T00:00:00Z", False),
        ("1970-01-02T05:00:00+08:00", True),
    ],
)
def test_a_scan_time_is_within_the_plausible_days_as_the_schema_says(
    api, schema, occurred_at, plausible
):
    scan = {
        "carrier": "SF",
        "tracking_number": "SF1",
        "carrier_event_id": "1",
        "status": "picked_up",
        "occurred_at": occurred_at,
    }
    prop = component(schema, body_schema(schema, "/api/v1/tracking-events/"))["properties"]

    response = api.post("/api/v1/tracking-events/", [scan], format="json")

    assert (re.search(prop["occurred_at"]["pattern"], occurred_at) is not None) is plausible
    if plausible:
        assert response.status_code == 200, response.content
        assert TrackingEvent.objects.count() == 1
    else:
        body = assert_problem(response, 400, "invalid_value")
        assert [(e["index"], e["field"]) for e in body["errors"]] == [(0, "occurred_at")]
        assert not TrackingEvent.objects.exists()


def test_an_empty_evidence_file_is_refused_as_the_schema_says(api, schema, system_actor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import Evidence

    # given
    claim = open_case("damaged_item", actor=system_actor)
    path = "/api/v1/cases/{reference}/evidence/"
    file = component(schema, body_schema(schema, path))["properties"]["file"]

    # when
    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence/",
        {"file": SimpleUploadedFile("photo.jpg", b"", content_type="image/jpeg")},
        format="multipart",
    )

    # then: refused in words, nothing stored, and the schema asks for at least one byte
    body = assert_problem(response, 400, "empty_file")
    assert body["errors"][0]["field"] == "file"
    assert "empty" in body["detail"]
    assert not Evidence.objects.filter(case=claim).exists()
    assert (file["format"], file["minLength"]) == ("binary", 1)
