"""Bodies and answers of ``/api/v1/personal-data/``: a customer named by e-mail address or by
an order id (one of the two), optionally on one marketplace."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from cases.models import PersonalDataErasure

from .base import NOT_ONLY_SPACES, InputSerializer

_TEXT = NOT_ONLY_SPACES  # the service trims; DRF refuses NUL


def subject_schema(*, erase: bool) -> dict[str, Any]:
    """The body, as the schema states it: exactly one of ``email`` and ``order``."""
    common: dict[str, Any] = {
        "marketplace": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": _TEXT},
    }
    required: list[str] = []
    if erase:
        common["confirm"] = {
            "type": "boolean",
            "enum": [True],
            "description": "true: erasure cannot be undone.",
        }
        required.append("confirm")

    def variant(name: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": [name, *required],
            "properties": {name: schema, **common},
            "additionalProperties": False,
        }

    return {
        "oneOf": [
            variant(
                "email",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 254,
                    "pattern": _TEXT,
                    "description": "The customer's e-mail address (every order placed with it).",
                },
            ),
            variant(
                "order",
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100,
                    "pattern": _TEXT,
                    "description": "An order id of the customer (and the other orders of its "
                    "e-mail address).",
                },
            ),
        ]
    }


class PersonalDataSubjectSerializer(InputSerializer):
    email = serializers.CharField(required=False, max_length=254, trim_whitespace=False)
    order = serializers.CharField(required=False, max_length=100, trim_whitespace=False)
    marketplace = serializers.CharField(required=False, max_length=32)


class PersonalDataEraseSerializer(PersonalDataSubjectSerializer):
    confirm = serializers.BooleanField()

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError(
                _("Erasure cannot be undone: send confirm: true to go ahead.")
            )
        return value


@extend_schema_serializer(component_name="PersonalDataErasure")
class PersonalDataErasureSerializer(serializers.ModelSerializer):
    """What an erasure did (the record holds none of the data)."""

    marketplace: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    parts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows changed by part (messages...)."
    )

    class Meta:
        model = PersonalDataErasure
        fields = ("id", "at", "marketplace", "orders", "cases", "evidence", "parts")
        read_only_fields = fields
