"""Background tasks (django-q2). Thin: each takes ids or nothing and calls a job function;
each is idempotent, so a re-run after a crash is harmless. Scheduled by `setup_schedules`."""

from __future__ import annotations

from .customs import clearance_reminder_send
from .escalation import late_shipments_escalate
from .sweep import deadline_sweep_run


def sweep_deadlines() -> dict[str, int]:
    """Every few minutes: at-risk and overdue deadlines, recorded and notified once."""
    return vars(deadline_sweep_run())


def escalate_late_shipments() -> dict[str, int]:
    """Late-shipment cases from order data; supplier steps at 2 and 4 days late."""
    return vars(late_shipments_escalate())


def send_clearance_reminder(event_id: int) -> str:
    """The customs clearance e-mail of one ``send_clearance_reminder`` transition."""
    reminder = clearance_reminder_send(event_id=event_id)
    return reminder.status if reminder else "not a clearance reminder"
