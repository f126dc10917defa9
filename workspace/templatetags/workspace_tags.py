"""Template tags of the workspace: work queues, saved lists, language switch, refused forms."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language

from ..queues import queue_links

register = template.Library()


@register.simple_tag(takes_context=True)
def work_queues(context: dict[str, Any]) -> list[Any]:
    request = context.get("request")
    if request is None or not request.user.has_perm("cases.view_case"):
        return []
    return queue_links(request)


@register.simple_tag(takes_context=True)
def saved_case_views(context: dict[str, Any]) -> list[dict[str, Any]]:
    from ..models import SavedView

    request = context.get("request")
    if request is None or not request.user.has_perm("workspace.view_savedview"):
        return []
    base = reverse("admin:cases_case_changelist")
    views = SavedView.objects.filter(Q(owner=request.user) | Q(shared=True)).select_related("owner")
    return [
        {
            "view": view,
            "url": f"{base}?{view.query}" if view.query else base,
            "mine": view.owner_id == request.user.pk,
            "owner": view.owner.get_full_name() or view.owner.get_username(),
            "delete_url": reverse("admin:workspace_savedview_delete", args=[view.pk]),
        }
        for view in views
    ]


@register.simple_tag
def language_choices() -> list[tuple[str, str, bool]]:
    current = get_language()
    return [(code, str(name), code == current) for code, name in settings.LANGUAGES]


@register.simple_tag
def retry_for(retry: dict[str, Any] | None, *parts: Any) -> dict[str, Any] | None:
    """The refused form's data when the form named by ``parts`` ("refund", 12, "rejected" ->
    "refund:12:rejected") is the one that was refused, else None."""
    if retry and retry.get("key") == ":".join(str(part) for part in parts):
        return retry
    return None


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key, "")
    return ""


@register.filter
def duration_text(value: Any) -> str:
    """A duration for people: "3 d 4 h", "5 h 10 min", "12 min"."""
    from django.utils.translation import gettext as _

    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}


@register.simple_tag
def list_total(changelist: Any) -> Any:
    """The list's total, worded truthfully (``workspace.changelist.ListTotal``)."""
    from ..changelist import list_total as total

    return total(changelist)
