"""The two support roles and what each may do.

"Support agent" works cases: opens, assigns, moves them through their workflow, reviews evidence,
asks for more, approves refunds. "Support supervisor" may also do what counts against the seller
or ends a dispute: reject a claim or a refund, withdraw a case, record the platform's ruling, and
edit marketplace rules and calendars.

Migration ``0001`` creates the groups with ``roles_install``; a later change of these lists needs
a new migration that calls it again (it only adds). Tests that empty the database (transactional
tests) get the groups back from the ``post_migrate`` hook in ``apps.py``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

SUPPORT_AGENT = "Support agent"
SUPPORT_SUPERVISOR = "Support supervisor"


def _crud(app: str, model: str, *actions: str) -> tuple[str, ...]:
    return tuple(f"{app}.{action}_{model}" for action in actions)


AGENT_PERMISSIONS: tuple[str, ...] = (
    *_crud("cases", "order", "view", "add", "change"),
    *_crud("cases", "case", "view", "add", "change"),
    *_crud("cases", "evidence", "view", "add", "change"),
    *_crud("cases", "evidencerequest", "view", "add", "change"),
    *_crud("cases", "refundrequest", "view", "add", "change"),
    # Return requests are imported; agents answer them (change = answer, once).
    *_crud("cases", "returnrequest", "view", "change"),
    "cases.view_caseevent",
    "marketplaces.view_marketplace",
    "marketplaces.view_calendarexception",
    "workspace.view_dashboard",
    *_crud("workspace", "savedview", "view", "add", "change", "delete"),
    # The inbox: read and work conversations (reply, note, assign, done, spam), use templates.
    *_crud("messaging", "conversation", "view", "change"),
    "messaging.view_message",
    "messaging.view_outboundmessage",
    "messaging.view_messagetemplate",
)

SUPERVISOR_PERMISSIONS: tuple[str, ...] = (
    *AGENT_PERMISSIONS,
    # Only supervisors take the decisions that count against the seller or end a dispute.
    "cases.reject_claim",
    "cases.reject_refund",
    "cases.withdraw_case",
    "cases.record_platform_ruling",
    "marketplaces.change_marketplace",
    # The answer templates the team uses.
    *_crud("messaging", "messagetemplate", "add", "change", "delete"),
    *_crud("marketplaces", "calendarexception", "add", "change", "delete"),
    # Failed logins and lockouts (django-axes): deleting an access attempt unlocks it.
    *_crud("axes", "accessattempt", "view", "delete"),
    "axes.view_accessfailurelog",
    "axes.view_accesslog",
)

ROLES: dict[str, tuple[str, ...]] = {
    SUPPORT_AGENT: AGENT_PERMISSIONS,
    SUPPORT_SUPERVISOR: SUPERVISOR_PERMISSIONS,
}


def roles_install(
    *, apps: Any = global_apps, using: str = "default", missing_groups_only: bool = False
) -> list[str]:
    """Create the role groups and grant them their permissions; returns the groups created.

    Only adds: a permission a site administrator removed from a group is granted again only when
    ``missing_groups_only`` is False (migrations). Permissions of apps not installed are skipped.
    """
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if missing_groups_only and Group.objects.using(using).filter(name__in=ROLES).count() == len(
        ROLES
    ):
        return []
    # Permissions are made by a post_migrate hook, which has not run yet inside a migration (or
    # has not reached every app yet after a flush): make them now. Idempotent.
    for app_config in apps.get_app_configs():
        previous = getattr(app_config, "models_module", None)
        # Migration-state app configs have no models module; create_permissions skips those.
        app_config.models_module = previous or True
        try:
            create_permissions(app_config, apps=apps, using=using, verbosity=0)
        finally:
            app_config.models_module = previous
    created = []
    for name, codes in ROLES.items():
        group, was_created = Group.objects.using(using).get_or_create(name=name)
        if missing_groups_only and not was_created:
            continue
        if was_created:
            created.append(name)
        wanted = {tuple(code.split(".", 1)) for code in codes}
        permissions = [
            permission
            for permission in Permission.objects.using(using).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group.permissions.add(*permissions)
    return created
