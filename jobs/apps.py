from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    """Background jobs: deadline sweep, late-shipment escalation, customs reminders."""

    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self) -> None:
        from cases.personal_data import register_part

        from . import personal_data, receivers  # noqa: F401  (connects the signal receivers)

        register_part("clearance_reminders", export=personal_data.export, erase=personal_data.erase)
