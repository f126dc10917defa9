"""Imports for the scorecards: survey answers and seller feedback, each a list of up to 10,000
items written all or nothing, with every error listed by item index and field."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scorecards.services.imports import (
    ImportRefused,
    seller_feedback_import,
    survey_answers_import,
)

from ..parsers import LimitedJSONParser
from ..problems import Problem, field_error, field_errors
from ..serializers.scorecards import (
    ImportResultSerializer,
    SellerFeedbackInputSerializer,
    SurveyAnswerInputSerializer,
)
from ..throttling import BulkImportThrottle, ClientRateThrottle
from .base import ApiGenericViewSet

MAX_ITEMS = 10_000


class _ImportViewSet(ApiGenericViewSet):
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ClientRateThrottle, BulkImportThrottle]
    input_serializer: type[serializers.Serializer]
    what: str

    def _items(self, request: Request) -> list[dict[str, Any]]:
        items = request.data
        if not isinstance(items, list) or not items:
            raise Problem(400, "invalid", _("Send a non-empty JSON list, one object per item."))
        if len(items) > MAX_ITEMS:
            raise Problem(400, "invalid", _("At most 10,000 items per request."))
        serializer = self.input_serializer(
            data=items, many=True, context=self.get_serializer_context()
        )
        if not serializer.is_valid():
            raise Problem(
                400,
                "invalid",
                _("Nothing was imported: fix the items listed and send them again."),
                errors=field_errors(serializer.errors),
            )
        return [dict(row) for row in serializer.validated_data]

    def _answer(self, items: list[dict[str, Any]], run: Any) -> Response:
        try:
            result = run(items)
        except ImportRefused as refused:
            raise Problem(
                400,
                "invalid",
                refused.message,
                errors=[
                    field_error([e["index"], e["field"]], str(e["message"]), "invalid")
                    for e in refused.errors
                ],
            ) from refused
        return Response(
            ImportResultSerializer(
                {
                    "received": len(items),
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
            ).data
        )


class SurveyAnswerViewSet(_ImportViewSet):
    """Customer-service survey answers (Amazon's Customer Service Dissatisfaction Rate)."""

    input_serializer = SurveyAnswerInputSerializer

    @extend_schema(
        summary="Import survey answers (create or update, up to 10,000)",
        description="Each answer identified by (marketplace, external_id); all or nothing; "
        "sending the same list again changes nothing.",
        request=SurveyAnswerInputSerializer(many=True),
        responses={200: ImportResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = self._items(request)
        return self._answer(items, lambda rows: survey_answers_import(answers=rows))


class SellerFeedbackViewSet(_ImportViewSet):
    """Seller feedback (1 to 5 stars) for the seller feedback rating."""

    input_serializer = SellerFeedbackInputSerializer

    @extend_schema(
        summary="Import seller feedback (create or update, up to 10,000)",
        description="Each feedback identified by (marketplace, external_id); all or nothing; "
        "`removed` marks feedback the marketplace took down (no longer counted).",
        request=SellerFeedbackInputSerializer(many=True),
        responses={200: ImportResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = self._items(request)
        return self._answer(items, lambda rows: seller_feedback_import(feedback=rows))
