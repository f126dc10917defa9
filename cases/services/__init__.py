"""The one path for every change of a case. Admin, forms, API and jobs call these functions;
none of them changes a case by itself."""

from .cases import (
    case_assign,
    case_available_transitions,
    case_open,
    case_record_first_response,
    case_transition,
    case_update_details,
    lock_case,
)
from .deadlines import (
    DeadlineStatus,
    active_deadlines,
    case_recompute_deadlines,
    deadline_status,
    marketplace_recompute_deadlines,
)
from .evidence import EvidenceAdded, evidence_add, evidence_review
from .evidence_requests import evidence_request_create, evidence_request_revoke
from .orders import order_upsert
from .refunds import refund_decide, refund_request_create

__all__ = [
    "DeadlineStatus",
    "EvidenceAdded",
    "active_deadlines",
    "case_assign",
    "case_available_transitions",
    "case_open",
    "case_recompute_deadlines",
    "case_record_first_response",
    "case_transition",
    "case_update_details",
    "deadline_status",
    "evidence_add",
    "evidence_request_create",
    "evidence_request_revoke",
    "evidence_review",
    "lock_case",
    "marketplace_recompute_deadlines",
    "order_upsert",
    "refund_decide",
    "refund_request_create",
]
