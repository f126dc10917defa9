"""The workspace's own data: the dashboard's permission holder and users' saved case lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Dashboard(models.Model):
    """The support dashboard page. No table: it exists so that the admin lists the page and so
    that a ``view_dashboard`` permission can be given to a role."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboard")

    def __str__(self) -> str:
        return str(_("dashboard"))


class SavedView(models.Model):
    """A case list a user saved with its filters, search and ordering, shown on the admin index;
    a shared one is on every team member's index too (only its owner changes or deletes it)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_case_views",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    # The case list's query string (filters, search, ordering), without the leading "?".
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    shared = models.BooleanField(
        _("shared with the team"),
        default=False,
        help_text=_("Every member of the support team sees the list on their home page."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved case list")
        verbose_name_plural = _("saved case lists")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="savedview_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
