"""``/api/v1/personal-data/``: a customer's personal data on request, for clients given the
right (``may_handle_personal_data``), within their marketplaces.

``POST export/`` answers everything held about the customer as one JSON document; ``POST
erase/`` pseudonymises it, deletes their files and answers the erasure's record. Both call
``cases.personal_data``, as the admin page and ``manage.py personal_data`` do.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from cases.personal_data import personal_data_erase, personal_data_export, personal_data_subject

from ..serializers.personal_data import (
    PersonalDataEraseSerializer,
    PersonalDataErasureSerializer,
    PersonalDataSubjectSerializer,
    subject_schema,
)
from .base import DOOR, ApiGenericViewSet


class PersonalDataViewSet(ApiGenericViewSet):
    """Export or erase a customer's personal data."""

    serializer_class = PersonalDataSubjectSerializer

    def _subject(self, serializer_class: type[PersonalDataSubjectSerializer]) -> Any:
        if not self.client.may_handle_personal_data:
            raise PermissionDenied(
                _("This API client may not export or erase personal data; ask for the right.")
            )
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return personal_data_subject(
            email=data.get("email", ""),
            order=data.get("order", ""),
            marketplace=data.get("marketplace", ""),
            marketplaces=self.marketplace_ids,
        )

    @extend_schema(
        summary="Export a customer's personal data",
        description="Orders, cases, evidence (names, hashes; the files themselves through the "
        "evidence endpoints), messages and clearance reminders of the customer, in the "
        "client's marketplaces. 403 without the personal-data right.",
        request={"application/json": subject_schema(erase=False)},
        responses={
            200: OpenApiResponse(
                response={"type": "object", "additionalProperties": True},
                description="The export document (as `manage.py personal_data export --json`).",
            )
        },
    )
    @action(detail=False, methods=["post"])
    def export(self, request: Request) -> Response:
        return Response(personal_data_export(self._subject(PersonalDataSubjectSerializer)))

    @extend_schema(
        summary="Erase a customer's personal data",
        description="Pseudonymises the customer's orders, cases, messages and evidence names, "
        "deletes their files, keeps the audit trail, and records the erasure (answered). "
        "Cannot be undone. 403 without the personal-data right.",
        request={"application/json": subject_schema(erase=True)},
        responses={200: PersonalDataErasureSerializer},
    )
    @action(detail=False, methods=["post"])
    def erase(self, request: Request) -> Response:
        subject = self._subject(PersonalDataEraseSerializer)
        erasure = personal_data_erase(subject=subject, actor=self.actor, door=DOOR)
        return Response(PersonalDataErasureSerializer(erasure).data)
