"""The outbox for connectors: pull the replies to send, report each sent or failed.

``GET /api/v1/outbox/``: queued replies of the client's marketplaces, oldest first (cursor
pagination), except those the system e-mails itself. ``POST /api/v1/outbox/{id}/sent/`` and
``.../failed/``: idempotent reports (the same report again answers 200 and changes nothing);
``messaging.services`` does the work.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from messaging.models import OutboundMessage, OutboxStatus
from messaging.services import outbound_mark_failed, outbound_mark_sent

from ..filters import ApiFilterBackend, OutboxFilter
from ..pagination import KeysetPagination
from ..parsers import LimitedJSONParser
from ..serializers.outbox import (
    OutboundFailedSerializer,
    OutboundMessageSerializer,
    OutboundSentSerializer,
)
from .base import DOOR, ApiGenericViewSet


class OutboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    """Replies waiting for a connector, in the client's marketplaces."""

    serializer_class = OutboundMessageSerializer
    pagination_class = KeysetPagination
    filter_backends = [ApiFilterBackend]
    filterset_class = OutboxFilter
    ordering_fields = ("queued_at",)
    default_ordering = "queued_at"
    parser_classes = [LimitedJSONParser]

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        if getattr(self, "swagger_fake_view", False):
            return OutboundMessage.objects.none()
        rows = OutboundMessage.objects.filter(
            marketplace_id__in=self.marketplace_ids
        ).select_related("conversation__order", "conversation__case", "marketplace")
        if self.action == "list":
            rows = rows.filter(status=OutboxStatus.QUEUED, by_email=False)
        return rows.prefetch_related("attachments")

    @extend_schema(summary="List the replies to send (oldest first)")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Read one outbound message")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Report a reply sent",
        description="The marketplace's message id and when it left (never in the future). "
        "The reply then counts as the seller's answer at that time. Idempotent.",
        request=OutboundSentSerializer,
        responses=OutboundMessageSerializer,
    )
    @action(detail=True, methods=["post"])
    def sent(self, request: Request, pk: str) -> Response:
        outbound = self.get_object()
        serializer = OutboundSentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        done, _changed = outbound_mark_sent(
            outbound=outbound,
            marketplace_message_id=data["marketplace_message_id"],
            sent_at=data["sent_at"],
            conversation_id=data.get("conversation_id", ""),
            actor=self.actor,
            door=DOOR,
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)

    @extend_schema(
        summary="Report a reply failed",
        description="Why it could not be sent; the agent sees it on the thread, may edit "
        "the reply and send it again. Idempotent.",
        request=OutboundFailedSerializer,
        responses=OutboundMessageSerializer,
    )
    @action(detail=True, methods=["post"])
    def failed(self, request: Request, pk: str) -> Response:
        outbound = self.get_object()
        serializer = OutboundFailedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        done, _changed = outbound_mark_failed(
            outbound=outbound, reason=serializer.validated_data["reason"], actor=self.actor
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)
