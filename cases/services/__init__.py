"""The services of the case domain: every change of a case goes through one of these, each
built on the kernel (``cases.kernel``). Admin, forms, API, jobs and imports call them; none of
them changes a case by itself."""

from ..deadlines import DeadlineStatus, active_deadlines, deadline_status
from .cases import (
    case_assign,
    case_available_transitions,
    case_note_add,
    case_open,
    case_record_first_response,
    case_transition,
    case_update_details,
)
from .deadlines import DeadlineCause, case_deadlines_refresh, marketplace_deadlines_refresh
from .evidence import EvidenceAdded, evidence_add, evidence_review
from .evidence_requests import evidence_request_create, evidence_request_revoke
from .orders import order_upsert
from .refunds import refund_decide, refund_request_create

__all__ = [
    "DeadlineCause",
    "DeadlineStatus",
    "EvidenceAdded",
    "active_deadlines",
    "case_assign",
    "case_available_transitions",
    "case_deadlines_refresh",
    "case_note_add",
    "case_open",
    "case_record_first_response",
    "case_transition",
    "case_update_details",
    "deadline_status",
    "evidence_add",
    "evidence_request_create",
    "evidence_request_revoke",
    "evidence_review",
    "marketplace_deadlines_refresh",
    "order_upsert",
    "refund_decide",
    "refund_request_create",
]
