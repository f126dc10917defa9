from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PacksConfig(AppConfig):
    """Dispute packs: a tamper-evident record of a case (PDF summary, evidence files, manifest
    of SHA-256), produced for the platform's arbitration and checked later (``pack_verify``)."""

    name = "packs"
    verbose_name = _("Dispute packs")
    default_auto_field = "django.db.models.BigAutoField"
