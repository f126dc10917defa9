"""Inspecting and cleaning evidence files: is it really a photo or a video, within the limits?

``inspect_media`` decodes photos with Pillow and probes and decodes videos with PyAV; it refuses
anything else with ``EvidenceRefused`` and a message a customer understands. What it accepts it
re-writes without metadata (EXIF, GPS, device, creation time): photos are re-encoded with their
orientation applied, videos are remuxed (streams copied, nothing re-encoded, memory flat).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .choices import MediaType
from .errors import ErrorCode, EvidenceRefused
from .filenames import evidence_file_name

try:  # HEIC/HEIF: what phones shoot by default.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - the dependency is declared; this guards odd installs
    HEIC_SUPPORTED = False

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated photo is refused, never half-loaded

CHUNK = 1024 * 1024
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

# What a file name's extension claims, by family; MP4 and MOV are one family (phones mix them).
EXTENSION_FAMILY = {
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "jfif": "jpeg",
    "png": "png",
    "webp": "webp",
    "heic": "heic",
    "heif": "heic",
    "mp4": "mp4",
    "m4v": "mp4",
    "mov": "mp4",
    "qt": "mp4",
    "webm": "webm",
    "mkv": "webm",
}
PHOTO_FORMATS = {"jpeg", "png", "webp", "heic"}
VIDEO_FORMATS = {"mp4", "webm"}
# Pillow format name -> our family
PILLOW_FAMILY = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}
FAMILY_NAMES = {  # msgids, translated where shown
    "jpeg": gettext_noop("JPEG photo"),
    "png": gettext_noop("PNG image"),
    "webp": gettext_noop("WebP image"),
    "heic": gettext_noop("HEIC photo"),
    "mp4": gettext_noop("MP4/MOV video"),
    "webm": gettext_noop("WebM video"),
}


@dataclass
class Upload:
    """An uploaded file materialised on disk, with the digest of its bytes."""

    path: Path
    name: str
    size: int
    sha256: str


@dataclass
class Inspected:
    media_type: MediaType
    content_type: str
    extension: str
    clean_path: Path  # the stripped copy to store (a temporary file)
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    video_codec: str = ""
    container: str = ""


def _refuse(code: ErrorCode, message: str, name: str) -> EvidenceRefused:
    return EvidenceRefused(code, message, field="file", file_name=name)


def temp_dir() -> str:
    """Where uploads and cleaned copies wait while they are checked: ``MEDIA_ROOT/tmp``, on the
    same disk as the evidence storage (never a RAM-backed ``/tmp``: a 200 MB video there would
    be 200 MB of memory)."""
    directory = Path(settings.MEDIA_ROOT) / "tmp"
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory)


_temp_dir = temp_dir


def max_upload_bytes() -> int:
    """The largest file any door may send (the larger of the photo and video limits)."""
    return max(settings.EVIDENCE_MAX_PHOTO_BYTES, settings.EVIDENCE_MAX_VIDEO_BYTES)


@contextlib.contextmanager
def materialize(upload: Any) -> Iterator[Upload]:
    """Put an uploaded file (Django ``File``) on disk, hashing it on the way; streamed, never
    read whole into memory. The temporary copy is removed on exit."""
    # One rule for every door (``cases.filenames``): path parts dropped, invisible and
    # direction-changing characters removed, length bounded; nothing usable left is refused.
    name = evidence_file_name(getattr(upload, "name", "") or "")
    digest = hashlib.sha256()
    size = 0
    temporary_path = getattr(upload, "temporary_file_path", None)
    owned: Path | None = None
    try:
        if temporary_path is not None:
            path = Path(temporary_path())
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        else:
            fd, raw = tempfile.mkstemp(prefix="upload-", dir=_temp_dir())
            owned = path = Path(raw)
            with os.fdopen(fd, "wb") as out:
                if hasattr(upload, "seek"):
                    with contextlib.suppress(Exception):
                        upload.seek(0)
                for chunk in (
                    upload.chunks(CHUNK)
                    if hasattr(upload, "chunks")
                    else iter(lambda: upload.read(CHUNK), b"")
                ):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        if getattr(upload, "cut_off", False):
            # An upload handler stopped keeping the bytes past the limit (intake.uploads): the
            # file is refused on its real size, never inspected half-written.
            check_size(Upload(path=path, name=name, size=upload.size, sha256=""))
        yield Upload(path=path, name=name, size=size, sha256=digest.hexdigest())
    finally:
        if owned is not None:
            owned.unlink(missing_ok=True)


def check_size(upload: Upload) -> None:
    if upload.size == 0:
        raise _refuse(
            ErrorCode.EMPTY_FILE,
            _("“%(name)s” is empty (0 bytes). Please choose the photo or video again.")
            % {"name": upload.name},
            upload.name,
        )
    limit = max_upload_bytes()
    if upload.size > limit:
        raise _refuse(
            ErrorCode.FILE_TOO_LARGE,
            _("“%(name)s” is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"name": upload.name, "size": _mb(upload.size), "limit": _mb(limit)},
            upload.name,
        )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}" if size >= 10 * 1024 * 1024 else f"{size / 1024 / 1024:.1f}"


def sniff(head: bytes) -> str | None:
    """The family of a file from its first bytes, or None if it is not a photo or video."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "heic" if head[8:12] in HEIC_BRANDS else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def _describe_unknown(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) and b"<svg" in text:
        return _("an SVG drawing")
    if text.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<script")):
        return _("a web page (HTML)")
    if head.startswith(b"%PDF"):
        return _("a PDF document")
    if head.startswith(b"GIF8"):
        return _("a GIF animation")
    try:
        head.decode("utf-8")
        return _("text")
    except UnicodeDecodeError:
        return _("something else")


def inspect_media(upload: Upload) -> Inspected:
    """Validate an upload and write its metadata-free copy; raises ``EvidenceRefused``."""
    check_size(upload)
    with open(upload.path, "rb") as handle:
        head = handle.read(64)
    family = sniff(head)
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    claimed = EXTENSION_FAMILY.get(extension)
    if family is None:
        raise _refuse(
            ErrorCode.UNSUPPORTED_TYPE,
            _(
                "“%(name)s” is not a photo or a video: it contains %(what)s. Send JPEG, PNG, "
                "WebP or HEIC photos, or MP4, MOV or WebM videos."
            )
            % {"name": upload.name, "what": _describe_unknown(head)},
            upload.name,
        )
    if extension and claimed is None:
        raise _refuse(
            ErrorCode.UNSUPPORTED_TYPE,
            _(
                "“%(name)s” has a file type we do not accept (.%(ext)s). Send JPEG, PNG, WebP "
                "or HEIC photos, or MP4, MOV or WebM videos."
            )
            % {"name": upload.name, "ext": extension},
            upload.name,
        )
    if claimed is not None and claimed != family:
        raise _refuse(
            ErrorCode.TYPE_MISMATCH,
            _("“%(name)s” is named like a %(claimed)s but contains a %(actual)s.")
            % {
                "name": upload.name,
                "claimed": _(FAMILY_NAMES[claimed]),
                "actual": _(FAMILY_NAMES[family]),
            },
            upload.name,
        )
    if family in PHOTO_FORMATS:
        return _inspect_photo(upload, family)
    return _inspect_video(upload, family)


# -- photos -----------------------------------------------------------------------------------

_SAVE: dict[str, tuple[str, str, str, dict[str, object]]] = {
    "jpeg": ("JPEG", "jpg", "image/jpeg", {"quality": 92, "optimize": True}),
    "png": ("PNG", "png", "image/png", {"optimize": True}),
    "webp": ("WEBP", "webp", "image/webp", {"quality": 90, "method": 4}),
    # Browsers do not show HEIC: the stored copy is a JPEG.
    "heic": ("JPEG", "jpg", "image/jpeg", {"quality": 92, "optimize": True}),
}


def _inspect_photo(upload: Upload, family: str) -> Inspected:
    if family == "heic" and not HEIC_SUPPORTED:  # pragma: no cover
        raise _refuse(
            ErrorCode.UNSUPPORTED_TYPE, _("HEIC photos are not supported here."), upload.name
        )
    if upload.size > settings.EVIDENCE_MAX_PHOTO_BYTES:
        raise _refuse(
            ErrorCode.FILE_TOO_LARGE,
            _("“%(name)s” is too large (%(size)s MB); photos can be up to %(limit)s MB.")
            % {
                "name": upload.name,
                "size": _mb(upload.size),
                "limit": _mb(settings.EVIDENCE_MAX_PHOTO_BYTES),
            },
            upload.name,
        )
    max_pixels = settings.EVIDENCE_MAX_PHOTO_PIXELS
    corrupt = _("“%(name)s” is damaged or incomplete and cannot be opened as a photo.") % {
        "name": upload.name
    }
    try:
        with Image.open(upload.path) as image:
            if PILLOW_FAMILY.get(image.format or "") != family:
                raise _refuse(ErrorCode.CORRUPT_IMAGE, corrupt, upload.name)
            width, height = image.size
            if width * height > max_pixels:
                raise _too_many_pixels(upload, width, height, max_pixels)
            image.load()  # decode every pixel: truncated or corrupt data fails here
            clean = ImageOps.exif_transpose(image)  # keep the orientation the EXIF gave
            if clean.mode not in {"RGB", "RGBA", "L", "LA"}:
                clean = clean.convert("RGBA" if "A" in clean.getbands() else "RGB")
            pil_format, extension, content_type, options = _SAVE[family]
            if pil_format == "JPEG" and clean.mode in {"RGBA", "LA"}:
                clean = clean.convert("RGB")
            icc = image.info.get("icc_profile")
            if icc:
                options = {**options, "icc_profile": icc}
            fd, raw = tempfile.mkstemp(prefix="clean-", suffix=f".{extension}", dir=_temp_dir())
            os.close(fd)
            try:
                clean.save(raw, pil_format, **options)  # no exif=, no pnginfo=: metadata dropped
            except Exception:
                Path(raw).unlink(missing_ok=True)
                raise
            return Inspected(
                media_type=MediaType.PHOTO,
                content_type=content_type,
                extension=extension,
                clean_path=Path(raw),
                width=clean.width,
                height=clean.height,
            )
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(upload, None, None, max_pixels) from exc
    except EvidenceRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(ErrorCode.CORRUPT_IMAGE, corrupt, upload.name) from exc


def _too_many_pixels(
    upload: Upload, width: int | None, height: int | None, limit: int
) -> EvidenceRefused:
    size = f" ({width} × {height})" if width and height else ""
    return _refuse(
        ErrorCode.TOO_MANY_PIXELS,
        _("“%(name)s” has too many pixels%(size)s; the limit is %(limit)s megapixels.")
        % {"name": upload.name, "size": size, "limit": limit // 1_000_000},
        upload.name,
    )


# -- videos -----------------------------------------------------------------------------------


def _inspect_video(upload: Upload, family: str) -> Inspected:
    name = upload.name
    if upload.size > settings.EVIDENCE_MAX_VIDEO_BYTES:
        raise _refuse(
            ErrorCode.FILE_TOO_LARGE,
            _("“%(name)s” is too large (%(size)s MB); videos can be up to %(limit)s MB.")
            % {
                "name": name,
                "size": _mb(upload.size),
                "limit": _mb(settings.EVIDENCE_MAX_VIDEO_BYTES),
            },
            name,
        )
    corrupt = _("“%(name)s” is damaged or incomplete and cannot be played as a video.") % {
        "name": name
    }
    try:
        with av.open(str(upload.path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise _refuse(
                    ErrorCode.NO_VIDEO_STREAM,
                    _("“%(name)s” has no picture: it contains no video track.") % {"name": name},
                    name,
                )
            stream = container.streams.video[0]
            duration = _duration(container, stream)
            if duration is not None and duration > settings.EVIDENCE_MAX_VIDEO_SECONDS:
                raise _refuse(
                    ErrorCode.VIDEO_TOO_LONG,
                    _("“%(name)s” lasts %(secs)d s; videos can be up to %(limit)d s.")
                    % {
                        "name": name,
                        "secs": duration,
                        "limit": settings.EVIDENCE_MAX_VIDEO_SECONDS,
                    },
                    name,
                )
            first = next(container.decode(stream), None)  # a real, decodable picture
            if first is None:
                raise _refuse(ErrorCode.CORRUPT_VIDEO, corrupt, name)
            width, height = first.width, first.height
            codec = stream.codec_context.name
    except EvidenceRefused:
        raise
    except (av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise _refuse(ErrorCode.CORRUPT_VIDEO, corrupt, name) from exc
    clean_path = _remux_without_metadata(upload.path, family, corrupt, name)
    return Inspected(
        media_type=MediaType.VIDEO,
        content_type="video/mp4" if family == "mp4" else "video/webm",
        extension="mp4" if family == "mp4" else "webm",
        clean_path=clean_path,
        width=width,
        height=height,
        duration_seconds=round(duration, 3) if duration is not None else None,
        video_codec=codec,
        container=family,
    )


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _remux_without_metadata(source: Path, family: str, corrupt: str, name: str) -> Path:
    """Copy the video and audio streams into a new container with no metadata."""
    extension = "mp4" if family == "mp4" else "webm"
    fd, raw = tempfile.mkstemp(prefix="clean-", suffix=f".{extension}", dir=_temp_dir())
    os.close(fd)
    out_path = Path(raw)
    try:
        with av.open(str(source), metadata_errors="ignore") as inp:
            options = {"movflags": "+faststart"} if family == "mp4" else {}
            with av.open(str(out_path), mode="w", format=extension, options=options) as out:
                mapping = {}
                for stream in inp.streams:
                    if stream.type in ("video", "audio"):
                        copied = out.add_stream_from_template(stream)
                        copied.metadata.clear()
                        mapping[stream.index] = copied
                out.metadata.clear()
                for packet in inp.demux(*[inp.streams[i] for i in mapping]):
                    if packet.dts is None:
                        continue
                    packet.stream = mapping[packet.stream.index]
                    out.mux(packet)
    except (av.FFmpegError, OSError, ValueError) as exc:
        out_path.unlink(missing_ok=True)
        raise _refuse(ErrorCode.CORRUPT_VIDEO, corrupt, name) from exc
    return out_path
