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


class ScorecardFact(models.Model):
    """A metric's counts for the rows of one local day of one marketplace (``scorecards.facts``):
    a scorecard adds up its window's days instead of reading every order. ``known_day`` is the
    day from which the counts hold (the day itself, or the day of a later event for metrics
    that answer past windows); ``settles_at`` the moment after which the clock alone can no
    longer change them (None: it never can). A fact computed before it settled is recomputed,
    never read."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(_("metric"), max_length=48)
    day = models.DateField(_("day"))
    known_day = models.DateField(_("known from"))
    numerator = models.BigIntegerField(default=0)
    denominator = models.BigIntegerField(default=0)
    settles_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("scorecard fact")
        verbose_name_plural = _("scorecard facts")
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "metric", "day", "known_day"], name="fact_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.marketplace_id} {self.metric} {self.day}: {self.numerator}/{self.denominator}"
        )


class ScorecardFactBasis(models.Model):
    """What a marketplace's facts of one metric were computed under (time zone, calendar
    version, parameters). Facts of another basis are not read: the metric is counted from the
    rows until the job has rebuilt them."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(_("metric"), max_length=48)
    basis = models.CharField(max_length=255)
    built_at = models.DateTimeField()
    # The days the facts cover: before, or after, a window is counted from the rows.
    first_day = models.DateField()
    last_day = models.DateField()

    class Meta:
        verbose_name = _("scorecard fact basis")
        verbose_name_plural = _("scorecard fact bases")
        constraints = [
            models.UniqueConstraint(fields=["marketplace", "metric"], name="fact_basis_one")
        ]

    def __str__(self) -> str:
        return f"{self.marketplace_id} {self.metric}: {self.basis}"


class ScorecardFactMark(models.Model):
    """A local day whose facts may be out of date: written by database triggers on every insert,
    update and delete of the rows the metrics read (orders, cases, refund and return requests,
    messages, surveys, feedback), for the row's days before and after the change, so no write
    path can forget it. PostgreSQL writes the local ``day``; SQLite the ``moment``, turned into
    a local day when read. The facts job recomputes the marked days and removes the marks it
    read; a scorecard counts marked days from the rows."""

    id = models.BigAutoField(primary_key=True)
    # No foreign key constraint: the triggers write it in the same statement as the change.
    marketplace = models.ForeignKey(
        Marketplace, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    day = models.DateField(null=True, blank=True)
    moment = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scorecard fact mark")
        verbose_name_plural = _("scorecard fact marks")
        indexes = [models.Index(fields=["marketplace", "day"], name="fact_mark_mkt_day")]

    def __str__(self) -> str:
        return f"{self.marketplace_id} {self.day or self.moment}"


class CustomerServiceSurvey(models.Model):
    """A customer's answer to the marketplace's survey after a seller's message (Amazon: "Did
    this solve your problem?"), imported from the marketplace's report: the Customer Service
    Dissatisfaction Rate counts the answers that said no."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("answer id on the marketplace"), max_length=100)
    order_external_id = models.CharField(_("order id"), max_length=100, blank=True)
    answered_at = models.DateTimeField(_("answered at"))
    dissatisfied = models.BooleanField(
        _("dissatisfied"), help_text=_("The customer answered that the reply did not help.")
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer-service survey answer")
        verbose_name_plural = _("customer-service survey answers")
        ordering = ["-answered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="survey_unique_external_id"
            )
        ]
        indexes = [models.Index(fields=["marketplace", "answered_at"], name="survey_mkt_answered")]

    def __str__(self) -> str:
        return f"{self.marketplace_id}:{self.external_id}"


class SellerFeedback(models.Model):
    """A rating the customer left for the seller (1 to 5 stars), imported from the marketplace;
    feedback the marketplace removed stays recorded but no longer counts."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("feedback id on the marketplace"), max_length=100)
    order_external_id = models.CharField(_("order id"), max_length=100, blank=True)
    left_at = models.DateTimeField(_("left at"))
    rating = models.PositiveSmallIntegerField(_("rating (stars)"))
    comment = models.TextField(_("comment"), blank=True)
    removed = models.BooleanField(_("removed by the marketplace"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("seller feedback")
        verbose_name_plural = _("seller feedback")
        ordering = ["-left_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="feedback_unique_external_id"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["marketplace", "left_at"], name="feedback_mkt_left")]

    def __str__(self) -> str:
        return f"{self.marketplace_id}:{self.external_id} {self.rating}"
