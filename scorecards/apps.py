from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScorecardsConfig(AppConfig):
    """Marketplace scorecards: metric definitions, thresholds, snapshots and reports."""

    name = "scorecards"
    verbose_name = _("Scorecards")
