"""Survey answers and seller feedback imported for the scorecards (Amazon's Customer Service
Dissatisfaction Rate and feedback rating)."""

from __future__ import annotations

from rest_framework import serializers

from ..fields import AwareDateTimeField, MarketplaceCodeField
from .base import InputSerializer


class SurveyAnswerInputSerializer(InputSerializer):
    """One answer to the marketplace's "Did this solve your problem?" survey."""

    marketplace = MarketplaceCodeField()
    external_id = serializers.CharField(max_length=100)
    order_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    answered_at = AwareDateTimeField()
    dissatisfied = serializers.BooleanField(help_text="The customer said the reply did not help.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class SellerFeedbackInputSerializer(InputSerializer):
    """One rating a customer left for the seller."""

    marketplace = MarketplaceCodeField()
    external_id = serializers.CharField(max_length=100)
    order_external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    left_at = AwareDateTimeField()
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    removed = serializers.BooleanField(required=False, default=False)


class ImportResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
