"""Writing the case history. Every service writes its event through ``record_event``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ..actors import Actor
from ..choices import Door, EventType
from ..models import Case, CaseEvent
from ..signals import case_event_recorded


def record_event(
    *,
    case: Case,
    event_type: EventType,
    actor: Actor,
    door: Door,
    occurred_at: dt.datetime | None = None,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        event_type=event_type,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_ref=actor.ref,
        actor_name=actor.name[:150],
        door=door,
        occurred_at=occurred_at or timezone.now(),
        note=note,
        reason=reason,
        data=data or {},
    )
    case_event_recorded.send(sender=CaseEvent, event=event)
    return event
