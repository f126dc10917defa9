"""Cases as the API shows them, and what a client sends to open or change one."""

from __future__ import annotations

import datetime as dt
import operator
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.choices import (
    Audience,
    CaseKind,
    EvidenceSource,
    Priority,
    RefundDecision,
    RefundRejectionReason,
)
from cases.events import RenderedEvent, render_actor, render_event
from cases.models import Case, CaseEvent, Evidence, EvidenceRequest, Order, RefundRequest
from cases.services import case_available_transitions
from cases.services.evidence_requests.checklists import MAX_CHECKLIST_ITEMS
from marketplaces.models import Marketplace

from ..deadlines import DEADLINES, DeadlineOutcome, case_deadlines
from ..fields import (
    ApiChoiceField,
    ApiModelSerializer,
    AwareDateTimeField,
    ChoiceNameField,
    MarketplaceCodeField,
)
from .base import NO_NUL, NOT_ONLY_SPACES, InputSerializer, unknown_field_errors
from .orders import OrderSerializer


def _absolute(context: Mapping[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# -- pieces of a case -----------------------------------------------------------------------------


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What to send as `transition`.")
    target = serializers.CharField(help_text="The state the case will be in.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute
    requires_reason = serializers.BooleanField()
    help_text = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute


class DeadlineSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(DEADLINES))
    due_at = serializers.DateTimeField()
    running = serializers.BooleanField(help_text="True while the clock runs.")
    status = serializers.ChoiceField(
        choices=[outcome.value for outcome in DeadlineOutcome],
        help_text="A running clock: on_track, at_risk (due within the marketplace's at-risk "
        "business days) or overdue. A stopped one: met (stopped on or before due_at) or "
        "missed (stopped after it). not_started: the clock has a due time but has not run "
        "(it runs in a state the case has not reached, or the case took another path).",
    )
    business_days_left = serializers.IntegerField(
        allow_null=True,
        help_text="Running clocks: 0 on the due day, negative when overdue; null otherwise.",
    )
    stopped_at = serializers.DateTimeField(
        allow_null=True, help_text="When a stopped clock stopped; null while running or not run."
    )


class EvidenceSerializer(ApiModelSerializer):
    """A stored photo or video (metadata) and the link to download it with the client's key."""

    evidence_request: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        source="request",
        read_only=True,
        allow_null=True,
        help_text="The id of the evidence request this file answers, if any.",
    )
    download_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields: tuple[str, ...] = (
            "id",
            "media_type",
            "content_type",
            "original_name",
            "size_bytes",
            "stored_size_bytes",
            "sha256",
            "width",
            "height",
            "duration_seconds",
            "video_codec",
            "container",
            "source",
            "checklist_item",
            "evidence_request",
            "uploaded_at",
            "review_status",
            "review_reason",
            "reviewed_at",
            "download_url",
            "thumbnail_url",
        )
        read_only_fields: tuple[str, ...] = fields

    def _case_reference(self, evidence: Evidence) -> str:
        case = self.context.get("case")
        return case.reference if case is not None else evidence.case.reference

    @extend_schema_field(serializers.URLField())
    def get_download_url(self, evidence: Evidence) -> str:
        path = reverse(
            "api:case-evidence-file",
            kwargs={"reference": self._case_reference(evidence), "evidence_id": evidence.pk},
        )
        return _absolute(self.context, path)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, evidence: Evidence) -> str | None:
        if not evidence.thumbnail:
            return None  # made by a background task shortly after the upload
        path = reverse(
            "api:case-evidence-thumbnail",
            kwargs={"reference": self._case_reference(evidence), "evidence_id": evidence.pk},
        )
        return _absolute(self.context, path)


class ChecklistItemSerializer(InputSerializer):
    key = serializers.CharField(max_length=64)
    label = serializers.CharField(max_length=200)  # type: ignore[assignment]  # a field named like a Field attribute
    hint = serializers.CharField(max_length=500, required=False, allow_blank=True)
    required = serializers.BooleanField(default=True)  # type: ignore[assignment]  # a field named like a Field attribute


class ChecklistItemInputField(serializers.JSONField):
    """One item as sent: a label, or an object whose keys are those of a checklist item (an
    unknown key is refused here, like everywhere in a body); its values are the service's to
    check (``normalise_checklist``), in the same words at every door."""

    def to_internal_value(self, data: Any) -> Any:
        errors = unknown_field_errors(data, accepted=ChecklistItemSerializer().accepted_fields())
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# cases.services.evidence_requests.checklists: 1 to 200 characters, not only spaces, no NUL
# (a hint: no NUL).
CHECKLIST_LABEL = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": NOT_ONLY_SPACES,
}


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_CHECKLIST_ITEMS,
        "items": {
            "oneOf": [
                {**CHECKLIST_LABEL, "description": "A label; its key is made from it."},
                {
                    "type": "object",
                    "required": ["label"],
                    "properties": {
                        "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                        "label": CHECKLIST_LABEL,
                        "hint": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
                        "required": {"type": "boolean", "default": True},
                    },
                    "additionalProperties": False,
                },
            ]
        },
    }
)
class ChecklistInputField(serializers.ListField):
    """What to send, item by item."""

    child = ChecklistItemInputField()


class EvidenceRequestSerializer(ApiModelSerializer):
    """What was asked of whom, by when, and the upload link to give them."""

    checklist = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField()
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = EvidenceRequest
        fields: tuple[str, ...] = (
            "id",
            "audience",
            "checklist",
            "message",
            "due_at",
            "created_at",
            "revoked_at",
            "fulfilled_at",
            "is_active",
            "url",
            "expires_at",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(ChecklistItemSerializer(many=True))
    def get_checklist(self, evidence_request: EvidenceRequest) -> list[dict[str, Any]]:
        return list(evidence_request.checklist or [])

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, evidence_request: EvidenceRequest) -> str | None:
        """The absolute link of the upload form (null once revoked)."""
        if evidence_request.revoked_at is not None:
            return None
        from intake.links import upload_url

        return _absolute(self.context, upload_url(evidence_request))

    @extend_schema_field(serializers.DateTimeField())
    def get_expires_at(self, evidence_request: EvidenceRequest) -> str:
        from intake.links import link_expires_at

        return serializers.DateTimeField().to_representation(link_expires_at(evidence_request))


class RefundRequestSerializer(ApiModelSerializer):
    decided_by = serializers.CharField(source="decided_by_name", read_only=True)

    class Meta:
        model = RefundRequest
        fields: tuple[str, ...] = (
            "id",
            "external_id",
            "amount",
            "currency",
            "requested_at",
            "decision",
            "approved_amount",
            "decided_at",
            "decided_by",
            "rejection_reason",
            "rejection_note",
            "overturned_at",
        )
        read_only_fields: tuple[str, ...] = fields


class EventActorSerializer(serializers.Serializer):
    type = serializers.CharField(source="actor_type")
    name = serializers.CharField(
        source="actor_name", help_text="As recorded (a staff user's or API client's name)."
    )
    role = serializers.CharField(
        source="actor_role",
        help_text="For an upload link: who it was sent to (customer, supplier, carrier...).",
    )
    display = serializers.SerializerMethodField(
        help_text="Who acted, in the language of the request (Accept-Language)."
    )

    def get_display(self, event: CaseEvent) -> str:
        return render_actor(event)

    ref = serializers.CharField(
        source="actor_ref",
        help_text="The API client's id, or the evidence request's id for an upload link; "
        "empty for staff users (see name) and the system.",
    )


class CaseEventSerializer(ApiModelSerializer):
    """One line of the case's history (append-only): its type and parameters (``data``) for
    programs, and ``title``/``detail`` rendered in the request's language for people."""

    type = serializers.CharField(source="event_type")
    actor = EventActorSerializer(source="*")
    title = serializers.SerializerMethodField(help_text="What happened, in the request's language.")
    detail = serializers.SerializerMethodField(help_text="Its details, in the request's language.")

    class Meta:
        model = CaseEvent
        fields: tuple[str, ...] = (
            "id",
            "type",
            "title",
            "detail",
            "transition",
            "from_state",
            "to_state",
            "actor",
            "door",
            "occurred_at",
            "recorded_at",
            "note",
            "reason",
            "data",
        )
        read_only_fields: tuple[str, ...] = fields

    def _rendered(self, event: CaseEvent) -> RenderedEvent:
        # The serializer's context is the dict the view gave (the stubs say Mapping).
        cache: dict[int, RenderedEvent] = cast(dict, self.context).setdefault("rendered_events", {})
        if event.pk not in cache:
            cache[event.pk] = render_event(event, self.context.get("render_context"))
        return cache[event.pk]

    def get_title(self, event: CaseEvent) -> str:
        return self._rendered(event).title

    def get_detail(self, event: CaseEvent) -> str:
        return self._rendered(event).detail


# -- the case -----------------------------------------------------------------------------------


class CaseSerializer(ApiModelSerializer):
    """A case as listed: state, version and deadlines, no history (see the case's own URL)."""

    url = serializers.SerializerMethodField()
    marketplace = MarketplaceCodeField(read_only=True)
    order = serializers.CharField(source="order.external_id", read_only=True)
    assignee = serializers.CharField(
        source="assignee.username", read_only=True, default=None, allow_null=True
    )
    priority = ChoiceNameField(choices_enum=Priority, read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "reference",
            "url",
            "marketplace",
            "order",
            "kind",
            "state",
            "version",
            "priority",
            "assignee",
            "external_id",
            "external_claim_id",
            "opened_at",
            "escalated",
            "escalated_at",
            "confirmed_at",
            "resolved_at",
            "closed_at",
            "resolution_outcome",
            "resolution_met",
            "first_responded_at",
            "response_due_at",
            "evidence_due_at",
            "resolution_due_at",
            "supplier_contact_due_at",
            "supplier_switch_due_at",
            "review_due_at",
            "refund_decision_due_at",
            "next_due_at",
            "overdue",
            "created_at",
            "updated_at",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, case: Case) -> str:
        return _absolute(self.context, reverse("api:case-detail", args=[case.reference]))

    def to_representation(self, instance: Case) -> dict[str, Any]:
        if type(self) is not CaseSerializer:  # the detail: nested parts, DRF's own way
            return super().to_representation(instance)
        writer = self.context.get("_case_row")
        if writer is None:
            self._now()  # judged once for the whole page
            writer = cast(dict, self.context)["_case_row"] = CaseRowWriter(self.context)
        return writer.row(instance)

    def _now(self) -> dt.datetime:
        now: dt.datetime | None = self.context.get("now")
        if now is None:
            now = cast(dict, self.context)["now"] = timezone.now()
        return now

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, case: Case) -> bool:
        """A running deadline has passed."""
        return case.next_due_at is not None and case.next_due_at < self._now()


class CaseDetailSerializer(CaseSerializer):
    """Everything about a case: what the client may do now, deadlines, evidence, refunds and
    the whole history."""

    order = OrderSerializer(read_only=True)  # type: ignore[assignment]  # the whole order here
    description = serializers.CharField(read_only=True)
    available_transitions = serializers.SerializerMethodField()
    deadlines = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    evidence_requests = EvidenceRequestSerializer(many=True, read_only=True)
    refund_requests = RefundRequestSerializer(many=True, read_only=True)
    history = CaseEventSerializer(source="events", many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields: tuple[str, ...] = (
            *CaseSerializer.Meta.fields,
            "description",
            "available_transitions",
            "deadlines",
            "evidence",
            "evidence_requests",
            "refund_requests",
            "history",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(TransitionOptionSerializer(many=True))
    def get_available_transitions(self, case: Case) -> list[dict[str, Any]]:
        """What this client may call now, and the state each leads to."""
        options = case_available_transitions(case, self.context["actor"], at=self._now())
        many = _kept("transition_options", lambda: TransitionOptionSerializer(many=True))
        written: list[dict[str, Any]] = _written(many, options, {})
        return written

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, case: Case) -> list[dict[str, Any]]:
        many = _kept("deadlines", lambda: DeadlineSerializer(many=True))
        written: list[dict[str, Any]] = _written(many, case_deadlines(case, at=self._now()), {})
        return written

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, case: Case) -> list[dict[str, Any]]:
        many = _kept("evidence", lambda: EvidenceSerializer(many=True))
        written: list[dict[str, Any]] = _written(
            many, case.evidence.all(), {**self.context, "case": case}
        )
        return written


# Serializers kept per thread (gunicorn may run threads) and language, built once each.
_KEPT = threading.local()
_Kept = TypeVar("_Kept", bound=serializers.BaseSerializer)


def _kept(name: str, build: Callable[[], _Kept]) -> _Kept:
    """The serializer ``name`` of this thread and language, built by ``build`` on first use.

    DRF builds and binds a new tree of fields for every serializer it is given: for a case
    detail (the case, its order, evidence, requests, refunds, history, deadlines and the
    transitions it offers: 74 field templates copied and bound) that was a fifth of a detail
    request. The fields keep nothing of what they wrote: each value is read from the instance
    and the root's context, which ``_written`` sets for one call only."""
    trees: dict[tuple[str, str | None], Any] = _KEPT.__dict__.setdefault("trees", {})
    key = (name, get_language())
    found = trees.get(key)
    if found is None:
        found = build()
        target = found.child if isinstance(found, serializers.ListSerializer) else found
        cast(serializers.Serializer, target).fields  # noqa: B018 (built and bound here, once)
        trees[key] = found
    return cast(_Kept, found)


def _written(serializer: serializers.BaseSerializer, instance: Any, context: dict[str, Any]) -> Any:
    serializer._context = context
    try:
        return serializer.to_representation(instance)
    finally:
        serializer._context = {}


def case_detail_data(case: Case, context: dict[str, Any]) -> dict[str, Any]:
    """``CaseDetailSerializer(case, context=context).data``, written by a kept serializer."""
    detail = _kept("case_detail", lambda: CaseDetailSerializer(context={}))
    data: dict[str, Any] = _written(detail, case, context)
    return data


# -- writing ------------------------------------------------------------------------------------


class RefundRequestInputSerializer(InputSerializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, coerce_to_string=True
    )
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. CNY.")
    requested_at = AwareDateTimeField(required=False, help_text="Default: now.")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The marketplace's id."
    )


class CaseCreateSerializer(InputSerializer):
    marketplace = MarketplaceCodeField()
    order = serializers.CharField(
        max_length=100, help_text="The order's external id (import it first with /orders/)."
    )
    kind = ApiChoiceField(choices=CaseKind.choices)
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Your id for the case: sending it again returns the existing case (200).",
    )
    external_claim_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    opened_at = AwareDateTimeField(
        required=False, help_text="When it was opened on the marketplace (default now)."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    priority = ChoiceNameField(choices_enum=Priority, required=False, help_text="Default: normal.")
    refund_request = RefundRequestInputSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        marketplace = attrs["marketplace"]
        order = Order.objects.filter(marketplace=marketplace, external_id=attrs["order"]).first()
        if order is None:
            raise serializers.ValidationError(
                {
                    "order": [
                        serializers.ErrorDetail(
                            str(
                                _(
                                    "There is no order %(order)s on %(marketplace)s: import it "
                                    "first with POST /api/v1/orders/."
                                )
                            )
                            % {"order": attrs["order"][:100], "marketplace": marketplace.code},
                            code="does_not_exist",
                        )
                    ]
                }
            )
        attrs["order"] = order
        return attrs


class CaseUpdateSerializer(InputSerializer):
    priority = ChoiceNameField(choices_enum=Priority, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    external_claim_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Refuse (409) if the case changed since."
    )


class TransitionInputSerializer(InputSerializer):
    transition = serializers.CharField(
        max_length=64, help_text="A name from available_transitions."
    )
    occurred_at = AwareDateTimeField(
        required=False,
        help_text="When it happened on the marketplace (default now); never in the future, "
        "never before the case's last change.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=20000, help_text="Needed by reject, withdraw."
    )
    reason_code = ApiChoiceField(
        choices=RefundRejectionReason.choices,
        required=False,
        allow_blank=True,
        help_text="For reject: the refund-rejection reason recorded on open refund requests.",
    )
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The case version you acted on: 409 if the case changed since (or If-Match).",
    )


class EvidenceUploadSerializer(InputSerializer):
    # Empty files are the service's to refuse, in the same words as at every other door.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="A photo (JPEG, PNG, WebP, HEIC) or a video (MP4, MOV, WebM).",
    )
    source = ApiChoiceField(  # type: ignore[assignment]  # a field named like a Field attribute
        choices=[EvidenceSource.API, EvidenceSource.CUSTOMER, EvidenceSource.PARTNER],
        default=EvidenceSource.API,
        help_text="Who made the file: api (default), customer or partner.",
    )
    checklist_item = serializers.CharField(required=False, allow_blank=True, max_length=64)
    evidence_request = serializers.IntegerField(
        required=False, help_text="The evidence request this file answers (its id)."
    )
    uploaded_at = AwareDateTimeField(
        required=False, help_text="When it was sent on the marketplace (imported history)."
    )


class EvidenceRequestInputSerializer(InputSerializer):
    audience = ApiChoiceField(choices=Audience.choices, default=Audience.CUSTOMER)
    checklist = ChecklistInputField(
        required=False, help_text="Default: the checklist of the case's kind."
    )
    message = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    due_at = AwareDateTimeField(
        required=False, help_text="Default: the marketplace's evidence wait in business days."
    )


class RefundDecisionInputSerializer(InputSerializer):
    refund_request = serializers.IntegerField(help_text="The refund request's id.")
    decision = ApiChoiceField(choices=RefundDecision.choices)
    approved_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="For partially_approved."
    )
    reason_code = ApiChoiceField(
        choices=RefundRejectionReason.choices,
        required=False,
        allow_blank=True,
        help_text="Required for rejected.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    decided_at = AwareDateTimeField(required=False, help_text="Default: now.")
    expected_version = serializers.IntegerField(required=False, min_value=1)


class RefundDecisionResultSerializer(serializers.Serializer):
    refund_request = RefundRequestSerializer()
    case = CaseSerializer()


# A reference that matches the URL pattern, replaced by each row's own (references are made of
# URL-safe characters, so the URL of a case is this prefix, its reference and this suffix).
_REFERENCE_SLOT = "REF0SLOT"
_LIST_SERIALIZER = CaseSerializer()
_LIST_FIELDS = tuple(_LIST_SERIALIZER.fields)
_LIST_PRIORITY = _LIST_SERIALIZER.fields["priority"].to_representation
# The list's times, as DRF writes them (ISO 8601 in the current time zone, "Z" for UTC).
_CASE_TIMES = frozenset(
    name
    for name, field in _LIST_SERIALIZER.fields.items()
    if isinstance(field, serializers.DateTimeField)
)


# The list row's fields written as the database gives them, and its times (``values_row``).
_LIST_COMPUTED = frozenset({"url", "marketplace", "order", "assignee", "priority", "overdue"})
_LIST_TIMES = tuple(name for name in _LIST_FIELDS if name in _CASE_TIMES)
_LIST_PLAIN = tuple(
    name for name in _LIST_FIELDS if name not in _CASE_TIMES and name not in _LIST_COMPUTED
)
_LIST_TIME_VALUES = operator.itemgetter(*_LIST_TIMES)
_LIST_PLAIN_VALUES = operator.itemgetter(*_LIST_PLAIN)


# The columns a list row needs (``CaseRowWriter``): the case's own fields, its order's external id
# and its assignee's user name. Loading only these, not the order's 30 columns and the user's 11,
# halves what the database sends and what the ORM converts per page.
CASE_LIST_COLUMNS = (
    *(
        name
        for name in CaseSerializer.Meta.fields
        if name not in {"url", "marketplace", "order", "assignee", "overdue"}
    ),
    "marketplace_id",
    "order__external_id",
    "assignee__username",
)


class CaseRowWriter:
    """A case list row, written as ``CaseSerializer``'s fields would write it, without DRF's
    per-field machinery: at 50 rows of 31 fields that machinery (a time-zone look-up for every
    time, a ``reverse()`` for every URL) costs more than the query. What DRF's fields do once
    per value is done here once per request: the time zone, the URL prefix, the marketplace
    codes, the moment "overdue" is judged at. ``tests/api/test_case_rows.py`` holds the two
    ways equal."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.tz = timezone.get_current_timezone()
        self.utc = str(self.tz) == "UTC"  # the API's zone: a UTC time is written as read
        url = _absolute(context, reverse("api:case-detail", args=[_REFERENCE_SLOT]))
        self.url_head, _, self.url_tail = url.partition(_REFERENCE_SLOT)
        self.codes: dict[int, str] = context.get("marketplace_codes", {})
        now = context.get("now")
        self.now: dt.datetime = now if now is not None else timezone.now()
        # The fields' names and the priority's names, from one serializer built at import: a
        # serializer per request would deep-copy its 31 fields for these.
        self.priority = _LIST_PRIORITY
        self.fields = _LIST_FIELDS

    def time(self, value: dt.datetime | None) -> str | None:
        if not value:
            return None
        if value.tzinfo is dt.UTC and self.utc:  # as the database gives it: no conversion
            return value.isoformat()[:-6] + "Z"
        text = value.astimezone(self.tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def values_row(self, values: dict[str, Any]) -> dict[str, Any]:
        """The row of one ``Case.objects.values(*CASE_LIST_COLUMNS)`` dict: the list reads its
        page this way, without building 150 model instances (case, order, assignee) a page.

        The dict is laid out once in the fields' order (``fromkeys``), then filled by column
        kind: plain values as they are, times through ``time``, then the computed fields."""
        code = self.codes.get(values["marketplace_id"])
        if code is None:  # not one of the client's: cannot be listed, but say what it is
            code = Marketplace.objects.get(pk=values["marketplace_id"]).code
        next_due = values["next_due_at"]
        row = dict.fromkeys(self.fields)
        row.update(zip(_LIST_PLAIN, _LIST_PLAIN_VALUES(values), strict=True))
        row.update(zip(_LIST_TIMES, map(self.time, _LIST_TIME_VALUES(values)), strict=True))
        row["url"] = f"{self.url_head}{values['reference']}{self.url_tail}"
        row["marketplace"] = code
        row["order"] = values["order__external_id"]
        row["assignee"] = values["assignee__username"]
        row["priority"] = self.priority(values["priority"])
        row["overdue"] = next_due is not None and next_due < self.now
        return row

    def row(self, case: Case) -> dict[str, Any]:
        code = self.codes.get(case.marketplace_id)
        assignee = case.assignee
        special = {
            "url": f"{self.url_head}{case.reference}{self.url_tail}",
            "marketplace": code if code is not None else case.marketplace.code,
            "order": case.order.external_id,
            "assignee": assignee.username if assignee is not None else None,
            "priority": self.priority(case.priority),
            "overdue": case.next_due_at is not None and case.next_due_at < self.now,
        }
        time = self.time
        return {
            name: special[name]
            if name in special
            else time(getattr(case, name))
            if name in _CASE_TIMES
            else getattr(case, name)
            for name in self.fields
        }
