"""Cases: one after-sales problem on one order, worked through its kind's workflow.

Nothing here saves a case by itself: every change goes through the kernel (``cases.kernel``). The
``state`` field is protected; only the transition methods generated from the workflow table
(``cases.workflows``) change it, and only the kernel calls them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from marketplaces.models import Marketplace

from .. import workflows
from ..choices import (
    CLAIM_KINDS,
    CLOSED_STATES,
    TERMINAL_STATES,
    CaseKind,
    CaseState,
    Priority,
    ResolutionOutcome,
    ReviewStatus,
)
from .orders import Order

# One django-fsm transition method per entry of the workflow table.
WorkflowTransitions = type("WorkflowTransitions", (), workflows.fsm_transition_methods())


class CaseQuerySet(models.QuerySet):
    def open(self) -> CaseQuerySet:
        """Cases still worked (the same condition as ``selectors.open_cases_q``)."""
        return self.exclude(state__in=CLOSED_STATES)

    def for_list(self) -> CaseQuerySet:
        return self.select_related("marketplace", "order", "assignee")

    def overdue(self, at: dt.datetime) -> CaseQuerySet:
        return self.filter(next_due_at__lt=at)


class Case(WorkflowTransitions, ConcurrentTransitionMixin, models.Model):  # type: ignore[valid-type,misc]
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
    # When the oldest refund request still awaiting the seller's decision was made (kept by the
    # refund services; the refund-decision clock runs from it).
    refund_awaiting_since = models.DateTimeField(
        _("refund decision awaited since"), null=True, blank=True, editable=False
    )

    # Deadlines, stored so that lists can filter and sort on them.
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    evidence_due_at = models.DateTimeField(_("evidence due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    supplier_contact_due_at = models.DateTimeField(
        _("contact supplier from"), null=True, blank=True
    )
    supplier_switch_due_at = models.DateTimeField(_("switch supplier from"), null=True, blank=True)
    review_due_at = models.DateTimeField(_("evidence review due"), null=True, blank=True)
    refund_decision_due_at = models.DateTimeField(_("refund decision due"), null=True, blank=True)
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
            models.Index(fields=["marketplace", "escalated_at"], name="case_mkt_escalated"),
            models.Index(fields=["state", "next_due_at"], name="case_state_due"),
            models.Index(fields=["kind", "next_due_at"], name="case_kind_due"),
            models.Index(fields=["assignee", "next_due_at"], name="case_assignee_due"),
            models.Index(fields=["resolution_due_at"], name="case_resolution_due"),
            models.Index(fields=["evidence_due_at"], name="case_evidence_due"),
            models.Index(fields=["response_due_at"], name="case_response_due"),
            models.Index(fields=["review_due_at"], name="case_review_due"),
            models.Index(fields=["refund_decision_due_at"], name="case_refund_decision_due"),
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
            # The lists' combined filters, each read in its order from one index with the id as
            # the keyset tie-break (issue 11: without them PostgreSQL reads 800,000 rows in
            # deadline order at 1,000,000 cases to find 50 of one marketplace and state).
            # API: a marketplace and a state by resolution deadline; one state across the
            # client's marketplaces; a marketplace by next deadline (API and admin default).
            models.Index(
                fields=["marketplace", "state", "resolution_due_at", "id"],
                name="case_mkt_state_resolution",
            ),
            models.Index(fields=["state", "resolution_due_at", "id"], name="case_state_resolution"),
            models.Index(
                fields=["marketplace", "next_due_at", "opened_at", "id"], name="case_mkt_due"
            ),
            # Newest first (the API default) with the keyset tie-break.
            models.Index(fields=["marketplace", "opened_at", "id"], name="case_mkt_opened_id"),
            # The dashboard's cases opened per week and kind, from the index alone
            # (PostgreSQL; elsewhere the kind is not included).
            models.Index(
                fields=["marketplace", "opened_at"], include=["kind"], name="case_mkt_opened_kind"
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
        # A case read with its evidence (the API's detail lists what the client may do next)
        # answers from the rows it holds rather than asking the database again.
        loaded = getattr(self, "_prefetched_objects_cache", {}).get("evidence")
        if loaded is not None:
            return any(item.review_status != ReviewStatus.REJECTED for item in loaded)
        return self.evidence.exclude(review_status=ReviewStatus.REJECTED).exists()

    def is_late_by(self, days: int, *, at: dt.datetime) -> bool:
        """The order, still unshipped at ``at``, is at least ``days`` days late then."""
        late_since = self.order.late_since(days)
        if late_since is None or self.order.shipped_at is not None:
            return False
        return at >= late_since


class CaseReferenceSequence(models.Model):
    """The last reference number given out in a year (``AS-2026-000123``)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"
