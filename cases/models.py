"""Orders, cases, evidence, refunds and the audit trail.

Writes go through ``cases.services``; nothing here saves a case by itself. The ``state`` field is
protected: only the transition methods below change it, and only the service calls them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from marketplaces.models import Marketplace

from . import workflows
from .choices import (
    CLAIM_KINDS,
    TERMINAL_STATES,
    ActorType,
    Audience,
    CancellationReason,
    CaseKind,
    CaseState,
    ClaimOutcome,
    Door,
    EventType,
    EvidenceSource,
    FulfilmentChannel,
    MediaType,
    OrderCanceller,
    Priority,
    RefundDecision,
    RefundRejectionReason,
    ResolutionOutcome,
    ReturnDecision,
    ReviewStatus,
    ShippingScope,
)

CUSTOMER_LANGUAGES = [("en", "English"), ("fr", "Français"), ("zh-hans", "简体中文")]
LATE_CONTACT_DAYS = 2  # docs/domain.md §2: contact the supplier at 2 days late
LATE_SWITCH_DAYS = 4  # ... and switch supplier at 4 days late


class EvidenceStorage(LazyObject):
    """The private storage of evidence files (``STORAGES["evidence"]``), never served by URL."""

    def _setup(self) -> None:
        self._wrapped = storages["evidence"]


evidence_storage = EvidenceStorage()


@receiver(setting_changed)
def _reset_evidence_storage(*, setting: str, **kwargs: Any) -> None:
    if setting in {"STORAGES", "MEDIA_ROOT"}:
        evidence_storage._wrapped = empty


def _evidence_storage() -> Any:
    return evidence_storage


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Random names: the customer's file name is kept only as data, never used on disk.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    now = timezone.now()
    return f"cases/{now:%Y/%m}/{uuid.uuid4().hex}.{suffix}"


# Dates an order or a query may name: wide enough for any real history and plan, narrow enough
# that deadline arithmetic never leaves the calendar (year 1 to 9999).
PLAUSIBLE_DATES = (dt.date(1970, 1, 1), dt.date(2100, 12, 31))


class Order(models.Model):
    """A marketplace order that one or more cases are about."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(_("order id on the marketplace"), max_length=100)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True)
    customer_email = models.EmailField(_("customer e-mail"), blank=True)
    customer_language = models.CharField(
        _("customer language"), max_length=10, choices=CUSTOMER_LANGUAGES, default="en"
    )
    placed_at = models.DateTimeField(_("placed at"))
    promised_ship_date = models.DateField(_("promised ship date"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up by the carrier at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    destination_country = models.CharField(_("destination country"), max_length=2, blank=True)
    shipping_scope = models.CharField(
        _("shipping scope"),
        max_length=16,
        choices=ShippingScope.choices,
        default=ShippingScope.DOMESTIC,
    )
    total = models.DecimalField(
        _("total"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    # What the marketplace scorecards read (Amazon account health, Faire, Tmall logistics).
    accepted_at = models.DateTimeField(
        _("accepted by the seller at"),
        null=True,
        blank=True,
        help_text=_("When the seller accepted the order (Faire); empty where orders need none."),
    )
    fulfilled_by = models.CharField(
        _("fulfilled by"),
        max_length=16,
        choices=FulfilmentChannel.choices,
        default=FulfilmentChannel.SELLER,
        help_text=_("Orders the marketplace ships itself are left out of shipping metrics."),
    )
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    tracking_valid = models.BooleanField(
        _("tracking valid"),
        null=True,
        blank=True,
        help_text=_(
            "The marketplace's verdict on the tracking number; when empty, a tracking number "
            "with a carrier scan (picked up) counts as valid."
        ),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(
        _("cancelled by"), max_length=16, choices=OrderCanceller.choices, blank=True
    )
    cancellation_reason = models.CharField(
        _("cancellation reason"), max_length=32, choices=CancellationReason.choices, blank=True
    )
    cancellation_controllable = models.BooleanField(
        _("cancellation controllable by the seller"),
        null=True,
        blank=True,
        help_text=_(
            "Leave empty to decide from the reason: wrong price, out of stock, lead time and "
            "expiry always count; too small an order, a destination not served or another "
            "reason of the seller count once the order was accepted."
        ),
    )
    a_to_z_claim_at = models.DateTimeField(
        _("guarantee claim at"),
        null=True,
        blank=True,
        help_text=_("When the customer filed an A-to-z Guarantee (or similar) claim."),
    )
    a_to_z_claim_outcome = models.CharField(
        _("guarantee claim outcome"), max_length=20, choices=ClaimOutcome.choices, blank=True
    )
    chargeback_at = models.DateTimeField(_("chargeback at"), null=True, blank=True)
    negative_feedback_at = models.DateTimeField(
        _("negative feedback at"),
        null=True,
        blank=True,
        help_text=_("When the customer left negative seller feedback (1 or 2 stars)."),
    )
    parcel_lost = models.BooleanField(
        _("parcel lost or stolen"),
        default=False,
        help_text=_("The whole parcel was lost or stolen in transit."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="order_unique_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["marketplace", "placed_at"], name="order_mkt_placed"),
            models.Index(fields=["marketplace", "promised_ship_date"], name="order_mkt_promised"),
            models.Index(fields=["marketplace", "shipped_at"], name="order_mkt_shipped"),
            models.Index(fields=["marketplace", "delivered_at"], name="order_mkt_delivered"),
            # The admin's search (workspace.search): an order id or an e-mail pasted by an agent.
            # (On PostgreSQL a trigram index on the customer name is added by migration
            # 0005_workspace_indexes, outside the model state: it needs the pg_trgm extension.)
            models.Index(fields=["external_id"], name="order_external_id"),
            models.Index(Upper("customer_email"), name="order_email_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.marketplace.code}:{self.external_id}"

    @property
    def is_domestic(self) -> bool:
        return self.shipping_scope == ShippingScope.DOMESTIC

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        cancellation = (self.cancelled_by, self.cancellation_reason)
        if self.cancelled_at is None and any(cancellation):
            errors["cancelled_at"] = _("Give the time of the cancellation.")
        if self.cancelled_at is not None and self.placed_at and self.cancelled_at < self.placed_at:
            errors["cancelled_at"] = _("An order cannot be cancelled before it was placed.")
        if self.a_to_z_claim_outcome and self.a_to_z_claim_at is None:
            errors["a_to_z_claim_at"] = _("Give the time the claim was filed.")
        if self.shipped_at and self.placed_at and self.shipped_at < self.placed_at:
            errors["shipped_at"] = _("An order cannot ship before it was placed.")
        if self.promised_ship_date is not None and not (
            PLAUSIBLE_DATES[0] <= self.promised_ship_date <= PLAUSIBLE_DATES[1]
        ):
            # Deadlines are counted from it: a date near year 9999 would overflow.
            errors["promised_ship_date"] = _("Give a date between %(first)s and %(last)s.") % {
                "first": PLAUSIBLE_DATES[0],
                "last": PLAUSIBLE_DATES[1],
            }
        if errors:
            raise ValidationError(errors)

    def late_since(self, days: int) -> dt.datetime | None:
        """The moment the order becomes ``days`` calendar days late (marketplace's midnight)."""
        if self.promised_ship_date is None:
            return None
        day = self.promised_ship_date + dt.timedelta(days=days)
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.marketplace.tz).astimezone(dt.UTC)


# -- Conditions of the workflow -----------------------------------------------------------------
# Each condition has a ``refusal`` text the service shows when it does not hold. Conditions that
# depend on time read ``case.transition_at`` (the event's time), which the service sets with
# ``at_time``. (Their names differ from the Case methods they call: a class body would shadow them.)


def refusal(message: Any) -> Callable[[Callable[[Case], bool]], Callable[[Case], bool]]:
    def decorate(condition: Callable[[Case], bool]) -> Callable[[Case], bool]:
        condition.refusal = message  # type: ignore[attr-defined]
        return condition

    return decorate


def in_kind_graph(name: str) -> Callable[[Case], bool]:
    """The transition exists for this kind from the current state."""

    @refusal(_("This transition is not part of this kind's workflow from its current state."))
    def condition(case: Case) -> bool:
        return workflows.allows(case.kind, name, case.state)

    condition.__name__ = f"in_kind_graph_{name}"
    return condition


@refusal(_("At least one valid photo or video is needed before the claim can be reviewed."))
def evidence_received(case: Case) -> bool:
    return case.has_valid_evidence()


@refusal(
    _(
        "International orders cannot be intercepted: only domestic orders can be stopped in "
        "transit, and an international order cannot be refunded for a wrong address or a "
        "cancellation after shipment."
    )
)
def order_is_domestic(case: Case) -> bool:
    return case.order.is_domestic


@refusal(_("The supplier can be pushed only from 2 days after the promised ship date."))
def two_days_late(case: Case) -> bool:
    return case.is_late_by(LATE_CONTACT_DAYS)


@refusal(_("The supplier can be switched only from 4 days after the promised ship date."))
def four_days_late(case: Case) -> bool:
    return case.is_late_by(LATE_SWITCH_DAYS)


@contextlib.contextmanager
def at_time(case: Case, at: dt.datetime) -> Iterator[Case]:
    """Evaluate conditions of ``case`` as of ``at``."""
    previous = case.__dict__.get("transition_at")
    case.transition_at = at
    try:
        yield case
    finally:
        if previous is None:
            case.__dict__.pop("transition_at", None)
        else:
            case.transition_at = previous


def workflow_transition(
    name: str, conditions: tuple[Callable[[Case], bool], ...] = ()
) -> Callable[[Any], Any]:
    spec = workflows.TRANSITIONS[name]
    return transition(
        field="state",
        source=workflows.sources_of(name),
        target=spec.target,
        conditions=[in_kind_graph(name), *conditions],
        permission=spec.permission,
        custom={"label": spec.label, "requires_reason": spec.requires_reason},
    )


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        return self.exclude(state__in=TERMINAL_STATES)

    def for_list(self) -> CaseQuerySet:
        return self.select_related("marketplace", "order", "assignee")

    def overdue(self, at: dt.datetime) -> CaseQuerySet:
        return self.filter(next_due_at__lt=at)


class Case(ConcurrentTransitionMixin, models.Model):
    """One after-sales problem on one order, worked until it is resolved."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="cases")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    state = FSMField(
        _("state"), max_length=24, choices=CaseState.choices, default=CaseState.NEW, protected=True
    )
    opened_at = models.DateTimeField(_("opened at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    description = models.TextField(_("description"), blank=True)
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        null=True,
        blank=True,
        help_text=_("Identifier given by the integration that created the case."),
    )
    external_claim_id = models.CharField(
        _("marketplace claim id"), max_length=100, blank=True, db_index=True
    )
    resolution_outcome = models.CharField(
        _("resolution outcome"), max_length=32, choices=ResolutionOutcome.choices, blank=True
    )
    escalated = models.BooleanField(_("escalated to the platform"), default=False)

    # Moments the deadlines are computed from.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    evidence_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    last_transition_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Deadlines, stored so that lists can filter and sort on them.
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    evidence_due_at = models.DateTimeField(_("evidence due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    supplier_contact_due_at = models.DateTimeField(
        _("contact supplier from"), null=True, blank=True
    )
    supplier_switch_due_at = models.DateTimeField(_("switch supplier from"), null=True, blank=True)
    # The earliest deadline still running; empty when nothing is due.
    next_due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    resolution_met = models.BooleanField(_("resolved in time"), null=True, blank=True)

    # Incremented by every change through the service: a stale editor gets a clear conflict.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        permissions = [
            ("reject_claim", _("Can reject a claim")),
            ("withdraw_case", _("Can withdraw a case")),
            ("record_platform_ruling", _("Can record a platform ruling")),
            ("reject_refund", _("Can reject a refund request")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"],
                condition=Q(external_id__isnull=False),
                name="case_unique_external_id",
            ),
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=CaseState.values), name="case_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["next_due_at", "opened_at"], name="case_next_due"),
            models.Index(fields=["marketplace", "state"], name="case_mkt_state"),
            models.Index(fields=["marketplace", "opened_at"], name="case_mkt_opened"),
            models.Index(fields=["marketplace", "escalated_at"], name="case_mkt_escalated"),
            models.Index(fields=["state", "next_due_at"], name="case_state_due"),
            models.Index(fields=["kind", "next_due_at"], name="case_kind_due"),
            models.Index(fields=["assignee", "next_due_at"], name="case_assignee_due"),
            models.Index(fields=["resolution_due_at"], name="case_resolution_due"),
            models.Index(fields=["evidence_due_at"], name="case_evidence_due"),
            models.Index(fields=["response_due_at"], name="case_response_due"),
            models.Index(fields=["opened_at"], name="case_opened"),
            # The support dashboard (workspace.dashboard): open cases per marketplace by state
            # and deadline, and the cases resolved in a window (median time to resolution).
            models.Index(
                fields=["marketplace", "state", "next_due_at"],
                condition=~Q(state__in=["closed", "withdrawn"]),
                name="case_open_mkt_state_due",
            ),
            models.Index(fields=["marketplace", "resolved_at"], name="case_mkt_resolved"),
            # The case list filtered by marketplace and kind, most urgent first (SQLite cannot
            # combine two indexes: without it, it sorts every open case of the marketplace).
            models.Index(
                fields=["marketplace", "kind", "next_due_at", "opened_at"],
                name="case_mkt_kind_due",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    # -- reading ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state not in TERMINAL_STATES

    @property
    def is_claim(self) -> bool:
        return self.kind in CLAIM_KINDS

    def has_valid_evidence(self) -> bool:
        return self.evidence.exclude(review_status=ReviewStatus.REJECTED).exists()

    def is_late_by(self, days: int) -> bool:
        late_since = self.order.late_since(days)
        if late_since is None or self.order.shipped_at is not None:
            return False
        at = getattr(self, "transition_at", None) or timezone.now()
        return at >= late_since

    # -- transitions: they only change fields; ``cases.services.case_transition`` runs them ---

    @workflow_transition("request_refund")
    def request_refund(self) -> None:
        """Refund agreed: it is to be paid."""

    @workflow_transition("mark_refunded")
    def mark_refunded(self) -> None:
        """The refund was paid."""

    @workflow_transition("reroute")
    def reroute(self) -> None:
        """Re-ordered from another supplier."""

    @workflow_transition("mark_shipped")
    def mark_shipped(self) -> None:
        """The order left the warehouse."""

    @workflow_transition("contact_supplier", conditions=(two_days_late,))
    def contact_supplier(self) -> None:
        """Supplier asked to push the shipment."""

    @workflow_transition("switch_supplier", conditions=(four_days_late,))
    def switch_supplier(self) -> None:
        """Taken as a stock problem: another supplier ships."""

    @workflow_transition("supplier_unresponsive")
    def supplier_unresponsive(self) -> None:
        """The supplier does not answer: refund."""

    @workflow_transition("send_clearance_reminder")
    def send_clearance_reminder(self) -> None:
        """The customer was told how to clear the parcel."""

    @workflow_transition("mark_cleared")
    def mark_cleared(self) -> None:
        """Customs released the parcel."""

    @workflow_transition("mark_delivered")
    def mark_delivered(self) -> None:
        """The parcel reached the customer."""

    @workflow_transition("mark_returned")
    def mark_returned(self) -> None:
        """The parcel was returned or seized."""

    @workflow_transition("request_evidence")
    def request_evidence(self) -> None:
        """The customer is asked for photos or videos."""

    @workflow_transition("start_review", conditions=(evidence_received,))
    def start_review(self) -> None:
        """Evidence arrived and is being verified."""

    @workflow_transition("confirm")
    def confirm(self) -> None:
        """The claim is justified: reship or refund within the resolution deadline."""

    @workflow_transition("reject")
    def reject(self) -> None:
        """The claim is refused (a refund rejection)."""

    @workflow_transition("start_reship")
    def start_reship(self) -> None:
        """A replacement is being prepared."""

    @workflow_transition("mark_reshipped")
    def mark_reshipped(self) -> None:
        """The replacement left."""

    @workflow_transition("request_interception", conditions=(order_is_domestic,))
    def request_interception(self) -> None:
        """The carrier is asked to stop the parcel."""

    @workflow_transition("mark_intercepted")
    def mark_intercepted(self) -> None:
        """The parcel was stopped."""

    @workflow_transition("mark_interception_failed")
    def mark_interception_failed(self) -> None:
        """The parcel could not be stopped."""

    @workflow_transition("escalate")
    def escalate(self) -> None:
        """The customer asked the platform to step in."""

    @workflow_transition("platform_upholds")
    def platform_upholds(self) -> None:
        """The platform ruled for the seller."""

    @workflow_transition("platform_overturns")
    def platform_overturns(self) -> None:
        """The platform ruled the rejection wrongful."""

    @workflow_transition("platform_orders_refund")
    def platform_orders_refund(self) -> None:
        """The platform ruled for the customer."""

    @workflow_transition("withdraw")
    def withdraw(self) -> None:
        """Withdrawn by the customer, or a duplicate."""

    @workflow_transition("close")
    def close(self) -> None:
        """Nothing left to do."""


class CaseReferenceSequence(models.Model):
    """The last reference number given out in a year (``AS-2026-000123``)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


class EvidenceRequest(models.Model):
    """What is asked of whom, by when: the source of one upload link."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence_requests")
    audience = models.CharField(
        _("for"), max_length=16, choices=Audience.choices, default=Audience.CUSTOMER
    )
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    due_at = models.DateTimeField(_("due at"))
    # The secret part of the link; rotating it invalidates every link given out.
    token_nonce = models.CharField(max_length=32, default="", editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence request")
        verbose_name_plural = _("evidence requests")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.case.reference} / {self.get_audience_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.due_at >= timezone.now()


class Evidence(models.Model):
    """A photo or video that passed validation, stored without its metadata."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    request = models.ForeignKey(
        EvidenceRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="evidence"
    )
    checklist_item = models.CharField(_("checklist item"), max_length=64, blank=True)
    media_type = models.CharField(_("type"), max_length=8, choices=MediaType.choices)
    file = models.FileField(storage=_evidence_storage, upload_to=evidence_upload_to, max_length=200)
    thumbnail = models.FileField(
        storage=_evidence_storage, upload_to=evidence_upload_to, max_length=200, blank=True
    )
    original_name = models.CharField(_("original file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the original"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("original size"))
    stored_size_bytes = models.PositiveBigIntegerField(_("stored size"))
    content_type = models.CharField(_("content type"), max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=32, blank=True)
    container = models.CharField(max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=EvidenceSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    review_status = models.CharField(
        _("review"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sha256"], name="evidence_unique_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.get_media_type_display()} {self.original_name}"


class RefundRequest(models.Model):
    """A customer's request for money back, and the seller's decision on it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="refund_requests")
    # Copied from the case so that rate metrics filter without a join.
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(_("currency"), max_length=3)
    requested_at = models.DateTimeField(_("requested at"))
    decision = models.CharField(
        _("decision"), max_length=20, choices=RefundDecision.choices, blank=True
    )
    approved_amount = models.DecimalField(
        _("approved amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by_name = models.CharField(_("decided by"), max_length=150, blank=True)
    rejection_reason = models.CharField(
        _("rejection reason"), max_length=32, choices=RefundRejectionReason.choices, blank=True
    )
    rejection_note = models.TextField(_("rejection note"), blank=True)
    # The platform later ruled the seller's rejection wrongful.
    overturned_at = models.DateTimeField(_("overturned at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("refund request")
        verbose_name_plural = _("refund requests")
        ordering = ["requested_at", "pk"]
        indexes = [
            models.Index(fields=["marketplace", "decided_at"], name="refund_mkt_decided"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(decision=RefundDecision.REJECTED) | ~Q(rejection_reason=""),
                name="refund_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decided_at__isnull=False),
                name="refund_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.get_decision_display() or _('undecided')})"

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)


class ReturnRequest(models.Model):
    """A customer's request to return an order, and how fast and how well the seller answered.

    Amazon's Return Dissatisfaction Rate counts valid requests not answered within 48 hours,
    wrongly rejected, or given negative feedback.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    # Copied from the order so that rate metrics filter without a join.
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="return_requests"
    )
    external_id = models.CharField(_("return id on the marketplace"), max_length=100)
    requested_at = models.DateTimeField(_("requested at"))
    is_valid = models.BooleanField(
        _("valid request"),
        default=True,
        help_text=_("Requests the marketplace voids (cancelled by the customer...) do not count."),
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decision = models.CharField(
        _("decision"), max_length=32, choices=ReturnDecision.choices, blank=True
    )
    # The marketplace found the rejection wrong (Amazon: "incorrectly rejected").
    rejection_overturned_at = models.DateTimeField(
        _("rejection overturned at"), null=True, blank=True
    )
    negative_feedback_at = models.DateTimeField(
        _("negative return feedback at"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        ordering = ["-requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="return_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(responded_at__isnull=False),
                name="return_decision_has_answer_time",
            ),
        ]
        indexes = [
            models.Index(fields=["marketplace", "requested_at"], name="return_mkt_requested"),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.get_decision_display() or _('unanswered')})"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.responded_at and self.requested_at and self.responded_at < self.requested_at:
            errors["responded_at"] = _("A return request cannot be answered before it was made.")
        if self.decision and self.responded_at is None:
            errors["responded_at"] = _("Give the time of the answer.")
        if self.rejection_overturned_at and self.decision != ReturnDecision.REJECTED:
            errors["rejection_overturned_at"] = _("Only a rejected return can be overturned.")
        if errors:
            raise ValidationError(errors)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit records cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit records cannot be deleted.")


class CaseEvent(models.Model):
    """One line of a case's history: who did what, when. Written once, never changed."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(_("event"), max_length=32, choices=EventType.choices)
    transition = models.CharField(_("transition"), max_length=32, blank=True)
    from_state = models.CharField(_("from"), max_length=24, blank=True)
    to_state = models.CharField(_("to"), max_length=24, blank=True)
    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The API client or evidence request id when the actor is not a staff user.
    actor_ref = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(_("actor"), max_length=150)
    door = models.CharField(_("door"), max_length=16, choices=Door.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="event_case_time")]

    def __str__(self) -> str:
        if self.event_type == EventType.TRANSITION:
            return f"{self.case_id}: {self.from_state} -> {self.to_state}"
        return f"{self.case_id}: {self.get_event_type_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit records cannot be deleted.")
