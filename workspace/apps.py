from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    """The support workspace: the Django admin as support staff use it every day."""

    name = "workspace"
    verbose_name = _("Support workspace")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_restore_roles, sender=self, dispatch_uid="workspace_restore_roles")


def _restore_roles(*, apps: Any = None, using: str = "default", **kwargs: Any) -> None:
    """Migration 0001 creates the role groups; a flush (transactional tests) empties the table
    and then sends post_migrate: put the groups back if they are missing."""
    from django.apps import apps as global_apps

    from .roles import roles_install

    # ``migrate`` passes the migrated state's apps; ``flush`` passes none.
    roles_install(apps=apps or global_apps, using=using, missing_groups_only=True)
