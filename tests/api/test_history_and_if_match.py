"""A case's history through the API, and If-Match on every write of a case."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.demo_media import make_photo
from cases.models import Case
from cases.services import case_note_add, evidence_request_create, refund_request_create
from tests.api.test_auth import assert_problem
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def test_history_lists_typed_events_in_the_readers_language(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    api.post(
        f"/api/v1/cases/{case.reference}/transitions/",
        {"transition": "request_evidence"},
        format="json",
    )
    url = f"/api/v1/cases/{case.reference}/events/"
    english = api.get(url).json()
    assert english["next"] is None
    rows = english["results"]
    assert [r["type"] for r in rows] == ["case_opened", "transition", "evidence_requested"]
    assert rows[1]["transition"] == "request_evidence"
    assert rows[1]["title"] == "Request evidence"
    assert rows[1]["actor"]["type"] == "api_client" and rows[1]["door"] == "api"
    assert {"occurred_at", "recorded_at", "data", "detail"} <= set(rows[1])
    french = api.get(url, HTTP_ACCEPT_LANGUAGE="fr").json()["results"]
    assert french[0]["title"] == "Dossier ouvert"
    chinese = api.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert chinese[2]["title"] != rows[2]["title"]


def test_history_is_cursor_paginated_and_orderable(api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    for n in range(5):
        case_note_add(case=case.pk, text=f"note {n}", actor=system_actor, door="admin")
    url = f"/api/v1/cases/{case.reference}/events/"
    first = api.get(url, {"page_size": 4}).json()
    assert len(first["results"]) == 4 and first["next"]
    second = api.get(first["next"]).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(ids) == 6 == len(set(ids))
    newest = api.get(url, {"ordering": "-recorded_at", "page_size": 1}).json()["results"][0]
    assert newest["note"] == "note 4"
    assert_problem(api.get(url, {"ordering": "transition"}), 400, "invalid")


def test_history_of_another_marketplaces_case_is_404(jd_api, system_actor):
    case = open_case("cancellation", actor=system_actor)
    assert jd_api.get(f"/api/v1/cases/{case.reference}/events/").status_code == 404


def _stale(case: Case, system_actor) -> str:
    """The ETag a client read, then made stale by an agent's note."""
    etag = f'"{Case.objects.get(pk=case.pk).version}"'
    case_note_add(case=case.pk, text="agent called", actor=system_actor, door="admin")
    return etag


def test_every_write_of_a_case_honours_if_match(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    base = f"/api/v1/cases/{case.reference}"
    request = evidence_request_create(case=case, actor=system_actor, door="admin")
    refund = refund_request_create(
        case=case, amount="10.00", currency="CNY", actor=system_actor, door="admin"
    )
    photo = make_photo("if-match", seed=3, size=(32, 24))
    writes = {
        "evidence": lambda etag: api.post(
            f"{base}/evidence/",
            {"file": SimpleUploadedFile("p.jpg", photo), "source": "api"},
            format="multipart",
            HTTP_IF_MATCH=etag,
        ),
        "evidence request": lambda etag: api.post(
            f"{base}/evidence-requests/", {"audience": "supplier"}, HTTP_IF_MATCH=etag
        ),
        "revoke": lambda etag: api.delete(
            f"{base}/evidence-requests/{request.pk}/", HTTP_IF_MATCH=etag
        ),
        "refund request": lambda etag: api.post(
            f"{base}/refund-requests/",
            {"amount": "5.00", "currency": "CNY"},
            HTTP_IF_MATCH=etag,
        ),
        "refund decision": lambda etag: api.post(
            f"{base}/refund-decisions/",
            {"refund_request": refund.pk, "decision": "approved"},
            HTTP_IF_MATCH=etag,
        ),
        "details": lambda etag: api.patch(f"{base}/", {"priority": "high"}, HTTP_IF_MATCH=etag),
        "transition": lambda etag: api.post(
            f"{base}/transitions/", {"transition": "escalate"}, HTTP_IF_MATCH=etag
        ),
    }
    for name, write in writes.items():
        stale = _stale(case, system_actor)
        before = Case.objects.get(pk=case.pk)
        assert_problem(write(stale), 409, "case_changed"), name
        after = Case.objects.get(pk=case.pk)
        assert after.version == before.version, name  # nothing written
        fresh = f'"{after.version}"'
        response = write(fresh)
        assert response.status_code in {200, 201}, (name, response.content)
        assert response["ETag"] == f'"{Case.objects.get(pk=case.pk).version}"', name
