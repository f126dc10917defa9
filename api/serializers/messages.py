"""The message log, read and written (``POST /api/v1/messages/``). Writes are validated by
``messaging.services``; these serializers document the shape and render stored messages."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cases.models import CUSTOMER_LANGUAGES
from messaging.models import Message, Topic
from messaging.services import WRITABLE_FIELDS

from ..fields import ApiModelSerializer, MarketplaceCodeField


class MessageSerializer(ApiModelSerializer):
    """A message received or sent by the seller, identified by (marketplace, external_id)."""

    marketplace = MarketplaceCodeField()
    conversation_id = serializers.CharField(
        source="conversation.external_id",
        read_only=True,
        help_text="The marketplace's thread id; messages of one thread share it.",
    )
    order: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="external_id",
        read_only=True,
        allow_null=True,
        help_text="The order's external id (in a request: the order's external id, optional).",
    )
    case: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="reference",
        read_only=True,
        allow_null=True,
        help_text="The case reference, e.g. AS-2026-000123 (optional).",
    )

    class Meta:
        model = Message
        fields: tuple[str, ...] = (
            "marketplace",
            "external_id",
            "conversation_id",
            "order",
            "case",
            "direction",
            "counterpart",
            "channel",
            "sent_at",
            "received_at",
            "subject",
            "body",
            "is_spam",
            "received_while_paused",
            "no_response_needed",
            "is_conversation_start",
            "needs_response",
            "response_due_at",
            "answered_at",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = (
            "is_conversation_start",
            "needs_response",
            "response_due_at",
            "answered_at",
            "created_at",
            "updated_at",
        )


class MessageInputSerializer(MessageSerializer):
    """A message as sent to ``POST /api/v1/messages/``: the fields ``messaging.services``
    reads, no more (its values are checked there; this serializer names the accepted keys, for
    the schema and for refusing the others)."""

    conversation_id = serializers.CharField(
        max_length=100, help_text="The marketplace's thread id; messages of one thread share it."
    )
    order = serializers.CharField(  # type: ignore[assignment]  # in a request: the external id
        required=False, allow_null=True, help_text="The order's external id (optional)."
    )
    topic = serializers.ChoiceField(
        choices=Topic.choices,
        required=False,
        help_text="Before or after the sale, for a new conversation (default: after the sale "
        "when an order is given).",
    )
    language = serializers.ChoiceField(
        choices=CUSTOMER_LANGUAGES,
        required=False,
        help_text="The conversation's language (default: the order's customer language).",
    )
    reply_to = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Where replies go when the system e-mails them itself (Amazon's buyer "
        "relay address).",
    )
    case = serializers.CharField(  # type: ignore[assignment]  # in a request: the reference
        required=False, allow_null=True, help_text="The case reference, e.g. AS-2026-000123."
    )

    class Meta(MessageSerializer.Meta):
        fields: tuple[str, ...] = ("marketplace", "external_id", *WRITABLE_FIELDS)
        read_only_fields: tuple[str, ...] = ()
        validators: list = []


class MessageBatchResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Messages in the request.")
    created = serializers.IntegerField(help_text="New messages.")
    updated = serializers.IntegerField(help_text="Known messages with at least one change.")
    unchanged = serializers.IntegerField(help_text="Known messages sent again with no change.")
    first_responded_cases = serializers.ListField(
        child=serializers.CharField(),
        help_text="References of the cases whose first response this import recorded.",
    )
