"""Evidence files are served only by views that check access, with safe headers, streamed,
with HTTP Range for video players."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth.models import Permission
from PIL import Image

from cases.demo_media import make_photo, make_video
from cases.models import Evidence, evidence_storage
from tests.intake.conftest import link, post_files, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_case"))
    return user


@pytest.fixture
def sent(client, customer_request, django_capture_on_commit_callbacks):
    """A photo with GPS data and a video, sent by the customer through the form; their
    previews made by the background task (in-process in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        post_files(
            client,
            link(customer_request),
            [
                ("files:item", "gps.jpg", make_photo("gps", exif_gps=True), "image/jpeg"),
                ("files:unboxing_video", "clip.mp4", make_video(seconds=2), "video/mp4"),
            ],
        )
    photo = Evidence.objects.get(original_name="gps.jpg")
    video = Evidence.objects.get(original_name="clip.mp4")
    return photo, video


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def test_staff_with_view_case_get_the_file_with_safe_headers(client, viewer, sent):
    photo, _video = sent
    client.force_login(viewer)

    response = client.get(f"/evidence/{photo.pk}/file/")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="gps.jpg"'
    assert "sandbox" in response["Content-Security-Policy"]
    with evidence_storage.open(photo.file.name) as stored:
        assert content(response) == stored.read()


def test_a_stored_photo_has_no_gps_and_keeps_the_original_digest(client, viewer, sent):
    photo, _video = sent
    original = make_photo("gps", exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    client.force_login(viewer)

    served = content(client.get(f"/evidence/{photo.pk}/file/"))

    exif = Image.open(io.BytesIO(served)).getexif()
    assert not exif.get_ifd(0x8825)
    assert b"PhoneModel" not in served
    assert photo.sha256 == hashlib.sha256(original).hexdigest()
    assert photo.sha256 != hashlib.sha256(served).hexdigest()


def test_anonymous_visitors_are_sent_to_the_login(client, sent):
    photo, _video = sent

    response = client.get(f"/evidence/{photo.pk}/file/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_staff_without_view_case_are_refused(client, agent, sent):
    photo, _video = sent
    client.force_login(agent)

    assert client.get(f"/evidence/{photo.pk}/file/").status_code == 403
    assert client.get(f"/evidence/{photo.pk}/preview/").status_code == 403


def test_unknown_evidence_is_not_found(client, viewer, db):
    client.force_login(viewer)

    assert client.get("/evidence/999999/file/").status_code == 404


def test_video_answers_range_requests(client, viewer, sent):
    _photo, video = sent
    client.force_login(viewer)
    with evidence_storage.open(video.file.name) as stored:
        whole = stored.read()

    first = client.get(f"/evidence/{video.pk}/file/", HTTP_RANGE="bytes=0-99")
    suffix = client.get(f"/evidence/{video.pk}/file/", HTTP_RANGE="bytes=-50")
    open_ended = client.get(f"/evidence/{video.pk}/file/", HTTP_RANGE="bytes=100-")
    beyond = client.get(f"/evidence/{video.pk}/file/", HTTP_RANGE=f"bytes={len(whole)}-")

    assert first.status_code == 206
    assert first["Content-Type"] == "video/mp4"
    assert first["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert first["Content-Length"] == "100"
    assert content(first) == whole[:100]
    assert content(suffix) == whole[-50:]
    assert content(open_ended) == whole[100:]
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(whole)}"
    assert client.get(f"/evidence/{video.pk}/file/")["Accept-Ranges"] == "bytes"


def test_previews_are_served_once_made(client, viewer, sent):
    photo, video = sent
    client.force_login(viewer)

    for item in (photo, video):
        response = client.get(f"/evidence/{item.pk}/preview/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(content(response))).format == "JPEG"


def test_a_placeholder_stands_in_until_the_preview_is_made(client, viewer, sent):
    photo, _video = sent
    Evidence.objects.filter(pk=photo.pk).update(thumbnail="")
    client.force_login(viewer)

    response = client.get(f"/evidence/{photo.pk}/preview/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Preview-Pending"] == "1"
    assert response["Cache-Control"] == "no-store"


def test_the_link_holder_sees_the_files_sent_through_that_link(client, customer_request, sent):
    photo, video = sent
    token = token_of(customer_request)

    response = client.get(f"/e/{token}/files/{video.pk}/", HTTP_RANGE="bytes=0-9")

    assert response.status_code == 206
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/e/{token}/files/{photo.pk}/preview/").status_code == 200


def test_a_partner_link_never_reaches_the_customer_files(
    client, partner_request, customer_request, sent
):
    photo, _video = sent
    partner_token = token_of(partner_request)

    assert client.get(f"/e/{partner_token}/files/{photo.pk}/").status_code == 404
    assert client.get(f"/e/{partner_token}/files/{photo.pk}/preview/").status_code == 404


def test_a_link_of_case_a_never_reaches_files_of_case_b(client, sent, make_case, system_actor):
    from cases.choices import Door
    from cases.services import evidence_request_create

    photo, _video = sent
    other = evidence_request_create(
        case=make_case("damaged_item"), actor=system_actor, door=Door.ADMIN
    )

    assert client.get(f"/e/{token_of(other)}/files/{photo.pk}/").status_code == 404


def test_a_revoked_link_no_longer_serves_its_files(
    client, customer_request, sent, supervisor_actor
):
    from cases.choices import Door
    from cases.services import evidence_request_revoke

    photo, _video = sent
    token = token_of(customer_request)
    evidence_request_revoke(
        evidence_request=customer_request, actor=supervisor_actor, door=Door.ADMIN
    )

    assert client.get(f"/e/{token}/files/{photo.pk}/").status_code == 404


def test_files_are_stored_outside_any_url(client, sent, settings):
    photo, _video = sent

    assert not hasattr(settings, "MEDIA_URL") or settings.MEDIA_URL in {"", "/"}
    assert client.get(f"/media/evidence/{photo.file.name}").status_code == 404
    assert client.get(f"/{photo.file.name}").status_code == 404


def test_file_views_use_a_fixed_number_of_queries(
    client, viewer, customer_request, sent, django_assert_max_num_queries
):
    photo, video = sent
    token = token_of(customer_request)
    with django_assert_max_num_queries(2):  # the link's request (with case and order), the file
        client.get(f"/e/{token}/files/{video.pk}/")
    client.force_login(viewer)
    with django_assert_max_num_queries(5):  # session, user, its and its groups' rights, file
        client.get(f"/evidence/{photo.pk}/file/")


def test_file_views_of_a_link_are_rate_limited(client, customer_request, sent, settings):
    from django.core.cache import cache

    photo, _video = sent
    cache.clear()  # forget the visits of the upload
    settings.INTAKE_RATE_LIMITS = {"visit_address": (1, 600)}
    token = token_of(customer_request)

    first = client.get(f"/e/{token}/files/{photo.pk}/preview/")
    second = client.get(f"/e/{token}/files/{photo.pk}/preview/")

    assert (first.status_code, second.status_code) == (200, 429)
