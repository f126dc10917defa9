"""One timeline of everything that happened on a case, newest first: the audit records (read
only) and, when the messaging app is installed, the messages exchanged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps

from cases.choices import Door
from cases.events import RenderContext, render_actor, render_event
from cases.models import Case, CaseEvent
from cases.services.tracking import tracking_locations

TIMELINE_LIMIT = 200
KNOWN_MESSAGES = {"evidence_reminder", "evidence_link"}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline."""

    at: dt.datetime
    recorded_at: dt.datetime | None
    category: str  # css class: transition, evidence, refund, message, deadline, other
    title: str
    detail: str = ""
    actor: str = ""
    door: str = ""
    note: str = ""
    reason: str = ""
    pk: int = 0

    @property
    def recorded_later(self) -> bool:
        """Recorded well after it happened (imported history, back-dated transitions)."""
        return self.recorded_at is not None and self.recorded_at - self.at > dt.timedelta(minutes=5)


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _event_entries(
    case: Case, *, evidence_names: dict[int, str], refunds: dict[int, Any], limit: int
) -> list[TimelineEntry]:
    events = list(CaseEvent.objects.filter(case=case).order_by("-occurred_at", "-pk")[:limit])
    context = RenderContext(
        tz=case.marketplace.tz,
        evidence_names=evidence_names,
        refund_currencies={pk: getattr(refund, "currency", "") for pk, refund in refunds.items()},
        tracking_locations=tracking_locations(events),
    )
    entries = []
    for event in events:
        rendered = render_event(event, context)
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                recorded_at=event.recorded_at,
                category=rendered.category,
                title=rendered.title,
                detail=rendered.detail,
                actor=render_actor(event),
                door=_label(Door, event.door),
                # Notes written by the engine before events were typed are English; the title
                # says it already.
                note="" if (event.data or {}).get("message") in KNOWN_MESSAGES else event.note,
                reason=event.reason,
                pk=event.pk,
            )
        )
    return entries


def _message_entries(case: Case, *, limit: int) -> list[TimelineEntry]:
    """Messages of the ``messaging`` app, when it is installed (it is optional here)."""
    if not apps.is_installed("messaging"):
        return []
    from .messages import message_entries

    return message_entries(case, limit=limit)


def case_timeline(
    case: Case,
    *,
    evidence_names: dict[int, str] | None = None,
    refunds: dict[int, Any] | None = None,
    limit: int = TIMELINE_LIMIT,
) -> list[TimelineEntry]:
    """The ``limit`` most recent entries, newest first."""
    entries = _event_entries(
        case, evidence_names=evidence_names or {}, refunds=refunds or {}, limit=limit
    )
    entries += _message_entries(case, limit=limit)
    entries.sort(key=lambda entry: (entry.at, entry.pk), reverse=True)
    return entries[:limit]
