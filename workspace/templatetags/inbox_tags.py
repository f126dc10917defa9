"""Template tags of the inbox: a deadline's name, the conversations of a case page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from cases.events import CLOCK_LABELS

register = template.Library()

# ``cases.deadlines.DEADLINE_FIELDS`` by the clock they hold.
_FIELD_CLOCKS = {"review_due_at": "evidence_review", "next_due_at": ""}


@register.filter
def deadline_label(field_name: str) -> str:
    """ "resolution_due_at" -> "Resolution" (the clock's name in the reader's language)."""
    clock = _FIELD_CLOCKS.get(field_name, field_name.removesuffix("_due_at"))
    return str(CLOCK_LABELS.get(clock, clock.replace("_", " ")))


@register.filter
def seconds_text(seconds: float | None) -> str:
    """A median in seconds for people: "45 s", "12 min", "5 h 10 min", "2 d 3 h"."""
    import datetime as dt

    from django.utils.translation import gettext as _

    from .workspace_tags import duration_text

    if seconds is None:
        return ""
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": round(seconds)}
    return duration_text(dt.timedelta(seconds=seconds))


@register.filter
def percent_text(share: float | None) -> str:
    if share is None:
        return ""
    return f"{100 * share:.1f} %"


@register.simple_tag(takes_context=True)
def case_conversations(context: dict[str, Any], case: Any) -> list[dict[str, Any]]:
    """The conversations filed on ``case``, each with its thread and composer (what was typed
    or refused just before kept once)."""
    from ..admin.inbox import composer_context
    from ..inbox import case_threads

    request = context.get("request")
    if request is None or not request.user.has_perm("messaging.view_conversation"):
        return []
    from messaging.services import templates_for_each

    threads = case_threads(case, at=timezone.now())
    # The templates of every composer in one query (one per conversation otherwise).
    templates = templates_for_each([thread.conversation for thread in threads])
    return [
        {
            "thread": thread,
            "composer": composer_context(
                request, thread.conversation, templates=templates[thread.conversation.pk]
            ),
        }
        for thread in threads
    ]
