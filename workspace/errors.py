"""Plain pages for requests the workspace cannot read (Django's ``handler400`` outside the API):
what went wrong in words, and a way back, instead of Django's bare "Bad Request (400)"."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import defaults

from cases.filenames import is_too_long_to_read, too_long_to_read_message


def refusal_page(
    request: HttpRequest, *, title: str, message: str, back: str = "", status: int = 400
) -> HttpResponse:
    """A page in the admin's look saying why the request was refused, with a link back."""
    context = {
        **admin.site.each_context(request),
        "title": title,
        "message": message,
        "back": back or request.META.get("HTTP_REFERER", "") or "/admin/",
    }
    response = TemplateResponse(request, "workspace/refusal.html", context, status=status)
    return response.render()


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    """``handler400``: an upload whose file name is too long to be read says so."""
    if exception is not None and is_too_long_to_read(exception):
        return refusal_page(
            request, title=_("A file name is too long"), message=too_long_to_read_message()
        )
    return defaults.bad_request(request, exception)
