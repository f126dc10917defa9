"""Requests about a customer's personal data that were carried out (``cases.personal_data``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplaces.models import Marketplace

from ..choices import ActorType, Door


class PersonalDataErasure(models.Model):
    """One erasure of a customer's personal data: who asked, when, how much was erased. Holds
    none of the data itself; ``subject_hash`` (a keyed hash of the e-mail or order id) lets a
    repeated request be recognised without keeping what was erased."""

    at = models.DateTimeField(_("erased at"), default=timezone.now)
    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_name = models.CharField(_("by"), max_length=150)
    door = models.CharField(_("door"), max_length=16, choices=Door.choices)
    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64, db_index=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    cases = models.PositiveIntegerField(_("cases"), default=0)
    evidence = models.PositiveIntegerField(_("evidence files"), default=0)
    parts = models.JSONField(_("other rows"), default=dict, blank=True)

    class Meta:
        verbose_name = _("personal data erasure")
        verbose_name_plural = _("personal data erasures")
        ordering = ["-at", "-pk"]
        permissions = [
            ("handle_personal_data", _("Can export and erase a customer's personal data")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M} ({self.actor_name})"
