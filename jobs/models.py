"""What the background jobs remember so that each of them is idempotent.

* ``DeadlineAlert``: one row per (case, clock, level, due time) the deadline sweep has seen at
  risk or overdue; a unique constraint makes a re-run (or two overlapping runs) harmless.
* ``LateShipmentNotice``: one row per (case, step) of the late-shipment escalation (contact the
  supplier at 2 days late, switch at 4).
* ``ClearanceReminder``: one row per transition event that asked for a customs clearance
  reminder: one e-mail per event.
* ``ClearanceReminderTemplate``: the text of that e-mail, per language, edited by staff.
* ``NoticeClaim``: a run sending notices now, who it is and until when its claims hold
  (``jobs.notify``): claims of a run that died are released as soon as that is known.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.template import Context, Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from cases.models import CUSTOMER_LANGUAGES, Case, CaseEvent
from marketplaces.models import Marketplace


class Clock(models.TextChoices):
    """The deadlines of a case (``cases.services.active_deadlines`` names)."""

    RESPONSE = "response", _("First response")
    EVIDENCE = "evidence", _("Evidence")
    RESOLUTION = "resolution", _("Resolution")
    SUPPLIER_CONTACT = "supplier_contact", _("Contact the supplier")
    SUPPLIER_SWITCH = "supplier_switch", _("Switch supplier")
    # Decision clocks: evidence under review, a refund awaiting the seller's decision.
    EVIDENCE_REVIEW = "evidence_review", _("Evidence review")
    REFUND_DECISION = "refund_decision", _("Refund decision")


class AlertLevel(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    OVERDUE = "overdue", _("Overdue")


class DeadlineAlert(models.Model):
    """A running clock of a case seen at risk or overdue by the deadline sweep."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadline_alerts")
    clock = models.CharField(_("deadline"), max_length=20, choices=Clock.choices)
    level = models.CharField(_("level"), max_length=10, choices=AlertLevel.choices)
    due_at = models.DateTimeField(_("due at"))
    detected_at = models.DateTimeField(_("detected at"))
    event = models.OneToOneField(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set when the notification is claimed, just before it is sent (at most one e-mail).
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_to = models.TextField(_("notified"), blank=True)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "clock", "level", "due_at"], name="deadline_alert_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["detected_at"],
                condition=Q(notified_at__isnull=True),
                name="deadline_alert_unnotified",
            ),
            # Claims left by a crashed run, found and released by the next one.
            models.Index(
                fields=["notified_at"],
                condition=Q(notified_to__startswith="claimed:"),
                name="deadline_alert_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_clock_display()} {self.get_level_display()}"


class EscalationStep(models.TextChoices):
    CONTACT_SUPPLIER = "contact_supplier", _("Contact the supplier (2 days late)")
    SWITCH_SUPPLIER = "switch_supplier", _("Switch supplier (4 days late)")


class LateShipmentNotice(models.Model):
    """The assignee (or the team) was told to contact or switch the supplier of a late order."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="late_notices")
    step = models.CharField(_("step"), max_length=20, choices=EscalationStep.choices)
    due_at = models.DateTimeField(_("from"))
    detected_at = models.DateTimeField(_("detected at"))
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_to = models.TextField(_("notified"), blank=True)

    class Meta:
        verbose_name = _("late-shipment notice")
        verbose_name_plural = _("late-shipment notices")
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="late_notice_once_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_step_display()}"


# What a template may use, with an example for the admin's help text and the validation.
TEMPLATE_PLACEHOLDERS = {
    "customer_name": "Li Wei",
    "order_id": "TM-100234",
    "case_reference": "AS-2026-000123",
    "marketplace": "Tmall Global",
    "carrier": "SF Express",
    "tracking_number": "SF1234567890",
    "destination_country": "CN",
}


class ClearanceReminderTemplate(models.Model):
    """The customs clearance reminder e-mail, in one language (for one marketplace, or all)."""

    language = models.CharField(_("language"), max_length=10, choices=CUSTOMER_LANGUAGES)
    marketplace = models.ForeignKey(
        Marketplace,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text=_("Empty: used for every marketplace without its own template."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Plain text. Placeholders: {{ customer_name }}, {{ order_id }}, "
            "{{ case_reference }}, {{ marketplace }}, {{ carrier }}, {{ tracking_number }}, "
            "{{ destination_country }}."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("clearance reminder template")
        verbose_name_plural = _("clearance reminder templates")
        ordering = ["marketplace", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["language"],
                condition=Q(marketplace__isnull=True),
                name="clearance_template_one_default_per_language",
            ),
            models.UniqueConstraint(
                fields=["language", "marketplace"], name="clearance_template_one_per_marketplace"
            ),
        ]

    def __str__(self) -> str:
        where = self.marketplace.name if self.marketplace is not None else _("all marketplaces")
        return f"{self.get_language_display()} ({where})"

    def clean(self) -> None:
        errors = {}
        for name in ("subject", "body"):
            try:
                Template(getattr(self, name)).render(Context(TEMPLATE_PLACEHOLDERS))
            except TemplateSyntaxError as exc:
                errors[name] = _("This text cannot be filled in: %(error)s") % {"error": exc}
        if errors:
            raise ValidationError(errors)


class ReminderStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    NO_ADDRESS = "no_address", _("No customer e-mail address")


class ClearanceReminder(models.Model):
    """The clearance reminder sent for one ``send_clearance_reminder`` transition."""

    event = models.OneToOneField(
        CaseEvent, on_delete=models.PROTECT, related_name="clearance_reminder"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clearance_reminders")
    language = models.CharField(_("language"), max_length=10, choices=CUSTOMER_LANGUAGES)
    recipient = models.EmailField(_("sent to"), blank=True)
    template = models.ForeignKey(
        ClearanceReminderTemplate, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=ReminderStatus.choices)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("clearance reminder")
        verbose_name_plural = _("clearance reminders")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.recipient or '-'} ({self.get_status_display()})"


class NoticeClaim(models.Model):
    """A run of ``jobs.notify.send_claimed`` at work: the notices it claimed carry ``token``.

    The run renews ``lease_until`` before each e-mail and deletes the row when it ends (even
    on an error). A row whose lease has passed, or whose process is gone from this machine, is
    a run that died: the next run releases its claims and sends them."""

    token = models.CharField(max_length=64, unique=True)
    worker = models.CharField(_("worker"), max_length=200, help_text=_("host:process id"))
    started_at = models.DateTimeField(_("started at"))
    lease_until = models.DateTimeField(_("lease until"), db_index=True)

    class Meta:
        verbose_name = _("notice claim")
        verbose_name_plural = _("notice claims")
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.worker} until {self.lease_until:%H:%M:%S}"
