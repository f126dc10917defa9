from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    """Background jobs: deadline sweep, late-shipment escalation, customs reminders."""

    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
