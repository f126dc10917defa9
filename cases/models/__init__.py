"""The case domain's tables, by sub-domain: orders, cases, evidence, refunds and returns, the
audit trail. Writes go through the kernel (``cases.kernel``) and the services built on it."""

from .cases import Case, CaseQuerySet, CaseReferenceSequence
from .events import AppendOnlyQuerySet, CaseEvent
from .evidence import Evidence, EvidenceRequest, evidence_storage, evidence_upload_to
from .orders import (
    CUSTOMER_LANGUAGES,
    HAPPENED_TIME_FIELDS,
    PLAUSIBLE_DATES,
    Order,
    shipping_scope_for,
)
from .privacy import PersonalDataErasure
from .refunds import RefundRequest, ReturnRequest
from .shipments import Shipment, TrackingEvent

__all__ = [
    "CUSTOMER_LANGUAGES",
    "HAPPENED_TIME_FIELDS",
    "PLAUSIBLE_DATES",
    "AppendOnlyQuerySet",
    "Case",
    "CaseEvent",
    "CaseQuerySet",
    "CaseReferenceSequence",
    "Evidence",
    "EvidenceRequest",
    "Order",
    "PersonalDataErasure",
    "RefundRequest",
    "ReturnRequest",
    "Shipment",
    "TrackingEvent",
    "evidence_storage",
    "evidence_upload_to",
    "shipping_scope_for",
]

# Migration 0001 names these callables by their old module path.
from .evidence import _evidence_storage  # noqa: F401
