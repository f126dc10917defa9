from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from marketplaces.models import Marketplace

from .definitions import METRICS
from .models import MetricBand, MetricPolicy, ScorecardSnapshot
from .services import band_text, policies_install_defaults


class BandFormSet(BaseInlineFormSet):
    """Levels must go from best to worst: each bound stricter than the next."""

    def clean(self):
        super().clean()
        if any(self.errors):  # each row's own errors are shown; the order check needs them all
            return
        definition = METRICS.get(self.instance.metric)
        rows = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        rows.sort(key=lambda row: row["position"])
        bounds = [row["bound"] for row in rows]
        if None in bounds[:-1]:
            raise ValidationError(_("Only the last (worst) level may have no bound."))
        numbers = [b for b in bounds if b is not None]
        if definition is not None and numbers:
            ordered = sorted(numbers, reverse=not definition.lower_is_better)
            if numbers != ordered:
                raise ValidationError(
                    _("Bounds must go from the best level to the worst (%(direction)s).")
                    % {
                        "direction": _("lower is better")
                        if definition.lower_is_better
                        else _("higher is better")
                    }
                )


class MetricBandInline(admin.TabularInline):
    model = MetricBand
    formset = BandFormSet
    extra = 0
    ordering = ["position"]


@admin.register(MetricPolicy)
class MetricPolicyAdmin(admin.ModelAdmin):
    """Thresholds per marketplace: staff edit windows, parameters and level edges here."""

    list_display = ("metric", "marketplace", "window_days", "is_enabled", "levels", "updated_at")
    list_filter = ("marketplace", "is_enabled")
    list_select_related = ("marketplace",)
    ordering = ("marketplace__name", "position")
    inlines = [MetricBandInline]
    readonly_fields = ("how_it_is_counted",)
    fields = (
        "marketplace",
        "metric",
        "how_it_is_counted",
        "position",
        "is_enabled",
        "window_days",
        "parameters",
        "notes",
    )
    actions = ["install_defaults"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("bands")

    @admin.display(description=_("levels"))
    def levels(self, policy):
        definition = METRICS.get(policy.metric)
        if definition is None:
            return "-"
        return (
            "; ".join(
                f"{band.level} {band_text(band, definition.unit, definition.lower_is_better)}"
                for band in policy.bands.all()
            )
            or "-"
        )

    @admin.display(description=_("how it is counted"))
    def how_it_is_counted(self, policy):
        definition = METRICS.get(policy.metric)
        return definition.display_note() if definition else "-"

    @admin.action(
        description=_("Add the shipped policies missing on these marketplaces"),
        permissions=["change"],
    )
    def install_defaults(self, request, queryset):
        created = sum(
            policies_install_defaults(marketplace=marketplace)
            for marketplace in Marketplace.objects.filter(pk__in=queryset.values("marketplace"))
        )
        self.message_user(request, _("%(n)d policies added.") % {"n": created}, messages.SUCCESS)


@admin.register(ScorecardSnapshot)
class ScorecardSnapshotAdmin(admin.ModelAdmin):
    """Daily figures kept for trends; written by the worker, read here."""

    list_display = ("as_of", "marketplace", "metric", "numerator", "denominator", "value", "level")
    list_filter = ("marketplace", "metric")
    list_select_related = ("marketplace",)
    date_hierarchy = "as_of"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
