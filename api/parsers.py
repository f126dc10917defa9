"""JSON bodies with a size limit of their own: a bulk import of 10,000 orders is several MB,
more than Django's form limit, but a body of any size must not be read into memory. Uploads
whose file name is too long to be read get the message every door gives."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser

from cases.filenames import is_too_long_to_read, too_long_to_read_message
from intake.uploads import EvidenceUploadHandler, RawNameMultiPartParser

from .problems import Problem

# Files one upload request may carry (the API takes one; more are skipped, never kept).
MAX_FILES = 1


class LimitedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        limit = settings.API_MAX_JSON_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > limit:
            raise Problem(
                413,
                "request_too_large",
                _("The body is %(size)s bytes; the limit is %(limit)s. Send fewer items a request.")
                % {"size": f"{length:,}", "limit": f"{limit:,}"},
            )
        return super().parse(stream, media_type, parser_context)


class UploadParser(MultiPartParser):
    """multipart/form-data read as the upload form reads it (``intake.uploads``): each file
    streamed to disk, cut off past the evidence limit, and its name kept as the client sent it,
    so that ``evidence_add`` cleans it exactly as at the form (Django's own parser would
    already have dropped some names and shortened others). A part whose headers pass Django's
    1 KB limit (in practice: a file name of about 900 letters or more) is answered as at the
    other doors, not as a parse error."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        handler = EvidenceUploadHandler(request, max_files=MAX_FILES)
        try:
            data, files = RawNameMultiPartParser(meta, stream, [handler], encoding).parse()
        except MultiPartParserError as error:
            handler.upload_interrupted()
            if is_too_long_to_read(error):
                message = too_long_to_read_message()
                raise Problem(
                    400,
                    "file_name_too_long",
                    message,
                    errors=[
                        {
                            "field": "file",
                            "pointer": "/file",
                            "detail": message,
                            "code": "file_name_too_long",
                        }
                    ],
                ) from error
            raise ParseError(
                _("The multipart body cannot be read: %(error)s") % {"error": error}
            ) from error
        return DataAndFiles(data, files)
