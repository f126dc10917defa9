from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("After-sales cases")

    def ready(self) -> None:
        from marketplaces.signals import calendar_changed

        from .receivers import recompute_deadlines_on_commit

        calendar_changed.connect(
            recompute_deadlines_on_commit, dispatch_uid="cases.recompute_deadlines_on_commit"
        )
