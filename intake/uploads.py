"""Reading an upload request without holding files in memory, and without losing their names.

Django's default upload handlers keep small files in memory and its multipart parser cuts a file
name down to its last path part before any code sees it. The intake form needs neither: every
file is streamed in 64 KiB chunks to a temporary file under ``MEDIA_ROOT/tmp`` (a real disk, not a
RAM-backed ``/tmp``), a file larger than the evidence limit stops being written once it passes the
limit (its real size is still counted, so the refusal can say how large it was), and the name the
client sent is kept as ``raw_name`` so that ``cases.media`` can refuse a path-traversal name with
a clear reason instead of silently storing "passwd.jpg".
"""

from __future__ import annotations

import contextlib
import html
import tempfile
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser

from cases.media import max_upload_bytes, temp_dir

CHUNK = 64 * 1024


class StreamedUpload(UploadedFile):
    """An uploaded file on disk. ``raw_name`` is the name exactly as the client sent it;
    ``cut_off`` is True when the file passed the size limit and its tail was not kept."""

    def __init__(
        self, raw_name: str, content_type: str | None, charset: str | None, extra: Any
    ) -> None:
        # Closed (and so removed) by ``close``, when the request is done with it.
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="upload-", suffix=".part", dir=temp_dir()
        )
        super().__init__(handle, "upload", content_type, 0, charset, extra)
        self.handle = handle  # ``self.file`` as well, typed: it always has a name on disk
        self.raw_name = raw_name
        self.cut_off = False

    def temporary_file_path(self) -> str:
        return self.handle.name

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.handle.close()  # a NamedTemporaryFile: closing it removes it


class RawNamedUpload:
    """What ``evidence_add`` receives: the streamed file under the name the client gave."""

    def __init__(self, upload: StreamedUpload) -> None:
        self.upload = upload
        self.name = upload.raw_name
        self.size = upload.size
        self.cut_off = upload.cut_off

    def temporary_file_path(self) -> str:
        return self.upload.temporary_file_path()


class EvidenceUploadHandler(FileUploadHandler):
    """Streams every file to disk; stops keeping bytes past the evidence size limit; skips files
    beyond ``max_files`` (counted in ``skipped``)."""

    chunk_size = CHUNK

    def __init__(self, request: HttpRequest | None = None, *, max_files: int = 20) -> None:
        super().__init__(request)
        self.max_bytes = max_upload_bytes()
        self.max_files = max_files
        self.count = 0
        self.skipped = 0
        self.seen = 0
        self.upload: StreamedUpload | None = None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.count += 1
        if self.count > self.max_files:
            self.skipped += 1
            self.upload = None
            raise SkipFile
        self.seen = 0
        self.upload = StreamedUpload(file_name, self.content_type, self.charset, None)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.upload is not None  # noqa: S101 (Django calls new_file first; narrows the type)
        room = self.max_bytes + 1 - self.seen  # one byte over the limit is enough to refuse
        if room > 0:
            self.upload.write(raw_data[:room])
        self.seen += len(raw_data)
        # Returning nothing: no other handler gets the chunk.

    def file_complete(self, file_size: int) -> StreamedUpload | None:
        upload = self.upload
        if upload is None:
            return None
        upload.handle.flush()
        upload.seek(0)
        upload.size = file_size
        upload.cut_off = file_size > self.max_bytes
        self.upload = None
        return upload

    def upload_interrupted(self) -> None:
        if self.upload is not None:
            self.upload.close()
            self.upload = None


class RawNameMultiPartParser(MultiPartParser):
    """Keeps the file name as sent (only HTML entities decoded, as Django does); an empty name
    still means "no file chosen"."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        file_name = html.unescape(file_name)
        return file_name or None


def parse_upload(request: HttpRequest, *, max_files: int) -> EvidenceUploadHandler:
    """Parse a multipart POST with the streaming handler; sets ``request.POST``/``FILES``.
    Must run before anything reads ``request.POST`` (hence the view is CSRF-exempt and checks
    CSRF itself afterwards). Raises ``MultiPartParserError`` and Django's request-size errors."""
    handler = EvidenceUploadHandler(request, max_files=max_files)
    parser = RawNameMultiPartParser(request.META, request, [handler], request.encoding)
    try:
        # HttpRequest's cache of the parsed body, set as Django's own parsing does (private in
        # the stubs).
        request._post, request._files = parser.parse()  # type: ignore[attr-defined]
    except Exception:
        # The parser closes the files it finished; the one being written is the handler's.
        handler.upload_interrupted()
        raise
    return handler


def uploaded_files(request: HttpRequest) -> list[tuple[str, StreamedUpload]]:
    """(field name, file) for every file of the request, in the order sent."""
    found: list[tuple[str, StreamedUpload]] = []
    for field, files in request.FILES.lists():
        for upload in files:
            if not isinstance(upload, StreamedUpload):
                raise TypeError("uploaded_files() reads a request parsed by parse_upload()")
            found.append((field, upload))
    return found


def close_all(request: HttpRequest) -> None:
    """Remove the temporary files of the request now, not when the response is closed.
    Reads only what was parsed: reading ``request.FILES`` after a failed parse would parse
    (and fail) again."""
    files = getattr(request, "_files", None)
    if files is None:
        return
    for upload_list in files.lists():
        for upload in upload_list[1]:
            upload.close()
