"""Evidence requests: what is asked of whom, by when (each one the source of an upload link,
made and checked by the ``intake`` app), how it is answered, and the e-mails about it."""

from .answers import (
    ChecklistEntry,
    EvidenceReceived,
    checklist_progress,
    evidence_request_finish,
    evidence_request_receive,
)
from .checklists import (
    DEFAULT_CHECKLISTS,
    GENERIC_CHECKLIST,
    default_checklist,
    normalise_checklist,
)
from .messages import (
    MESSAGE_LINK,
    MESSAGE_REMINDER,
    evidence_request_send_message,
    reminders_due,
)
from .requests import (
    MAX_DEADLINE_AHEAD,
    active_customer_request,
    evidence_request_create,
    evidence_request_ensure_for_customer,
    evidence_request_revoke,
    link_actor,
)

__all__ = [
    "DEFAULT_CHECKLISTS",
    "GENERIC_CHECKLIST",
    "MAX_DEADLINE_AHEAD",
    "MESSAGE_LINK",
    "MESSAGE_REMINDER",
    "ChecklistEntry",
    "EvidenceReceived",
    "active_customer_request",
    "checklist_progress",
    "default_checklist",
    "evidence_request_create",
    "evidence_request_ensure_for_customer",
    "evidence_request_finish",
    "evidence_request_receive",
    "evidence_request_revoke",
    "evidence_request_send_message",
    "link_actor",
    "normalise_checklist",
    "reminders_due",
]
