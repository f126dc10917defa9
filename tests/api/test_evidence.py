"""Evidence through the API: multipart upload (same validation as every door), authorised
download, evidence requests with their upload link."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.demo_media import make_photo, make_video
from cases.models import CaseEvent, Evidence, EvidenceRequest
from intake.links import LinkRevoked, resolve_token
from tests.api.test_auth import assert_problem
from tests.conftest import stored_evidence
from tests.factories import open_case, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(system_actor):
    return run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)


def upload(api, case, name: str, data: bytes, **fields):
    return api.post(
        f"/api/v1/cases/{case.reference}/evidence/",
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_a_photo_and_download_it(api, jd_api, claim):
    data = make_photo("crushed box", size=(320, 240), exif_gps=True)
    response = upload(
        api, claim, "IMG_0001.jpg", data, source="customer", checklist_item="outer_box"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["duplicate"] is False
    assert (body["media_type"], body["content_type"], body["width"], body["height"]) == (
        "photo",
        "image/jpeg",
        320,
        240,
    )
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["source"] == "customer" and body["checklist_item"] == "outer_box"
    assert response["Location"] == body["download_url"]
    # the download link works with the key...
    path = body["download_url"].removeprefix("http://testserver")
    download = api.get(path)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith('inline; filename="IMG_0001.jpg"')
    stored = b"".join(download.streaming_content)
    assert stored.startswith(b"\xff\xd8") and b"GPS" not in stored[:2000]
    # ...and only for a client of the case's marketplace
    assert_problem(jd_api.get(path), 404, "not_found")
    # the audit names the API client
    event = CaseEvent.objects.get(case=claim, event_type="evidence_added")
    assert (event.door, event.actor_type) == ("api", "api_client")


def test_the_same_file_twice_is_recognised(api, claim):
    data = make_photo("twice")
    first = upload(api, claim, "a.jpg", data).json()
    again = upload(api, claim, "b.jpg", data)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == first["id"]
    assert Evidence.objects.filter(case=claim).count() == 1


def test_a_video_is_accepted(api, claim):
    response = upload(api, claim, "unboxing.mp4", make_video(seconds=1.0))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["media_type"] == "video" and body["duration_seconds"] > 0.5


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("notes.jpg", b"Dear seller, the box was crushed.\n" * 20, "unsupported_type"),
        ("empty.jpg", b"", "empty_file"),
        ("half.jpg", make_photo("cut", size=(320, 240))[:600], "corrupt_image"),
        ("photo.png", make_photo("jpeg named png"), "type_mismatch"),
    ],
)
def test_refused_files_leave_nothing(api, claim, private_media, name, data, code):
    before = stored_evidence()
    body = assert_problem(upload(api, claim, name, data), 400, code)
    assert body["errors"][0]["field"] == "file"
    assert body["detail"]
    assert not Evidence.objects.filter(case=claim).exists()
    assert not CaseEvent.objects.filter(case=claim, event_type="evidence_added").exists()
    assert stored_evidence() == before
    assert files_under(private_media / "tmp") == []


def test_upload_needs_a_file_and_a_request_of_this_case(api, claim, system_actor):
    body = assert_problem(
        api.post(f"/api/v1/cases/{claim.reference}/evidence/", {}, format="multipart"),
        400,
        "invalid",
    )
    assert body["errors"][0]["field"] == "file"
    other = run(open_case("damaged_item", actor=system_actor), ["request_evidence"], system_actor)
    foreign_request = EvidenceRequest.objects.filter(case=other).first()
    body = assert_problem(
        upload(api, claim, "a.jpg", make_photo("x"), evidence_request=foreign_request.pk),
        400,
        "invalid",
    )
    assert body["errors"] == [
        {
            "field": "evidence_request",
            "pointer": "/evidence_request",
            "detail": f"This case has no evidence request {foreign_request.pk}.",
            "code": "not_found",
        }
    ]
    json_body = api.post(f"/api/v1/cases/{claim.reference}/evidence/", {"file": "x"}, format="json")
    assert_problem(json_body, 415, "unsupported_media_type")


def test_no_upload_on_a_closed_case(api, system_actor):
    closed = run(
        open_case("oversized", actor=system_actor),
        ["request_refund", "mark_refunded", "close"],
        system_actor,
    )
    assert_problem(upload(api, closed, "a.jpg", make_photo("late")), 409, "case_closed")


def test_evidence_request_gives_an_absolute_link_and_can_be_revoked(api, jd_api, claim):
    due = timezone.now() + dt.timedelta(days=3)
    response = api.post(
        f"/api/v1/cases/{claim.reference}/evidence-requests/",
        {
            "audience": "carrier",
            "message": "Photos of the parcel at the depot, please.",
            "due_at": due.isoformat(),
            "checklist": [{"key": "parcel", "label": "The parcel", "required": True}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["audience"] == "carrier"
    assert [(i["key"], i["label"], i["required"]) for i in body["checklist"]] == [
        ("parcel", "The parcel", True)
    ]
    assert body["url"].startswith("http://testserver/e/")
    token = body["url"].removeprefix("http://testserver/e/").rstrip("/")
    assert resolve_token(token).pk == body["id"]
    assert response["Location"].endswith(f"/evidence-requests/{body['id']}/")
    # the link opens the form
    assert api.get(body["url"].removeprefix("http://testserver")).status_code == 200
    listed = api.get(f"/api/v1/cases/{claim.reference}/evidence-requests/").json()
    assert body["id"] in {r["id"] for r in listed}
    url = f"/api/v1/cases/{claim.reference}/evidence-requests/{body['id']}"
    assert_problem(jd_api.delete(url), 404, "not_found")
    revoked = api.delete(url)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] and revoked.json()["url"] is None
    with pytest.raises(LinkRevoked):
        resolve_token(token)
    assert api.delete(url).status_code == 200  # idempotent


def test_evidence_request_refusals(api, claim):
    before = EvidenceRequest.objects.filter(case=claim).count()
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    url = f"/api/v1/cases/{claim.reference}/evidence-requests/"
    body = assert_problem(api.post(url, {"due_at": past}, format="json"), 400, "invalid_value")
    assert body["errors"][0]["field"] == "due_at"
    assert_problem(api.post(url, {"audience": "neighbour"}, format="json"), 400, "invalid")
    bad_checklist = {"checklist": [{"key": "has spaces!", "label": "x"}]}
    body = assert_problem(api.post(url, bad_checklist, format="json"), 400, "invalid_value")
    assert body["errors"][0]["field"] == "checklist"
    assert EvidenceRequest.objects.filter(case=claim).count() == before
    assert_problem(api.delete(f"{url}999999"), 404, "not_found")
