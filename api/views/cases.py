"""Cases: open, list, read, move through the workflow, evidence, evidence requests, refunds.

Every change goes through ``cases.services`` with the client's actor (``door=api``); this module
only checks the shape of requests and the client's scope (a case of another marketplace is 404).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from cases.choices import Door, Priority
from cases.errors import ErrorCode
from cases.events import RenderContext
from cases.models import Case, Evidence
from cases.selectors import (
    case_by_reference,
    case_evidence,
    case_evidence_request,
    case_list,
    case_list_values,
    case_refund_request,
)
from cases.services import (
    case_available_transitions,
    case_open,
    case_transition,
    case_update_details,
    evidence_add,
    evidence_request_create,
    evidence_request_revoke,
    refund_decide,
    refund_request_create,
)
from cases.services.tracking import tracking_locations
from intake.uploads import RawNamedUpload, StreamedUpload

from ..filters import ApiFilterBackend, CaseFilter, narrowed_marketplace_ids
from ..pagination import CaseEventPagination, KeysetPagination
from ..parsers import LimitedJSONParser, UploadParser
from ..problems import HeaderInvalid
from ..serializers.cases import (
    CASE_LIST_COLUMNS,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseRowWriter,
    CaseSerializer,
    CaseUpdateSerializer,
    EvidenceRequestInputSerializer,
    EvidenceRequestSerializer,
    EvidenceSerializer,
    EvidenceUploadSerializer,
    RefundDecisionInputSerializer,
    RefundDecisionResultSerializer,
    RefundRequestInputSerializer,
    RefundRequestSerializer,
    TransitionInputSerializer,
    TransitionOptionSerializer,
    case_detail_data,
)
from .base import DOOR, ApiGenericViewSet, refuse_body_fields

_VERSION_TAG = re.compile(r'^(?:W/)?"?(\d+)"?$')
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The case\'s ETag (its version, e.g. "3") as the client last read it: the write '
    "is refused with 409 `case_changed` if the case changed since. Answers carry the new ETag.",
    pattern=r'^(\*|(W/)?"?\d{1,18}"?)$',
)


class IgnoreAccept(BaseContentNegotiation):
    """File downloads answer the file whatever ``Accept`` says (errors still come as JSON)."""

    def select_parser(self, request: Request, parsers: Iterable[Any]) -> Any:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[Any], format_suffix: Any = None
    ) -> tuple[Any, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class PackQuerySerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=["en", "fr", "zh-hans"], default="en")
    internal_notes = serializers.BooleanField(default=False)


class EvidenceAddedSerializer(EvidenceSerializer):
    duplicate = serializers.BooleanField(
        read_only=True, help_text="The same file (SHA-256) was already on the case: nothing added."
    )

    class Meta(EvidenceSerializer.Meta):
        fields: tuple[str, ...] = (*EvidenceSerializer.Meta.fields, "duplicate")
        read_only_fields: tuple[str, ...] = fields


def _etag(case: Case) -> str:
    return f'"{case.version}"'


class CaseViewSet(mixins.ListModelMixin, ApiGenericViewSet):
    """Cases of the client's marketplaces (a case of another marketplace answers 404)."""

    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}"
    serializer_class = CaseSerializer
    pagination_class = KeysetPagination
    filter_backends = [ApiFilterBackend]
    filterset_class = CaseFilter
    ordering_fields = ("opened_at", "resolution_due_at", "next_due_at")
    default_ordering = "-opened_at"
    parser_classes = [LimitedJSONParser]

    def get_queryset(self) -> QuerySet[Case, Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no client
            nothing: QuerySet[Case] = Case.objects.none()
            return nothing
        if self.action == "list":
            # Scoped to the marketplaces asked for (among the client's) in one condition.
            # The page as plain values, not model instances: at 50 rows the ORM's instances
            # (case, order, assignee, each through django-fsm's __init__) cost more than the
            # query.
            narrowed = narrowed_marketplace_ids(self.request, self.marketplaces)
            return case_list_values(
                marketplace_ids=narrowed or self.marketplace_ids,
                columns=("pk", *CASE_LIST_COLUMNS),
            )
        return case_list(marketplace_ids=self.marketplace_ids)

    # -- loading --------------------------------------------------------------------------

    def _case(self, *, detailed: bool = False) -> Case:
        case = case_by_reference(
            reference=self.kwargs["reference"],
            marketplace_ids=self.marketplace_ids,
            with_parts=detailed,
            marketplaces={m.pk: m for m in self.marketplaces.values()},
        )
        if case is None:
            raise NotFound(
                _("There is no case %(reference)s among the cases of your marketplaces.")
                % {"reference": self.kwargs["reference"][:40]}
            )
        return case

    def _detail_response(self, status_code: int = status.HTTP_200_OK) -> Response:
        """The case as it is now (after a change: reloaded), with its ETag."""
        fresh = self._case(detailed=True)
        context = {
            **self.get_serializer_context(),
            # the history in the case's time zone, with evidence names, refund currencies and
            # scan places (read from their rows, erasable), from the parts already loaded
            "render_context": RenderContext(
                tz=fresh.marketplace.tz,
                evidence_names={e.pk: e.original_name for e in fresh.evidence.all()},
                refund_currencies={r.pk: r.currency for r in fresh.refund_requests.all()},
                tracking_locations=tracking_locations(fresh.events.all()),
            ),
        }
        data = case_detail_data(fresh, context)
        headers = {"ETag": _etag(fresh)}
        if status_code == status.HTTP_201_CREATED:
            headers["Location"] = data["url"]
        return Response(data, status=status_code, headers=headers)

    @staticmethod
    def _current_etag(case: Case) -> str:
        """The case's ETag after a write on one of its parts (which changes its version)."""
        version = Case.objects.filter(pk=case.pk).values_list("version", flat=True).first()
        return f'"{version}"'

    def _expected_version(self, body_value: int | None) -> int | None:
        """The version the client acted on: ``expected_version`` in the body, or ``If-Match``."""
        header = self.request.headers.get("If-Match", "").strip()
        if not header or header == "*":
            return body_value
        match = _VERSION_TAG.match(header)
        if match is None:
            raise HeaderInvalid(
                {"If-Match": [_('If-Match must hold the case\'s ETag (its version), e.g. "3".')]}
            )
        version = int(match.group(1))
        if body_value is not None and body_value != version:
            # Two versions in one request: which one the client acted on is unknown.
            raise ValidationError(
                {
                    "expected_version": [
                        ErrorDetail(
                            _("expected_version and If-Match disagree."), code=ErrorCode.CONFLICT
                        )
                    ]
                }
            )
        return version

    # -- list, open, read, edit --------------------------------------------------------------

    @extend_schema(
        summary="List cases",
        description="Cases of the client's marketplaces, newest first by default; a cursor "
        "follows `next`. Filters combine (AND).",
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        writer = CaseRowWriter(self.get_serializer_context())
        return self.get_paginated_response([writer.values_row(values) for values in page or []])

    @extend_schema(
        summary="Open a case",
        request=CaseCreateSerializer,
        responses={
            201: CaseDetailSerializer,
            200: OpenApiResponse(
                CaseDetailSerializer, description="A case with this external_id already exists."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CaseCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refund = dict(data["refund_request"]) if data.get("refund_request") else None
        case, created = case_open(
            marketplace=data["marketplace"],
            order=data["order"],
            kind=data["kind"],
            actor=self.actor,
            door=DOOR,
            opened_at=data.get("opened_at"),
            description=data.get("description", ""),
            external_id=data.get("external_id") or None,
            external_claim_id=data.get("external_claim_id", ""),
            priority=data.get("priority", Priority.NORMAL),
            refund_request=refund,
        )
        self.kwargs["reference"] = case.reference
        response = self._detail_response(status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        if not created:
            response["Location"] = response.data["url"]
        return response

    @extend_schema(summary="A case, with everything about it", responses=CaseDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail_response()

    @extend_schema(
        summary="Change a case's details (priority, description, claim id)",
        request=CaseUpdateSerializer,
        responses=CaseDetailSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, description="ETag")],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self._case()
        serializer = CaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        details = dict(serializer.validated_data)
        expected = self._expected_version(details.pop("expected_version", None))
        case_update_details(
            case=case, actor=self.actor, door=DOOR, expected_version=expected, **details
        )
        return self._detail_response()

    # -- transitions ------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="What this client may do on the case now",
        responses=TransitionOptionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Run a transition",
        description="409 when the transition does not apply to the case's current state or "
        "the case changed since `expected_version` / `If-Match`; 400 when a condition or an "
        "argument is wrong; 403 when the client lacks the right. Problems carry "
        "`available_transitions`.",
        request=TransitionInputSerializer,
        responses=CaseDetailSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description="The case's ETag (its version): 409 if it changed since.",
            )
        ],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def transitions(self, request: Request, reference: str) -> Response:
        case = self._case()
        if request.method == "GET":
            options = case_available_transitions(case, self.actor)
            return Response(TransitionOptionSerializer(options, many=True).data)
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case_transition(
            case=case.pk,
            transition=data["transition"],
            actor=self.actor,
            door=DOOR,
            occurred_at=data.get("occurred_at"),
            note=data.get("note", ""),
            reason=data.get("reason", ""),
            reason_code=data.get("reason_code", ""),
            expected_version=self._expected_version(data.get("expected_version")),
        )
        return self._detail_response()

    # -- evidence ---------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"], summary="Evidence of the case", responses=EvidenceSerializer(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload a photo or video",
        parameters=[IF_MATCH],
        description="Checked like every other door: a file that is not really a photo or "
        "video, too large, too long or corrupt is refused (400) and nothing of it is kept. The "
        "same file twice answers 200 with `duplicate: true`.",
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={
            201: EvidenceAddedSerializer,
            200: OpenApiResponse(EvidenceAddedSerializer, description="Already on the case."),
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[UploadParser],
        pagination_class=None,
        filter_backends=[],
    )
    def evidence(self, request: Request, reference: str) -> Response:
        case = self._case()
        context = {**self.get_serializer_context(), "case": case}
        if request.method == "GET":
            return Response(
                EvidenceSerializer(case.evidence.all(), many=True, context=context).data
            )
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        evidence_request = None
        if data.get("evidence_request") is not None:
            evidence_request = case_evidence_request(case=case, pk=data["evidence_request"])
            if evidence_request is None:
                raise ValidationError(
                    {
                        "evidence_request": [
                            ErrorDetail(
                                _("This case has no evidence request %(id)s.")
                                % {"id": data["evidence_request"]},
                                code=ErrorCode.NOT_FOUND,
                            )
                        ]
                    }
                )
        upload = data["file"]
        added = evidence_add(
            case=case,
            # the file under the name the client gave (cleaned by the service, as at every door)
            upload=RawNamedUpload(upload) if isinstance(upload, StreamedUpload) else upload,
            source=data["source"],
            actor=self.actor,
            door=DOOR,
            request=evidence_request,
            checklist_item=data.get("checklist_item", ""),
            uploaded_at=data.get("uploaded_at"),
            expected_version=self._expected_version(None),
        )
        evidence = added.evidence
        evidence.duplicate = added.duplicate  # type: ignore[attr-defined]  # for the serializer
        body = EvidenceAddedSerializer(evidence, context=context).data
        code = status.HTTP_200_OK if added.duplicate else status.HTTP_201_CREATED
        headers = {"Location": body["download_url"], "ETag": self._current_etag(case)}
        return Response(body, status=code, headers=headers)

    def _evidence(self, evidence_id: str) -> Evidence:
        case = self._case()
        evidence = case_evidence(case=case, pk=int(evidence_id))
        if evidence is None:
            raise NotFound(
                _("Case %(ref)s has no evidence %(id)s.")
                % {"ref": case.reference, "id": evidence_id}
            )
        return evidence

    @extend_schema(
        summary="Download an evidence file",
        description="Streamed; answers HTTP Range requests (video players seek with them).",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                description="The photo or video (image/jpeg, image/png, image/webp, video/mp4, "
                "video/webm)."
            ),
            (206, "application/octet-stream"): OpenApiResponse(description="A byte range."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"evidence/(?P<evidence_id>\d{1,18})/file",
        url_name="evidence-file",
        content_negotiation_class=IgnoreAccept,
    )
    def evidence_file(self, request: Request, reference: str, evidence_id: str) -> Any:
        from intake.serving import evidence_file_response

        return evidence_file_response(request._request, self._evidence(evidence_id))

    @extend_schema(
        summary="Download an evidence preview (JPEG)",
        responses={(200, "image/jpeg"): OpenApiResponse(description="The preview.")},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"evidence/(?P<evidence_id>\d{1,18})/thumbnail",
        url_name="evidence-thumbnail",
        content_negotiation_class=IgnoreAccept,
    )
    def evidence_thumbnail(self, request: Request, reference: str, evidence_id: str) -> Any:
        from intake.serving import evidence_file_response

        evidence = self._evidence(evidence_id)
        if not evidence.thumbnail:
            raise NotFound(_("The preview of this file is not ready yet; try again in a minute."))
        return evidence_file_response(request._request, evidence, thumbnail=True)

    # -- dispute pack ---------------------------------------------------------------------------

    @extend_schema(
        summary="Download the case's dispute pack (ZIP)",
        description="A ZIP holding `summary.pdf` (the case, its order and customer, the "
        "transitions, messages and notes marked internal or not, the evidence with previews, "
        "refund requests and decisions, each deadline and whether it was met), the evidence "
        "files, and `manifest.json` with the SHA-256 of every file and of every original "
        "upload. Each download produces a pack and records its SHA-256 in the case's audit "
        "trail (`pack_produced`), against which `manage.py pack_verify` checks a pack later. "
        "Internal notes are left out unless `internal_notes=true`. A video larger than the "
        "marketplace accepts is listed by its SHA-256 instead of included.",
        parameters=[
            OpenApiParameter(
                "language", str, enum=["en", "fr", "zh-hans"], description="Default: en."
            ),
            OpenApiParameter("internal_notes", bool, description="Default: false."),
        ],
        responses={(200, "application/zip"): OpenApiResponse(description="The pack.")},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pack",
        url_name="pack",
        content_negotiation_class=IgnoreAccept,
        filter_backends=[],
        pagination_class=None,
    )
    def pack(self, request: Request, reference: str) -> Any:
        from django.http import HttpResponse

        from packs.build import pack_build

        query = PackQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        case = self._case()
        pack = pack_build(
            case=case,
            language=query.validated_data["language"],
            include_internal_notes=query.validated_data["internal_notes"],
            actor=self.actor,
            door=Door.API,
        )
        response = HttpResponse(pack.data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
        response["X-Pack-SHA256"] = pack.sha256
        return response

    # -- evidence requests --------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="Evidence requests of the case",
        responses=EvidenceRequestSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Ask for evidence: creates an upload link",
        parameters=[IF_MATCH],
        description="Answers the request with `url`, the absolute link of the upload form to "
        "send to the customer or partner (no account needed; expires after the deadline).",
        request=EvidenceRequestInputSerializer,
        responses={201: EvidenceRequestSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="evidence-requests",
        pagination_class=None,
        filter_backends=[],
    )
    def evidence_requests(self, request: Request, reference: str) -> Response:
        case = self._case()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(
                EvidenceRequestSerializer(
                    case.evidence_requests.all(), many=True, context=context
                ).data
            )
        serializer = EvidenceRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        checklist = data.get("checklist")
        created = evidence_request_create(
            case=case,
            actor=self.actor,
            door=DOOR,
            audience=data["audience"],
            checklist=checklist,
            message=data.get("message", ""),
            due_at=data.get("due_at"),
            expected_version=self._expected_version(None),
        )
        body = EvidenceRequestSerializer(created, context=context).data
        location = request.build_absolute_uri(
            reverse("api:case-evidence-request", args=[case.reference, created.pk])
        )
        headers = {"Location": location, "ETag": self._current_etag(case)}
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        methods=["GET"], summary="An evidence request", responses=EvidenceRequestSerializer
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Revoke an evidence request's link",
        parameters=[IF_MATCH],
        description="The link stops working at once. Answers the revoked request (idempotent).",
        responses={200: EvidenceRequestSerializer},
    )
    @action(
        detail=True,
        methods=["get", "delete"],
        url_path=r"evidence-requests/(?P<request_id>\d{1,18})",
        url_name="evidence-request",
    )
    def evidence_request(self, request: Request, reference: str, request_id: str) -> Response:
        case = self._case()
        evidence_request = case_evidence_request(case=case, pk=int(request_id))
        if evidence_request is None:
            raise NotFound(
                _("Case %(ref)s has no evidence request %(id)s.")
                % {"ref": case.reference, "id": request_id}
            )
        if request.method == "DELETE":
            refuse_body_fields(request)
            evidence_request = evidence_request_revoke(
                evidence_request=evidence_request,
                actor=self.actor,
                door=DOOR,
                expected_version=self._expected_version(None),
            )
        return Response(
            EvidenceRequestSerializer(evidence_request, context=self.get_serializer_context()).data,
            headers={"ETag": self._current_etag(case)},
        )

    # -- refunds --------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="Refund requests of the case",
        responses=RefundRequestSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a customer's refund request",
        parameters=[IF_MATCH],
        request=RefundRequestInputSerializer,
        responses={201: RefundRequestSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="refund-requests",
        pagination_class=None,
        filter_backends=[],
    )
    def refund_requests(self, request: Request, reference: str) -> Response:
        case = self._case()
        if request.method == "GET":
            return Response(RefundRequestSerializer(case.refund_requests.all(), many=True).data)
        serializer = RefundRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = refund_request_create(
            case=case,
            actor=self.actor,
            door=DOOR,
            expected_version=self._expected_version(None),
            **serializer.validated_data,
        )
        return Response(
            RefundRequestSerializer(refund).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": self._current_etag(case)},
        )

    @extend_schema(
        summary="Decide a refund request",
        parameters=[IF_MATCH],
        description="Approve, partially approve (with `approved_amount`) or reject (with a "
        "`reason_code`; needs the client's right to reject refunds). Approving moves the case "
        "to refund_pending when its workflow allows it.",
        request=RefundDecisionInputSerializer,
        responses=RefundDecisionResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="refund-decisions")
    def refund_decisions(self, request: Request, reference: str) -> Response:
        case = self._case()
        serializer = RefundDecisionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        refund = case_refund_request(case=case, pk=data["refund_request"])
        if refund is None:
            raise ValidationError(
                {
                    "refund_request": [
                        ErrorDetail(
                            _("Case %(ref)s has no refund request %(id)s.")
                            % {"ref": case.reference, "id": data["refund_request"]},
                            code=ErrorCode.NOT_FOUND,
                        )
                    ]
                }
            )
        decided = refund_decide(
            refund_request=refund,
            decision=data["decision"],
            actor=self.actor,
            door=DOOR,
            decided_at=data.get("decided_at"),
            approved_amount=data.get("approved_amount"),
            reason_code=data.get("reason_code", ""),
            note=data.get("note", ""),
            expected_version=self._expected_version(data.get("expected_version")),
        )
        fresh = self.get_queryset().get(pk=case.pk)
        context = self.get_serializer_context()
        return Response(
            {
                "refund_request": RefundRequestSerializer(decided).data,
                "case": CaseSerializer(fresh, context=context).data,
            },
            headers={"ETag": _etag(fresh)},
        )

    # -- history ------------------------------------------------------------------------------

    @extend_schema(
        summary="The case's history",
        description="Every audit event of the case, oldest first by default (`ordering=` "
        "`occurred_at`, `-occurred_at`, `recorded_at`, `-recorded_at`); a cursor follows "
        "`next`. Each event has its `type` and parameters (`data`) for programs, and `title` "
        "and `detail` in the request's language (Accept-Language: en, fr, zh-hans) for people. "
        "`occurred_at` is when it happened on the marketplace (an integration may give it for "
        "imported history), `recorded_at` when the system recorded it.",
        responses=CaseEventSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=CaseEventPagination,
        filter_backends=[],
    )
    def events(self, request: Request, reference: str) -> Response:
        case = self._case()
        paginator = self.paginator
        assert paginator is not None  # noqa: S101 (the action sets its pagination class)
        page = paginator.paginate_queryset(case.events.all(), request, view=self)
        context = {
            **self.get_serializer_context(),
            "render_context": RenderContext(
                tz=case.marketplace.tz,
                evidence_names=dict(case.evidence.values_list("pk", "original_name")),
                refund_currencies=dict(case.refund_requests.values_list("pk", "currency")),
                tracking_locations=tracking_locations(page or []),
            ),
        }
        data = CaseEventSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)
