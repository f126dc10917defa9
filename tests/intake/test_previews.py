"""Previews made by the background task ``make_evidence_previews``, never in the request."""

from __future__ import annotations

import io

import av
import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageStat

from cases.demo_media import make_photo
from cases.models import Evidence, evidence_storage
from cases.services import evidence_add
from cases.tasks import make_evidence_previews

pytestmark = pytest.mark.django_db


def black_then_white_video(seconds: float = 3, fps: int = 10) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index in range(int(seconds * fps)):
            colour = "black" if index < fps // 2 else "white"
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), colour))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def add(case, name, data, actor):
    return evidence_add(
        case=case, upload=ContentFile(data, name=name), source="customer", actor=actor, door="form"
    ).evidence


def preview_of(evidence: Evidence) -> Image.Image:
    evidence.refresh_from_db()
    with evidence_storage.open(evidence.thumbnail.name) as handle:
        image = Image.open(handle)
        image.load()
    return image


def test_the_request_makes_no_preview_the_task_does(awaiting_case, system_actor):
    video = add(awaiting_case, "clip.mp4", black_then_white_video(), system_actor)
    assert not Evidence.objects.get(pk=video.pk).thumbnail  # on_commit never ran here

    name = make_evidence_previews(video.pk)

    assert name and preview_of(video).format == "JPEG"
    assert make_evidence_previews(video.pk) == ""  # idempotent: already made


def test_a_video_poster_is_taken_about_a_second_in(awaiting_case, system_actor):
    video = add(awaiting_case, "clip.mp4", black_then_white_video(), system_actor)

    make_evidence_previews(video.pk)

    assert ImageStat.Stat(preview_of(video).convert("L")).mean[0] > 200  # not the black start


def test_a_large_photo_preview_is_small(awaiting_case, system_actor):
    photo = add(awaiting_case, "big.jpg", make_photo("big", size=(4000, 3000)), system_actor)

    make_evidence_previews(photo.pk)

    assert max(preview_of(photo).size) == 480
