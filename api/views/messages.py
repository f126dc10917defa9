"""The message log: bulk import (idempotent by external id, all or nothing) and list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from messaging.models import Message
from messaging.services import MessageImportRefused, message_import_batch

from ..filters import ApiFilterBackend, MessageFilter
from ..pagination import KeysetPagination
from ..parsers import LimitedJSONParser
from ..problems import Problem, field_error
from ..serializers.base import refuse_unknown_fields_in_list
from ..serializers.messages import (
    MessageBatchResultSerializer,
    MessageInputSerializer,
    MessageSerializer,
)
from ..throttling import BulkImportThrottle, ClientRateThrottle
from .base import DOOR, ApiGenericViewSet


def _problem_errors(refused: MessageImportRefused) -> list[dict[str, Any]]:
    """The service's (index, field, message) errors in the API's field-error shape."""
    return [
        field_error(
            [error["index"]] + ([error["field"]] if error["field"] != "non_field_errors" else []),
            str(error["message"]),
            error.get("code", "invalid"),
        )
        for error in refused.errors
    ]


class MessageViewSet(mixins.ListModelMixin, ApiGenericViewSet):
    """Messages of the client's marketplaces, received or sent by the seller."""

    serializer_class = MessageSerializer
    pagination_class = KeysetPagination
    filter_backends = [ApiFilterBackend]
    filterset_class = MessageFilter
    ordering_fields = ("sent_at",)
    default_ordering = "-sent_at"
    parser_classes = [LimitedJSONParser]
    throttle_classes = [ClientRateThrottle, BulkImportThrottle]

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no client
            return Message.objects.none()
        return Message.objects.filter(marketplace_id__in=self.marketplace_ids).select_related(
            "order", "case", "conversation"
        )

    @extend_schema(summary="List messages")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Import messages (create or update, up to 10,000)",
        description="A JSON list of messages, each identified by (marketplace, external_id), "
        "written in one transaction: sending the same list again changes nothing. `order` is "
        "the order's external id and `case` the case reference (both optional). Times need "
        "their offset and may not be in the future. The first message of each conversation "
        "and when each received message was answered are derived from the whole thread; a "
        "seller's answer records the first response of the open cases it answers. If any "
        "item is invalid nothing is written and the problem lists every error with the item's "
        "`index` and `field`.",
        request=MessageInputSerializer(many=True),
        responses={200: MessageBatchResultSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        items = request.data
        if not isinstance(items, list):
            raise Problem(
                400,
                "invalid",
                _("Send a JSON list of messages, one object per message."),
            )
        if not items:
            raise Problem(400, "invalid", _("The list is empty: send at least one message."))
        refuse_unknown_fields_in_list(items, MessageInputSerializer())
        try:
            result = message_import_batch(
                messages=items, marketplaces=self.marketplaces, actor=self.actor, door=DOOR
            )
        except MessageImportRefused as refused:
            raise Problem(
                400, "invalid", refused.message, errors=_problem_errors(refused)
            ) from refused
        return Response(
            MessageBatchResultSerializer(
                {
                    "received": len(items),
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "first_responded_cases": result.first_responses,
                }
            ).data
        )
