"""The audit trail: one row per thing that happened to a case, written once, never changed.

Rows are written by the kernel only (``cases.kernel``); a database trigger refuses UPDATE and
DELETE (migration 0002), and the model refuses them too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import ActorType, Door, EventType
from .cases import Case


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
    # What the actor is to the case when that is not its name (a link's audience: customer,
    # supplier...): rendered in the reader's language.
    actor_role = models.CharField(max_length=32, blank=True)
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
