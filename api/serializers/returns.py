"""Return requests (``/api/v1/return-requests/``): read, imported, answered."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from cases.choices import ReturnDecision
from cases.models import ReturnRequest

from ..fields import ApiChoiceField, ApiModelSerializer, AwareDateTimeField, MarketplaceCodeField
from .base import InputSerializer


class ReturnRequestSerializer(ApiModelSerializer):
    """A customer's request to return an order, its answer clock and the seller's answer."""

    marketplace = MarketplaceCodeField()
    order: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="external_id", read_only=True
    )
    case: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField(
        help_text="Unanswered past its due time (the Return Dissatisfaction Rate counts it)."
    )

    class Meta:
        model = ReturnRequest
        fields: tuple[str, ...] = (
            "id",
            "marketplace",
            "external_id",
            "order",
            "case",
            "requested_at",
            "is_valid",
            "customer_reason",
            "response_due_at",
            "responded_at",
            "decision",
            "rejection_reason",
            "answered_by_name",
            "rejection_overturned_at",
            "negative_feedback_at",
            "overdue",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def get_overdue(self, request: ReturnRequest) -> bool:
        now = self.context.get("now")
        return bool(
            now
            and request.responded_at is None
            and request.response_due_at is not None
            and request.response_due_at < now
        )


class ReturnRequestInputSerializer(InputSerializer):
    """A return request as the marketplace reports it (created or updated by external id)."""

    marketplace = serializers.CharField(help_text="The marketplace code, e.g. amazon_fr.")
    external_id = serializers.CharField(max_length=100)
    order = serializers.CharField(max_length=100, help_text="The order's external id.")
    case = serializers.CharField(
        max_length=20, required=False, allow_null=True, help_text="A case reference (optional)."
    )
    requested_at = AwareDateTimeField()
    customer_reason = serializers.CharField(max_length=255, required=False, allow_blank=True)
    negative_feedback_at = AwareDateTimeField(required=False, allow_null=True)
    rejection_overturned_at = AwareDateTimeField(required=False, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # The marketplace's field is called "is_valid": declared on the class, it would hide
        # the serializer's own is_valid() from readers and type checkers (DRF's metaclass
        # removes it at run time, but nothing else knows that).
        fields = super().get_fields()
        fields["is_valid"] = serializers.BooleanField(required=False)
        return fields


class ReturnAnswerSerializer(InputSerializer):
    decision = ApiChoiceField(choices=ReturnDecision.choices)
    reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text="Required to reject."
    )
    answered_at = AwareDateTimeField(required=False, help_text="Default: now.")
