"""Return requests: list (filters), import (create or update by external id), answer
(authorise, close, refund without return, reject with a reason). The rules are in
``cases.services.returns``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from cases.errors import ErrorCode
from cases.models import Case, Order, ReturnRequest
from cases.services.returns import return_request_answer, return_request_upsert

from ..filters import ApiFilterBackend, ReturnRequestFilter
from ..pagination import KeysetPagination
from ..parsers import LimitedJSONParser
from ..serializers.returns import (
    ReturnAnswerSerializer,
    ReturnRequestInputSerializer,
    ReturnRequestSerializer,
)
from .base import DOOR, ApiGenericViewSet


class ReturnRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    """Return requests of the client's marketplaces; unanswered ones carry their clock."""

    serializer_class = ReturnRequestSerializer
    pagination_class = KeysetPagination
    filter_backends = [ApiFilterBackend]
    filterset_class = ReturnRequestFilter
    ordering_fields = ("requested_at", "response_due_at")
    default_ordering = "-requested_at"
    parser_classes = [LimitedJSONParser]

    def get_queryset(self) -> QuerySet[ReturnRequest]:
        if getattr(self, "swagger_fake_view", False):
            return ReturnRequest.objects.none()
        return ReturnRequest.objects.filter(marketplace_id__in=self.marketplace_ids).select_related(
            "order", "case", "marketplace"
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(summary="List return requests")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Read a return request")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Import a return request (create or update by external id)",
        description="Sending the same request again changes nothing (200); a new one answers "
        "201. Its answer clock is the marketplace's (Amazon: 48 h, weekends included).",
        request=ReturnRequestInputSerializer,
        responses={200: ReturnRequestSerializer, 201: ReturnRequestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReturnRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        marketplace = self.marketplaces.get(data.pop("marketplace"))
        if marketplace is None:
            raise ValidationError(
                {
                    "marketplace": [
                        ErrorDetail(_("Not one of your marketplaces."), code=ErrorCode.NOT_YOURS)
                    ]
                }
            )
        order = Order.objects.filter(marketplace=marketplace, external_id=data.pop("order")).first()
        if order is None:
            raise ValidationError(
                {
                    "order": [
                        ErrorDetail(
                            _("No such order on this marketplace."), code=ErrorCode.NOT_FOUND
                        )
                    ]
                }
            )
        case = None
        reference = data.pop("case", None)
        if reference:
            case = Case.objects.filter(marketplace=marketplace, reference=reference).first()
            if case is None or case.order_id != order.pk:
                raise ValidationError({"case": [_("No such case of this order.")]})
        returned, created = return_request_upsert(
            marketplace=marketplace,
            external_id=data.pop("external_id"),
            order=order,
            case=case,
            **data,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=returned.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Answer a return request",
        description="authorized, closed, refunded_without_return, or rejected with a reason. "
        "Once only: a second answer is a conflict (409).",
        request=ReturnAnswerSerializer,
        responses=ReturnRequestSerializer,
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str) -> Response:
        returned = self.get_object()
        serializer = ReturnAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return_request_answer(
            return_request=returned,
            decision=data["decision"],
            reason=data.get("reason", ""),
            answered_at=data.get("answered_at"),
            actor=self.actor,
            door=DOOR,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=returned.pk)).data)
