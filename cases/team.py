"""The support team: who hears about what concerns the whole team rather than one assignee.

Below the apps that tell staff (deadline and late-shipment notices in ``jobs``, the quarterly
report in ``scorecards``), so that both ask the same question here instead of one another.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model


def team_emails() -> list[str]:
    """Who hears about unassigned cases: ``TEAM_EMAILS``, else every active staff user with an
    e-mail address."""
    configured = [e for e in settings.TEAM_EMAILS if e]
    if configured:
        return sorted(set(configured))
    users = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
