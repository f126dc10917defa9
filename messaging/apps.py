from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """Conversations with customers, retailers and platforms; replies, notes and templates."""

    name = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from marketplaces.signals import calendar_changed

        from .receivers import refresh_clocks_on_commit

        calendar_changed.connect(
            refresh_clocks_on_commit, dispatch_uid="messaging.refresh_clocks_on_commit"
        )
        from cases.personal_data import register_part

        from . import personal_data

        register_part("messages", export=personal_data.export, erase=personal_data.erase)
