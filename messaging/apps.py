from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """The message log: customer and platform messages per order or case."""

    name = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from cases.personal_data import register_part

        from . import personal_data

        register_part("messages", export=personal_data.export, erase=personal_data.erase)
