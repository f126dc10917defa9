"""Which case events become webhook events, and what a webhook event says."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.fields import DateTimeField

from cases.choices import EventType
from cases.models import Case, CaseEvent, Evidence

from ..models import WebhookEventType

EVENT_TYPES: dict[str, str] = {
    EventType.CASE_OPENED: WebhookEventType.CASE_CREATED,
    EventType.TRANSITION: WebhookEventType.CASE_TRANSITIONED,
    EventType.EVIDENCE_ADDED: WebhookEventType.EVIDENCE_ADDED,
    EventType.REFUND_DECIDED: WebhookEventType.REFUND_DECIDED,
    EventType.DEADLINE_AT_RISK: WebhookEventType.DEADLINE_AT_RISK,
    EventType.DEADLINE_MISSED: WebhookEventType.DEADLINE_MISSED,
    EventType.DEADLINES_RECOMPUTED: WebhookEventType.DEADLINES_CHANGED,
}

_time = DateTimeField().to_representation


def _when(value: Any) -> str | None:
    return _time(value) if value is not None else None


def case_summary(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "marketplace": case.marketplace.code,
        "order": case.order.external_id,
        "kind": case.kind,
        "state": case.state,
        "version": case.version,
        "external_id": case.external_id,
        "opened_at": _when(case.opened_at),
        "response_due_at": _when(case.response_due_at),
        "evidence_due_at": _when(case.evidence_due_at),
        "resolution_due_at": _when(case.resolution_due_at),
        "review_due_at": _when(case.review_due_at),
        "refund_decision_due_at": _when(case.refund_decision_due_at),
        "next_due_at": _when(case.next_due_at),
    }


def _event_data(event: CaseEvent) -> dict[str, Any]:
    data = dict(event.data or {})
    if event.event_type == EventType.EVIDENCE_ADDED and not data.get("name"):
        # The file's name lives on the evidence row (erasable), not in the audit record; the
        # webhook (an erasable copy) carries it as before.
        name = (
            Evidence.objects.filter(pk=data.get("evidence") or 0)
            .values_list("original_name", flat=True)
            .first()
        )
        if name:
            data["name"] = name
    return data


def payload_of(event: CaseEvent, event_type: str, event_id: uuid.UUID) -> dict[str, Any]:
    """The JSON body sent to receivers. ``id`` is the same on every retry and replay."""
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": _when(event.recorded_at),
        "data": {
            "case": case_summary(event.case),
            "event": {
                "id": event.pk,
                "type": event.event_type,
                "transition": event.transition,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "occurred_at": _when(event.occurred_at),
                "actor": {"type": event.actor_type, "name": event.actor_name},
                "door": event.door,
                "note": event.note,
                "reason": event.reason,
                "data": _event_data(event),
            },
        },
    }
