"""JSON bodies with a size limit of their own: a bulk import of 10,000 orders is several MB,
more than Django's form limit, but a body of any size must not be read into memory."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.parsers import JSONParser

from .problems import Problem


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
