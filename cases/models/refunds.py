"""The refund ledger and return requests: what customers asked for and what the seller decided."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from marketplaces.models import Marketplace

from ..choices import RefundDecision, RefundRejectionReason, ReturnDecision
from .cases import Case
from .orders import Order


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
    customer_reason = models.CharField(_("the customer's reason"), max_length=255, blank=True)
    # When the answer is due (Amazon: 48 h, weekends included); empty where no clock runs.
    response_due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decision = models.CharField(
        _("decision"), max_length=32, choices=ReturnDecision.choices, blank=True
    )
    rejection_reason = models.TextField(_("why it was rejected"), blank=True)
    answered_by_name = models.CharField(_("answered by"), max_length=150, blank=True)
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
            # The work list: unanswered requests, most urgent first.
            models.Index(
                fields=["response_due_at", "requested_at"],
                condition=Q(decision=""),
                name="return_unanswered_due",
            ),
            models.Index(fields=["response_due_at"], name="return_response_due"),
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
