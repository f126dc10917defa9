from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """Evidence intake: upload links and forms for customers and partners."""

    name = "intake"
    verbose_name = _("Evidence intake")

    def ready(self) -> None:
        from cases.signals import case_event_recorded

        from .receivers import queue_link_email

        case_event_recorded.connect(queue_link_email, dispatch_uid="intake.queue_link_email")
