"""Streaming evidence files to people allowed to see them.

Files live in the private evidence storage; no URL maps to it. The views in ``intake.views`` check
access, then call ``evidence_file_response``, which streams the file (``FileResponse``: nothing is
read whole into memory), answers HTTP ``Range`` requests (video players seek with them), and sets
headers that stop a browser from treating the bytes as anything but the photo or video it is.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from cases.filenames import clean_name
from cases.models import Evidence, evidence_storage

# The only types we ever serve as themselves; anything else goes out as a download.
SAFE_TYPES = {"image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class _Slice:
    """A read-only window ``[start, start+length)`` of an open file, for ``FileResponse``."""

    def __init__(self, handle: Any, start: int, length: int) -> None:
        self.handle = handle
        self.remaining = length
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self.handle.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def _open_window(name: str, start: int, length: int) -> Any:
    """Bytes ``[start, start+length)`` of a stored file, read as they are sent: object storage
    answers one ranged GET (``cases.storage``); another storage is opened and sought."""
    opener = getattr(evidence_storage, "open_window", None)
    if opener is not None:
        return opener(name, start, length)
    return _Slice(evidence_storage.open(name, "rb"), start, length)


def download_name(evidence: Evidence, *, thumbnail: bool = False) -> str:
    """The customer's file name with the extension of what we actually serve."""
    # Names are cleaned when stored (``cases.filenames``); cleaned again here for rows stored
    # before, so no download is ever named with an invisible or direction-changing character.
    stem = clean_name(evidence.original_name).rsplit(".", 1)[0] or "evidence"
    stem = stem.replace('"', "'")
    if thumbnail:
        return f"{stem}-preview.jpg"
    return f"{stem}.{EXTENSIONS.get(evidence.content_type, 'bin')}"


def _harden(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Content-Type-Options"] = "nosniff"
    # Even opened directly, the file cannot run script or load anything.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    response["Accept-Ranges"] = "bytes"
    return response


def _parse_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """(start, end inclusive) for one satisfiable range; None to send the whole file; False for
    an unsatisfiable range (416)."""
    match = RANGE.match(header.strip())
    if not match:  # multiple ranges or another unit: ignoring the header is allowed (RFC 9110)
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return False
    return start, min(end, size - 1)


def evidence_file_response(
    request: HttpRequest, evidence: Evidence, *, thumbnail: bool = False
) -> HttpResponseBase:
    """Stream the stored file (or its preview) with safe headers and Range support."""
    if evidence.erased_at is not None:
        raise Http404("erased")  # the customer's personal data was erased: the file is gone
    name = evidence.thumbnail.name if thumbnail else evidence.file.name
    if not name:
        raise Http404("no file")  # a preview not made yet is answered by the caller
    content_type = "image/jpeg" if thumbnail else evidence.content_type
    attachment = content_type not in SAFE_TYPES
    if attachment:
        content_type = "application/octet-stream"
    # Only the storage's own calls: no ``.path`` (object storage has none), no ``.url``.
    size = evidence_storage.size(name)
    wanted = _parse_range(request.headers.get("Range", ""), size)
    if wanted is False:
        refusal = HttpResponse(status=416)
        refusal["Content-Range"] = f"bytes */{size}"
        return _harden(refusal)
    if wanted:
        start, end = wanted
        response = FileResponse(
            _open_window(name, start, end - start + 1),
            status=206,
            content_type=content_type,
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(_open_window(name, 0, size), content_type=content_type)
        response["Content-Length"] = str(size)
    response.block_size = CHUNK
    disposition = content_disposition_header(
        attachment, download_name(evidence, thumbnail=thumbnail)
    )
    if disposition:  # always, as the download name is never empty
        response["Content-Disposition"] = disposition
    return _harden(response)
