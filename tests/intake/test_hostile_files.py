"""The issue's hostile-file set, sent through HTTP as a hostile client would (names as given):
each is refused with a clear reason, and nothing of it is left on disk or in the database."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cases.demo_media import make_audio_only_mp4, make_photo, make_video
from cases.models import CaseEvent, Evidence
from tests.intake.conftest import files_under, link, post_files

pytestmark = pytest.mark.django_db


def truncated_jpeg() -> bytes:
    data = make_photo("trunc", size=(800, 600))
    return data[: len(data) // 2]


def decompression_bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # 400 megapixels in a few KB
    return buffer.getvalue()


HOSTILE = [
    ("notes.jpg", lambda: b"just some text, not a photo\n" * 20, "image/jpeg", "contains text"),
    (
        "page.html",
        lambda: b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
        "text/html",
        "it contains a web page (HTML)",
    ),
    (
        "drawing.svg",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "image/svg+xml",
        "it contains an SVG drawing",
    ),
    ("broken.jpg", truncated_jpeg, "image/jpeg", "is damaged or incomplete"),
    ("bomb.png", decompression_bomb, "image/png", "has too many pixels"),
    ("empty.jpg", lambda: b"", "image/jpeg", "is empty (0 bytes)"),
    # (names with path parts are stored under their last part: tests/intake/test_file_names.py)
    (
        "..\\\u202e..",
        lambda: make_photo("nothing-left"),
        "image/jpeg",
        "cannot be used: give the file a plain name",
    ),
    (
        "photo.mp4",
        lambda: make_photo("renamed"),
        "video/mp4",
        "is named like a MP4/MOV video but contains a JPEG photo",
    ),
    ("sound.mp4", make_audio_only_mp4, "video/mp4", "it contains no video track"),
]


@pytest.mark.parametrize(
    ("name", "make", "content_type", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
@pytest.mark.parametrize("door", ["script", "plain form"])
def test_hostile_file_is_refused_and_leaves_nothing(
    client, customer_request, private_media, name, make, content_type, reason, door
):
    if door == "script":
        response = post_files(
            client,
            link(customer_request),
            [("file", name, make(), content_type)],
            fields={"item": "item"},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 422
        result = response.json()["files"][0]
        assert result["status"] == "refused"
        assert reason in result["message"]
        assert result["preview_url"] is None
    else:
        response = post_files(
            client, link(customer_request), [("files:item", name, make(), content_type)]
        )
        assert response.status_code == 422
        assert reason in response.content.decode()

    assert Evidence.objects.count() == 0
    assert not CaseEvent.objects.filter(event_type="evidence_added").exists()
    assert files_under(private_media, "evidence") == []
    assert files_under(private_media, "tmp") == []


def test_oversize_file_is_cut_off_while_streaming_and_refused_on_its_real_size(
    client, customer_request, private_media, settings
):
    settings.EVIDENCE_MAX_PHOTO_BYTES = 40_000
    settings.EVIDENCE_MAX_VIDEO_BYTES = 60_000
    big = make_video(seconds=4, size=(320, 240), seed=5) + b"\0" * 200_000
    assert len(big) > 200_000

    response = post_files(
        client,
        link(customer_request),
        [("file", "long.mp4", big, "video/mp4")],
        fields={"item": "item"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 422
    message = response.json()["files"][0]["message"]
    assert message.startswith("“long.mp4” is too large (")
    assert "the limit is 0.1 MB" in message
    assert Evidence.objects.count() == 0
    assert files_under(private_media, "tmp") == []


def test_a_bad_file_among_good_ones_refuses_only_itself(client, customer_request):
    response = post_files(
        client,
        link(customer_request),
        [
            ("files:outer_box", "box.jpg", make_photo("box", seed=1), "image/jpeg"),
            ("files:item", "notes.jpg", b"plain text" * 30, "image/jpeg"),
            ("files:shipping_label", "label.jpg", make_photo("label", seed=2), "image/jpeg"),
        ],
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="file accepted"') == 2
    assert page.count('class="file refused"') == 1
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == [
        "box.jpg",
        "label.jpg",
    ]


def test_too_many_files_at_once_are_not_read(client, customer_request, monkeypatch):
    from intake.views import form

    monkeypatch.setattr(form, "MAX_FILES_PER_POST", 2)
    files = [
        ("files:item", f"{n}.jpg", make_photo(str(n), seed=n, size=(64, 48)), "image/jpeg")
        for n in range(4)
    ]

    response = post_files(client, link(customer_request), files)

    assert "2 more files were not read: send at most 2 files at once." in (
        response.content.decode()
    )
    assert Evidence.objects.count() == 2


def test_a_malformed_body_is_answered_plainly(client, customer_request, private_media):
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    response = client.generic(
        "POST",
        link(customer_request),
        body + make_photo("cut")[:500],  # the closing boundary never comes
        content_type="multipart/form-data; boundary=xyz",
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["notices"] == ["Choose at least one photo or video."]
    assert Evidence.objects.count() == 0
    assert files_under(private_media, "tmp") == []
