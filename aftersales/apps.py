from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    """Project-level commands (running the system, demo login)."""

    name = "aftersales"
    verbose_name = "aftersales"
