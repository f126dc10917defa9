from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    """Project-level commands (running the system, demo login)."""

    name = "aftersales"
    verbose_name = "aftersales"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .db import fast_timestamps

        connection_created.connect(fast_timestamps, dispatch_uid="aftersales.fast_timestamps")
