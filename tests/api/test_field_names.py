"""Fields say what they hold: a priority by its name, the evidence request a file answers by
that name, the cases whose first response a message import recorded as such."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.choices import Priority
from cases.demo_media import make_photo
from cases.models import Case, EvidenceRequest
from tests.api.conftest import order
from tests.api.test_auth import assert_problem
from tests.factories import open_case, run

pytestmark = pytest.mark.django_db


def test_priority_is_given_and_shown_by_its_name(api):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "damaged_item", "priority": "high"}

    created = api.post("/api/v1/cases/", body, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["priority"] == "high"
    case = Case.objects.get()
    assert case.priority == Priority.HIGH
    listed = api.get("/api/v1/cases/").json()["results"]
    assert [c["priority"] for c in listed] == ["high"]


def test_a_priority_number_is_refused_with_the_names(api):
    order("O-1")
    body = {"marketplace": "tmall", "order": "O-1", "kind": "damaged_item", "priority": 30}

    problem = assert_problem(api.post("/api/v1/cases/", body, format="json"), 400, "invalid")

    assert problem["errors"][0]["detail"] == (
        "“30” is not a valid choice; use one of: low, normal, high, urgent."
    )
    assert not Case.objects.exists()


def test_the_schema_names_the_priorities(client):
    openapi = client.get("/api/schema/?format=json").json()
    assert openapi["components"]["schemas"]["PriorityEnum"]["enum"] == [
        "low",
        "normal",
        "high",
        "urgent",
    ]


def test_a_file_names_the_evidence_request_it_answers(api, system_actor):
    claim = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    evidence_request = EvidenceRequest.objects.get(case=claim)

    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence/",
        {
            "file": SimpleUploadedFile("box.jpg", make_photo("box", seed=3, size=(64, 48))),
            "evidence_request": evidence_request.pk,
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["evidence_request"] == evidence_request.pk
    assert "request" not in response.json()
    detail = api.get(f"/api/v1/cases/{claim.reference}/").json()
    assert [e["evidence_request"] for e in detail["evidence"]] == [evidence_request.pk]
