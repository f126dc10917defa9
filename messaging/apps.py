from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    """The message log: customer and platform messages per order or case."""

    name = "messaging"
    verbose_name = _("Messages")
