"""The outbox as connectors pull it (``GET /api/v1/outbox/``) and report on it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.models import OutboundMessage

from ..fields import ApiModelSerializer, AwareDateTimeField, MarketplaceCodeField
from .base import InputSerializer


class OutboundMessageSerializer(ApiModelSerializer):
    """A reply to send: where (marketplace, conversation, reply address), what (the text as the
    marketplace takes it: plain text where it takes no HTML) and its state."""

    marketplace = MarketplaceCodeField()
    conversation_id = serializers.CharField(
        source="conversation.external_id",
        read_only=True,
        help_text="The marketplace's thread id (``local-...`` for a conversation the seller "
        "starts: report the marketplace's thread id when it is sent).",
    )
    order = serializers.SerializerMethodField(help_text="The order's external id, if any.")
    case = serializers.SerializerMethodField(help_text="The case reference, if any.")
    counterpart = serializers.CharField(source="conversation.counterpart", read_only=True)
    channel = serializers.CharField(source="conversation.channel", read_only=True)
    reply_to = serializers.CharField(source="conversation.reply_to", read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = OutboundMessage
        fields: tuple[str, ...] = (
            "id",
            "marketplace",
            "conversation_id",
            "order",
            "case",
            "counterpart",
            "channel",
            "reply_to",
            "subject",
            "text",
            "text_is_html",
            "status",
            "queued_at",
            "attempts",
            "sent_at",
            "marketplace_message_id",
            "failure_reason",
            "attachments",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_order(self, outbound: OutboundMessage) -> str | None:
        order = outbound.conversation.order
        return order.external_id if order is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case(self, outbound: OutboundMessage) -> str | None:
        case = outbound.conversation.case
        return case.reference if case is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_attachments(self, outbound: OutboundMessage) -> list[dict[str, Any]]:
        return [
            {"name": a.name, "content_type": a.content_type, "size": a.size}
            for a in outbound.attachments.all()
        ]


class OutboundSentSerializer(InputSerializer):
    marketplace_message_id = serializers.CharField(
        max_length=100, help_text="The marketplace's id of the message that left."
    )
    sent_at = AwareDateTimeField(help_text="When it left (never in the future).")
    conversation_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The marketplace's thread id, for a conversation the seller started.",
    )


class OutboundFailedSerializer(InputSerializer):
    reason = serializers.CharField(
        max_length=2000, help_text="Why it could not be sent (shown to the agent)."
    )
