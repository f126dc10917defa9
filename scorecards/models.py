"""How each marketplace judges each metric (editable in the admin), and daily snapshots kept for
trends.

A ``MetricPolicy`` says which metrics a marketplace's scorecard shows, over which window, with
which extra parameters; its ``MetricBand`` rows are the levels, best first: a value reaches the
first band whose bound it is within (``<``/``<=`` the bound for metrics where lower is better,
``>``/``>=`` where higher is better); a band without a bound takes every remaining value.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplaces.models import Marketplace

from .definitions import METRICS, metric_choices


class MetricPolicy(models.Model):
    """One metric on one marketplace's scorecard: its window, parameters and levels."""

    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.CASCADE, related_name="metric_policies"
    )
    metric = models.CharField(_("metric"), max_length=48, choices=metric_choices())
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_enabled = models.BooleanField(_("shown"), default=True)
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Days the metric looks back. Empty: the window asked for (30 days by default). "
            "Marketplaces that fix a window (Amazon, Faire) have it set here."
        ),
    )
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            "Extra settings of the metric, e.g. the recency weights of Amazon's order "
            "quality score."
        ),
    )
    notes = models.TextField(_("notes"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The bands in order, set on the policies ``scorecards.services.policies`` gives (saved or
    # the unsaved defaults): not a field.
    band_list: list[MetricBand]

    class Meta:
        verbose_name = _("metric policy")
        verbose_name_plural = _("metric policies")
        ordering = ["marketplace", "position", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "metric"], name="policy_one_per_metric")
        ]

    def __str__(self) -> str:
        return f"{self.marketplace} / {self.get_metric_display()}"

    @property
    def definition(self):
        return METRICS[self.metric]

    def clean(self) -> None:
        if self.window_days is not None and self.window_days < 1:
            raise ValidationError({"window_days": _("The window must be at least one day.")})


class MetricBand(models.Model):
    """One level of a metric (5, 4.6, green, met...): the values within ``bound`` reach it."""

    policy = models.ForeignKey(MetricPolicy, on_delete=models.CASCADE, related_name="bands")
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("Best level first."))
    level = models.CharField(_("level"), max_length=16)
    bound = models.DecimalField(
        _("bound"),
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text=_(
            "Rates as fractions (0.01 = 1 %), times in seconds, scores in points. Empty: every "
            "value not reached by a better level."
        ),
    )
    inclusive = models.BooleanField(
        _("bound included"),
        default=True,
        help_text=_("Whether a value exactly at the bound reaches this level."),
    )

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="band_unique_position")
        ]

    def __str__(self) -> str:
        return self.level

    def admits(self, value: Decimal, *, lower_is_better: bool) -> bool:
        if self.bound is None:
            return True
        if lower_is_better:
            return value <= self.bound if self.inclusive else value < self.bound
        return value >= self.bound if self.inclusive else value > self.bound


class ScorecardSnapshot(models.Model):
    """A metric's figures for one marketplace as of one day, kept for trends."""

    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.CASCADE, related_name="scorecard_snapshots"
    )
    metric = models.CharField(_("metric"), max_length=48, choices=metric_choices())
    as_of = models.DateField(_("as of"))
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField()
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    level = models.CharField(_("level"), max_length=16, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("scorecard snapshot")
        verbose_name_plural = _("scorecard snapshots")
        ordering = ["marketplace", "metric", "-as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "metric", "as_of"], name="snapshot_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.marketplace} {self.metric} {self.as_of}: {self.value}"


class ScorecardReportSent(models.Model):
    """A scheduled scorecard report that went out: the next one is due 90 days later."""

    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.CASCADE, related_name="scorecard_reports"
    )
    as_of = models.DateField(_("as of"))
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.TextField(_("sent to"))

    class Meta:
        verbose_name = _("scorecard report sent")
        verbose_name_plural = _("scorecard reports sent")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["marketplace", "sent_at"], name="report_mkt_sent")]

    def __str__(self) -> str:
        return f"{self.marketplace} {self.as_of}"
