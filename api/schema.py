"""OpenAPI schema (drf-spectacular): the key scheme, the problem answers of every operation, the
``Idempotency-Key`` header, closed request bodies (``additionalProperties: false``), and the
overview text (``api/overview.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from django.core.validators import MinValueValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .fields import PLAUSIBLE_TIME_PATTERN
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .problems import PROBLEM_CONTENT_TYPE
from .serializers.base import NO_NUL, NOT_ONLY_SPACES, RejectUnknownFieldsMixin

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

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        # A body given as a schema (``extend_schema(request={...: {...}})``) is optional for
        # drf-spectacular; one that names required properties in every variant is not.
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict):
            variants = serializer.get("oneOf") or [serializer]
            required = all(variant.get("required") for variant in variants)
        return schema, required

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        # drf-spectacular has no setting for closed objects: a body serializer that refuses
        # unknown fields (serializers.base) says so in its request component.
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(
            force_instance(serializer), RejectUnknownFieldsMixin
        ):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field: Any, direction: str, *args: Any, **kwargs: Any) -> Any:
        schema = super()._map_serializer_field(field, direction, *args, **kwargs)
        if isinstance(field, serializers.DecimalField) and isinstance(schema, dict):
            # drf-spectacular's pattern lets "", "-" and "." through, and a minus sign where
            # the field (or its model's validator) wants 0 or more: the server refuses both.
            places = field.decimal_places or 0
            digits = (field.max_digits or 20) - places
            minimum = field.min_value
            for validator in field.validators:
                if isinstance(validator, MinValueValidator):
                    minimum = validator.limit_value
            sign = "" if minimum is not None and minimum >= 0 else "-?"
            fraction = rf"(\.\d{{1,{places}}})?" if places else ""
            schema["pattern"] = rf"^{sign}\d{{1,{digits}}}{fraction}$"
        elif direction == "request" and isinstance(field, serializers.FileField):
            # An empty file is refused at every door (it is no evidence): at least one byte.
            schema["minLength"] = 1
        elif direction == "request" and isinstance(schema, dict):
            schema.update(text_rules(field, schema))
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


def text_rules(field: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """What every text field of a body refuses, which drf-spectacular does not state: NUL
    characters (DRF's ``ProhibitNullCharactersValidator``; PostgreSQL stores none) and, when
    spaces are trimmed and blank is refused, a value of spaces only ("may not be blank")."""
    if not isinstance(field, serializers.CharField) or schema.get("type") != "string":
        return {}
    if "pattern" in schema or "format" in schema or "enum" in schema:
        return {}  # a format of its own (slug, e-mail address, URL...), NUL not among it
    if field.trim_whitespace and not field.allow_blank:
        return {"pattern": NOT_ONLY_SPACES}
    return {"pattern": NO_NUL}


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


# -- the rules the server checks, stated in the schema -----------------------------------------

# ``api.idempotency``: 1 to 255 printable characters (no spaces at the ends: a proxy may trim).
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
}
# ``api.views.cases._VERSION_TAG``: the case's ETag (its version), weak or strong, or ``*``.
IF_MATCH_SCHEMA = {"type": "string", "pattern": r'^(\*|(W/)?"?[1-9][0-9]{0,17}"?)$'}
# Body fields whose rule drf-spectacular cannot read from the serializer:
# (component, property) -> keywords added.
BODY_RULES: dict[tuple[str, str], dict[str, Any]] = {
    # webhooks.check_url and Django's URLValidator: http(s), a host name with a top-level domain
    ("WebhookSubscriptionRequest", "url"): {
        "pattern": r"^https?://[a-z0-9]+(\.[a-z0-9]+)*\.[a-z]{2,20}(:[1-9][0-9]{1,3})?(/[A-Za-z0-9._~-]*)*$"
    },
    ("PatchedWebhookSubscriptionRequest", "url"): {
        "pattern": r"^https?://[a-z0-9]+(\.[a-z0-9]+)*\.[a-z]{2,20}(:[1-9][0-9]{1,3})?(/[A-Za-z0-9._~-]*)*$"
    },
}
# The scan's time (cases.services.tracking): its day in UTC within PLAUSIBLE_DATES.
BODY_RULES[("TrackingEventRequest", "occurred_at")] = {"pattern": PLAUSIBLE_TIME_PATTERN}
# Ids in bodies: positive, within PostgreSQL's bigint.
ID_BOUNDS = {"minimum": 1, "maximum": 2**63 - 1}


def declare_rules(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: the rules the server enforces on the shape of a request, which
    drf-spectacular does not derive, written into the schema (a client generated from it sends
    nothing the server refuses as malformed; tests/api/test_schema.py checks it with
    Schemathesis):

    * a query parameter given empty is refused ("give a value, or leave it out"): minLength 1;
    * the Idempotency-Key and If-Match headers' formats;
    * a list body holds at least one item;
    * ids are positive; the fields of ``BODY_RULES`` (decimals: ``ProblemAutoSchema``).
    """
    _declare_operation_rules(result)
    for name, component in result.get("components", {}).get("schemas", {}).items():
        for prop, schema in component.get("properties", {}).items():
            if schema.get("readOnly"):
                continue
            if (
                name.endswith("Request")
                and prop == "marketplace"
                and schema.get("type") == "string"
            ):
                schema.setdefault("minLength", 1)  # a code, never empty
            if name.endswith("Request") and prop == "currency" and schema.get("type") == "string":
                schema["pattern"] = "^[A-Za-z]{3}$"  # ISO 4217 letters (no NUL, no spaces)
            if schema.get("type") == "integer" and prop in {"evidence_request", "refund_request"}:
                for key, value in ID_BOUNDS.items():
                    schema.setdefault(key, value)
            schema.update(BODY_RULES.get((name, prop), {}))
    return result


def _declare_operation_rules(result: dict[str, Any]) -> None:
    """Parameters and list bodies of every operation (see ``declare_rules``)."""
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.setdefault("schema", {})
                if parameter["in"] == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
                elif parameter["in"] == "header" and parameter["name"] == IDEMPOTENCY_HEADER:
                    parameter["schema"] = dict(IDEMPOTENCY_KEY_SCHEMA)
                elif parameter["in"] == "header" and parameter["name"] == "If-Match":
                    parameter["schema"] = dict(IF_MATCH_SCHEMA)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                body = content.get("schema", {})
                if body.get("type") == "array":
                    body.setdefault("minItems", 1)
