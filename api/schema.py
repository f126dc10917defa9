"""OpenAPI schema (drf-spectacular): the key scheme, the problem answers of every operation, the
``Idempotency-Key`` header, closed request bodies (``additionalProperties: false``), and the
overview text (``api/overview.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .problems import PROBLEM_CONTENT_TYPE
from .serializers.base import RejectUnknownFieldsMixin

OVERVIEW = Path(__file__).with_name("overview.md")


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The field, null for the whole item.")
    pointer = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="JSON pointer into the body, e.g. /3/placed_at; null for a query parameter "
        "or a header.",
    )
    parameter = serializers.CharField(
        allow_null=True, required=False, help_text="The query parameter, e.g. kind."
    )
    header = serializers.CharField(
        allow_null=True, required=False, help_text="The header, e.g. If-Match."
    )
    detail = serializers.CharField()
    code = serializers.CharField()
    index = serializers.IntegerField(required=False, help_text="The item of a list body.")


class ProblemTransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details: the shape of every error answer."""

    type = serializers.CharField(help_text="/api/problems/<code>")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, in words for people.")
    code = serializers.CharField(help_text="Stable code for programs (see /api/problems/).")
    instance = serializers.CharField(required=False, help_text="The path of the request.")
    errors = FieldErrorSerializer(many=True, required=False)  # type: ignore[assignment]  # the problem member, not Serializer.errors
    available_transitions = ProblemTransitionSerializer(
        many=True, required=False, help_text="On transition refusals: what can run now."
    )

    class Meta:
        ref_name = "Problem"


PROBLEM_DESCRIPTIONS = {
    400: "Invalid request: a value, a condition of the workflow, or the body's shape.",
    401: "No API key, or a wrong or revoked one.",
    403: "The client lacks the right (e.g. to reject a refund).",
    404: "Nothing here for this client (other marketplaces' data answers 404 too).",
    406: "The API answers application/json only.",
    409: "The case's current state does not allow it, it changed since the version given, or a "
    "limit is reached (webhook subscriptions of a client).",
    413: "The body is too large.",
    415: "Send application/json (multipart/form-data for uploads).",
    422: "The Idempotency-Key was used for a different request.",
    429: "Too many requests: wait Retry-After seconds.",
    500: "Server error (logged); safe to retry with the same Idempotency-Key.",
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: the key printed once by `python manage.py "
            "create_api_client` or shown once in the admin.",
        }


class ProblemAutoSchema(AutoSchema):
    """Every operation documents its problem answers (``application/problem+json``)."""

    def _problem_statuses(self) -> list[int]:
        statuses = [401, 403, 404, 406, 429, 500]
        has_body = self.method in {"POST", "PUT", "PATCH"}
        has_parameters = (
            "{" in self.path or bool(self._get_filter_parameters()) or self._is_list_view()
        )
        if has_body or has_parameters or self.method == "DELETE":
            statuses.append(400)
        if has_body:
            statuses += [413, 415]
        if self.method == "POST":
            statuses.append(422)
        if self.method != "GET" and "/cases/{reference}/" in self.path:
            statuses.append(409)
        extra = getattr(self.view, "extra_problem_statuses", {})
        statuses.extend(extra.get(getattr(self.view, "action", None), ()))
        return sorted(set(statuses))

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        component = self.resolve_serializer(ProblemSerializer, "response")
        for status in self._problem_statuses():
            responses.setdefault(
                str(status),
                {
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": component.ref}},
                    "description": PROBLEM_DESCRIPTIONS[status],
                },
            )
        return responses

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        # drf-spectacular has no setting for closed objects: a body serializer that refuses
        # unknown fields (serializers.base) says so in its request component.
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(
            force_instance(serializer), RejectUnknownFieldsMixin
        ):
            schema["additionalProperties"] = False
        return schema

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    description="Any unique string (e.g. a UUID): sending the request again "
                    "with the same key answers the first result instead of doing it twice.",
                )
            )
        return parameters


def library_doc_excludes() -> list[type]:
    """``GET_LIB_DOC_EXCLUDES``: the API's own base classes join DRF's, so that their
    docstrings (written for developers) do not become the description of every component or
    operation without a docstring of its own."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from .fields import ApiModelSerializer
    from .serializers.base import InputSerializer
    from .views.base import ApiGenericViewSet, ApiViewMixin

    return [
        *get_lib_doc_excludes(),
        RejectUnknownFieldsMixin,
        InputSerializer,
        ApiModelSerializer,
        ApiViewMixin,
        ApiGenericViewSet,
    ]


def describe_api(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: the overview (authentication, errors, idempotency, pagination,
    webhooks) as the schema's description."""
    result.setdefault("info", {})["description"] = OVERVIEW.read_text(encoding="utf-8")
    return result
