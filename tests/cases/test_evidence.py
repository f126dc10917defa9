"""Evidence validation with real generated files; refusals leave nothing behind."""

import hashlib
import io
from pathlib import Path, PurePosixPath

import av
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from cases.demo_media import make_audio_only_mp4, make_photo, make_video
from cases.errors import ErrorCode, EvidenceRefused
from cases.models import CaseEvent, Evidence, evidence_storage
from cases.services import evidence_add
from tests.conftest import stored_evidence
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(system_actor):
    return open_case("damaged_item", actor=system_actor)


def add(case, name, data, actor):
    # ContentFile keeps the name as given (SimpleUploadedFile would already cut it down).
    return evidence_add(
        case=case, upload=ContentFile(data, name=name), source="customer", actor=actor, door="form"
    )


def stored_files(root: Path) -> list[PurePosixPath]:
    return stored_evidence()  # a folder or a bucket (--evidence-storage)


def temp_files(root: Path) -> list[Path]:
    return [p for p in (root / "tmp").rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("name", "fmt", "content_type"),
    [
        ("box.jpg", "JPEG", "image/jpeg"),
        ("label.png", "PNG", "image/png"),
        ("item.webp", "WEBP", "image/webp"),
    ],
)
def test_real_photos_are_accepted(case, system_actor, name, fmt, content_type):
    data = make_photo("ok", fmt=fmt, size=(320, 240))
    added = add(case, name, data, system_actor)
    evidence = added.evidence
    assert not added.duplicate
    assert (evidence.media_type, evidence.content_type) == ("photo", content_type)
    assert (evidence.width, evidence.height) == (320, 240)
    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.size_bytes == len(data)
    assert evidence.original_name == name
    assert evidence.file.name.startswith("cases/") and name not in evidence.file.name
    with evidence_storage.open(evidence.file.name) as stored:
        assert Image.open(stored).format == fmt
    assert CaseEvent.objects.filter(case=case, event_type="evidence_added").count() == 1


def test_heic_photo_is_stored_as_jpeg(case, system_actor):
    import pillow_heif

    image = Image.new("RGB", (64, 48), "blue")
    heif = pillow_heif.from_pillow(image)
    buffer = io.BytesIO()
    heif.save(buffer, quality=80)
    evidence = add(case, "IMG_0001.HEIC", buffer.getvalue(), system_actor).evidence
    assert evidence.content_type == "image/jpeg"
    assert evidence.file.name.endswith(".jpg")


def test_real_videos_are_accepted_and_probed(case, system_actor):
    mp4 = add(case, "unboxing.mp4", make_video(seconds=2, size=(320, 240)), system_actor).evidence
    assert (mp4.media_type, mp4.content_type, mp4.video_codec) == ("video", "video/mp4", "h264")
    assert (mp4.width, mp4.height) == (320, 240)
    assert mp4.duration_seconds == pytest.approx(2.0, abs=0.2)
    webm = add(case, "clip.webm", make_video(container="webm", seed=3), system_actor).evidence
    assert (webm.content_type, webm.video_codec) == ("video/webm", "vp9")
    mov = add(case, "IMG_0002.MOV", make_video(seed=4), system_actor).evidence
    assert mov.content_type == "video/mp4"


def test_gps_exif_is_stripped_and_the_digest_is_of_the_original(case, system_actor):
    original = make_photo("gps", exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it does carry GPS
    evidence = add(case, "gps.jpg", original, system_actor).evidence
    with evidence_storage.open(evidence.file.name) as stored:
        data = stored.read()
    exif = Image.open(io.BytesIO(data)).getexif()
    assert not exif.get_ifd(0x8825)
    assert 0x010F not in exif and 0x0110 not in exif  # make, model
    assert b"PhoneModel" not in data
    assert evidence.sha256 == hashlib.sha256(original).hexdigest()
    assert evidence.sha256 != hashlib.sha256(data).hexdigest()


def test_video_metadata_is_stripped(case, system_actor):
    original = make_video(metadata={"location": "+48.8577+002.2950/", "comment": "secret"})
    evidence = add(case, "geo.mp4", original, system_actor).evidence
    with evidence_storage.open(evidence.file.name) as stored:
        data = stored.read()
    assert b"+48.8577" not in data and b"secret" not in data
    with av.open(io.BytesIO(data)) as container:
        assert "location" not in container.metadata


def test_the_same_file_twice_is_recognised(case, system_actor, private_media):
    data = make_photo("dup")
    first = add(case, "a.jpg", data, system_actor)
    second = add(case, "renamed.jpg", data, system_actor)
    assert second.duplicate and second.evidence.pk == first.evidence.pk
    assert Evidence.objects.filter(case=case).count() == 1
    assert len(stored_files(private_media)) == 1


def truncated_jpeg():
    data = make_photo("trunc", size=(800, 600))
    return data[: len(data) // 2]


def bomb_png():
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # 400 MP, a few KB compressed
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "code", "words"),
    [
        (
            "notes.jpg",
            lambda: b"just some text, not a photo\n" * 20,
            ErrorCode.UNSUPPORTED_TYPE,
            "contains text",
        ),
        (
            "page.jpg",
            lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            ErrorCode.UNSUPPORTED_TYPE,
            "a web page (HTML)",
        ),
        (
            "drawing.png",
            lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
            ErrorCode.UNSUPPORTED_TYPE,
            "an SVG drawing",
        ),
        (
            "photo.mp4",
            lambda: make_photo("x"),
            ErrorCode.TYPE_MISMATCH,
            "is named like a MP4/MOV video but contains a JPEG photo",
        ),
        (
            "clip.jpg",
            lambda: make_video(),
            ErrorCode.TYPE_MISMATCH,
            "is named like a JPEG photo but contains a MP4/MOV video",
        ),
        ("broken.jpg", truncated_jpeg, ErrorCode.CORRUPT_IMAGE, "damaged or incomplete"),
        ("bomb.png", bomb_png, ErrorCode.TOO_MANY_PIXELS, "too many pixels"),
        ("empty.jpg", lambda: b"", ErrorCode.EMPTY_FILE, "is empty"),
        ("sound.mp4", make_audio_only_mp4, ErrorCode.NO_VIDEO_STREAM, "no video track"),
        (
            "../..",  # nothing left once the path parts go (cases.filenames)
            lambda: make_photo("p"),
            ErrorCode.BAD_FILE_NAME,
            "cannot be used: give the file a plain name",
        ),
        ("doc.pdf", lambda: b"%PDF-1.4 fake", ErrorCode.UNSUPPORTED_TYPE, "a PDF document"),
    ],
)
def test_hostile_files_are_refused_and_leave_nothing(
    case, system_actor, private_media, name, make, code, words
):
    with pytest.raises(EvidenceRefused) as refused:
        add(case, name, make(), system_actor)
    assert refused.value.code == code
    assert words in refused.value.message
    assert Evidence.objects.count() == 0
    assert CaseEvent.objects.filter(event_type="evidence_added").count() == 0
    assert stored_files(private_media) == []
    assert temp_files(private_media) == []


def test_pixel_limit_is_configurable(case, system_actor, settings):
    settings.EVIDENCE_MAX_PHOTO_PIXELS = 100 * 100
    with pytest.raises(EvidenceRefused) as refused:
        add(case, "big.png", make_photo("big", fmt="PNG", size=(200, 200)), system_actor)
    assert refused.value.code == ErrorCode.TOO_MANY_PIXELS
    assert "(200 × 200)" in refused.value.message


def test_oversize_file_is_refused(case, system_actor, settings, private_media):
    settings.EVIDENCE_MAX_PHOTO_BYTES = 1000
    settings.EVIDENCE_MAX_VIDEO_BYTES = 2000
    with pytest.raises(EvidenceRefused) as refused:
        add(case, "big.jpg", make_photo("big", size=(400, 300)), system_actor)
    assert refused.value.code == ErrorCode.FILE_TOO_LARGE
    assert stored_files(private_media) == []


def test_too_long_video_is_refused(case, system_actor, settings):
    settings.EVIDENCE_MAX_VIDEO_SECONDS = 1
    with pytest.raises(EvidenceRefused) as refused:
        add(case, "long.mp4", make_video(seconds=3), system_actor)
    assert refused.value.code == ErrorCode.VIDEO_TOO_LONG


def test_closed_case_takes_no_evidence(system_actor):
    from tests.factories import run

    case = run(
        open_case("cancellation", actor=system_actor),
        ["request_refund", "mark_refunded", "close"],
        system_actor,
    )
    with pytest.raises(EvidenceRefused) as refused:
        add(case, "a.jpg", make_photo("late"), system_actor)
    assert refused.value.code == ErrorCode.CASE_CLOSED


def test_previews_are_made_by_the_background_task(
    case, system_actor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        photo = add(case, "p.jpg", make_photo("thumb", size=(1200, 900)), system_actor).evidence
        video = add(case, "v.mp4", make_video(size=(320, 240)), system_actor).evidence
    photo.refresh_from_db()
    video.refresh_from_db()
    for item in (photo, video):
        assert item.thumbnail
        with evidence_storage.open(item.thumbnail.name) as thumb:
            image = Image.open(thumb)
            assert image.format == "JPEG" and max(image.size) <= 480
