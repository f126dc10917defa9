"""Background tasks (django-q2). Each takes ids, loads rows and calls a service; each is
idempotent, so a re-run after a crash is harmless."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import av
from django.core.files import File
from PIL import Image, ImageOps

from marketplaces.models import Marketplace

from .choices import MediaType
from .models import Evidence, evidence_storage, evidence_upload_to
from .services.deadlines import DeadlineCause, marketplace_deadlines_refresh

logger = logging.getLogger(__name__)
PREVIEW_SIZE = (480, 480)


def recompute_marketplace_deadlines(
    marketplace_id: int, cause: str = DeadlineCause.CALENDAR_CHANGE
) -> int:
    marketplace = Marketplace.objects.filter(pk=marketplace_id).first()
    if marketplace is None:
        return 0
    changed = marketplace_deadlines_refresh(marketplace=marketplace, cause=cause)
    logger.info("Recomputed deadlines of %s cases of %s (%s)", changed, marketplace.code, cause)
    return changed


def make_evidence_previews(evidence_id: int) -> str:
    """A JPEG thumbnail of a photo, or a poster frame of a video, for galleries."""
    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None or evidence.thumbnail:
        return ""
    image: Image.Image
    with evidence_storage.open(evidence.file.name, "rb") as source:
        if evidence.media_type == MediaType.PHOTO:
            image = Image.open(source)
            # A JPEG is decoded straight at a reduced scale: a 40-megapixel photo would
            # otherwise take 120 MB in the worker for a 480-pixel preview.
            image.draft("RGB", (PREVIEW_SIZE[0] * 2, PREVIEW_SIZE[1] * 2))
            image.load()
        else:
            image = _poster_frame(source)
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail(PREVIEW_SIZE)
    fd, raw = tempfile.mkstemp(suffix=".jpg")
    os.close(fd)
    try:
        image.save(raw, "JPEG", quality=82)
        with open(raw, "rb") as handle:
            name = evidence_storage.save(evidence_upload_to(evidence, "preview.jpg"), File(handle))
    finally:
        Path(raw).unlink(missing_ok=True)
    updated = Evidence.objects.filter(pk=evidence_id, thumbnail="").update(thumbnail=name)
    if not updated:  # another run made one meanwhile
        evidence_storage.delete(name)
    return name


POSTER_AT_SECONDS = 1.0


def _poster_frame(source: object) -> Image.Image:
    """A frame about a second in (a phone video often starts black or blurred), or the first
    frame of a shorter video."""
    with av.open(source, mode="r") as container:
        stream = container.streams.video[0]
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        at = min(POSTER_AT_SECONDS, duration / 2)
        if at > 0 and stream.time_base:
            try:
                # Seeks to the key frame before ``at``; decode on to the first frame at or after.
                container.seek(int(at / stream.time_base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.time is None or frame.time >= at:
                        return frame.to_image()
            except av.FFmpegError:
                pass
            container.seek(0, stream=stream)
        return next(container.decode(stream)).to_image()
