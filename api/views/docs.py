"""The schema, its two readers (Swagger UI, ReDoc; served from drf-spectacular-sidecar, no CDN)
and the list of problem codes (each problem's ``type`` points here)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..problems import TYPE_PREFIX, problem_types

# The readers may load only what this server serves. ReDoc's bundle puts an <img> from
# cdn.redoc.ly in its sidebar; with this policy the browser never requests it.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


# A mixin for DRF views, type-checked as one.
if TYPE_CHECKING:
    _ViewBase = APIView
else:
    _ViewBase = object


class _SelfContained(_ViewBase):
    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(_SelfContained, SpectacularSwaggerView):
    pass


class RedocView(_SelfContained, SpectacularRedocView):
    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone() -> str:
        return reverse("api:redoc-bundle")


# ReDoc's bundle draws its logo from cdn.redoc.ly in the sidebar (no option turns it off). The
# bundle is served from here with that address replaced by an empty image, which ReDoc's own
# error handler then hides: the page asks nothing of any other server.
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'


@functools.cache
def _redoc_bundle() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if not path:  # pragma: no cover - drf-spectacular-sidecar is a dependency
        raise Http404("ReDoc is not installed")
    with open(path, "rb") as handle:
        return handle.read().replace(REDOC_LOGO, b'"data:,"')


def redoc_bundle(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@extend_schema(exclude=True)
class ProblemTypesView(APIView):
    """What each problem ``code`` means (public: no key needed)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def get(self, request: Request, code: str | None = None) -> Response:
        types = problem_types()
        if code is None:
            return Response(
                [{"type": f"{TYPE_PREFIX}{c}", "code": c, "meaning": m} for c, m in types.items()]
            )
        if code not in types:
            raise NotFound(_("There is no problem type %(code)s.") % {"code": code[:60]})
        return Response({"type": f"{TYPE_PREFIX}{code}", "code": code, "meaning": types[code]})
