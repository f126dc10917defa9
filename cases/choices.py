"""Enumerations of the case domain. Values are stored in the database and used by the API:
they may be added to, never renamed."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    # Before shipment
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    OVERSIZED = "oversized", _("Oversized item")
    LATE_SHIPMENT = "late_shipment", _("Late shipment")
    CANCELLATION = "cancellation", _("Cancellation")
    # After shipment
    CUSTOMS_DELAY = "customs_delay", _("Customs delay")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    MISSING_ITEM = "missing_item", _("Missing item")
    DAMAGED_ITEM = "damaged_item", _("Damaged item")
    INTERCEPTION = "interception", _("Interception")


# The claim kinds need photo or video evidence and a verification.
CLAIM_KINDS = frozenset({CaseKind.WRONG_ITEM, CaseKind.MISSING_ITEM, CaseKind.DAMAGED_ITEM})


class CaseState(models.TextChoices):
    NEW = "new", _("New")
    # refunds
    REFUND_PENDING = "refund_pending", _("Refund pending")  # refund agreed, not paid yet
    REFUNDED = "refunded", _("Refunded")
    # re-routing and shipping
    REROUTED = "rerouted", _("Re-routed to another supplier")
    SHIPPED = "shipped", _("Shipped")
    SUPPLIER_CONTACTED = "supplier_contacted", _("Supplier contacted")  # >= 2 days late
    SUPPLIER_SWITCHED = "supplier_switched", _("Supplier switched")  # >= 4 days late
    # customs
    REMINDER_SENT = "reminder_sent", _("Clearance reminder sent")
    CLEARED = "cleared", _("Cleared by customs")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned or seized")
    # claims
    AWAITING_EVIDENCE = "awaiting_evidence", _("Awaiting evidence")
    UNDER_REVIEW = "under_review", _("Under review")
    CONFIRMED = "confirmed", _("Confirmed")  # starts the resolution clock
    REJECTED = "rejected", _("Rejected")  # a refund rejection for the metrics
    RESHIP_PENDING = "reship_pending", _("Reship pending")
    RESHIPPED = "reshipped", _("Reshipped")
    # interception
    INTERCEPTION_REQUESTED = "interception_requested", _("Interception requested")
    INTERCEPTED = "intercepted", _("Intercepted")
    INTERCEPTION_FAILED = "interception_failed", _("Interception failed")
    # every kind
    ESCALATED = "escalated", _("Escalated to the platform")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


TERMINAL_STATES = frozenset({CaseState.CLOSED, CaseState.WITHDRAWN})
# The same, sorted: SQL built from it is the same in every process (a frozenset's order depends
# on the hash seed) and matches the partial index of open cases.
CLOSED_STATES = sorted(TERMINAL_STATES)
# Reaching one of these ends the resolution clock: the customer got the remedy.
RESOLVED_STATES = frozenset(
    {
        CaseState.REFUNDED,
        CaseState.RESHIPPED,
        CaseState.SHIPPED,
        CaseState.DELIVERED,
        CaseState.INTERCEPTION_FAILED,
    }
)


class ShippingScope(models.TextChoices):
    DOMESTIC = "domestic", _("Domestic")
    INTERNATIONAL = "international", _("International")


class Priority(models.IntegerChoices):
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("High")
    URGENT = 40, _("Urgent")


class Door(models.TextChoices):
    """Where a change came from."""

    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    FORM = "form", _("Evidence form")
    JOB = "job", _("Background job")
    COMMAND = "command", _("Command line")
    TRACKING = "tracking", _("Carrier tracking")


class ActorType(models.TextChoices):
    USER = "user", _("Staff user")
    API_CLIENT = "api_client", _("API client")
    LINK = "link", _("Upload link")
    SYSTEM = "system", _("System")


class EventType(models.TextChoices):
    CASE_OPENED = "case_opened", _("Case opened")
    TRANSITION = "transition", _("Transition")
    EVIDENCE_ADDED = "evidence_added", _("Evidence added")
    EVIDENCE_REVIEWED = "evidence_reviewed", _("Evidence reviewed")
    REFUND_REQUESTED = "refund_requested", _("Refund requested")
    REFUND_DECIDED = "refund_decided", _("Refund decided")
    REFUND_OVERTURNED = "refund_overturned", _("Refund rejection overturned")
    ASSIGNED = "assigned", _("Assigned")
    MESSAGE_SENT = "message_sent", _("Message sent")
    EVIDENCE_REQUESTED = "evidence_requested", _("Evidence requested")
    EVIDENCE_REQUEST_REVOKED = "evidence_request_revoked", _("Evidence link revoked")
    DEADLINES_RECOMPUTED = "deadlines_recomputed", _("Deadlines recomputed")
    DEADLINE_AT_RISK = "deadline_at_risk", _("Deadline at risk")
    DEADLINE_MISSED = "deadline_missed", _("Deadline missed")
    NOTE = "note", _("Note")
    DETAILS_CHANGED = "details_changed", _("Details changed")
    FIRST_RESPONSE_RECORDED = "first_response_recorded", _("First response recorded")
    MESSAGE_NOT_SENT = "message_not_sent", _("Message not sent")
    SUPPLIER_ESCALATION = "supplier_escalation", _("Late shipment: supplier step due")
    RETURN_ANSWERED = "return_answered", _("Return request answered")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("Personal data erased")
    TRACKING_EVENT = "tracking_event", _("Carrier tracking event")
    PACK_PRODUCED = "pack_produced", _("Dispute pack produced")


class MediaType(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")


class EvidenceSource(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner")
    STAFF = "staff", _("Staff")
    API = "api", _("API")


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class RefundDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    PARTIALLY_APPROVED = "partially_approved", _("Partially approved")
    REJECTED = "rejected", _("Rejected")


class RefundRejectionReason(models.TextChoices):
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", _("Insufficient evidence")
    OUTSIDE_RETURN_POLICY = "outside_return_policy", _("Outside the return policy")
    CUSTOMER_FAULT = "customer_fault", _("Customer fault")
    DUPLICATE = "duplicate", _("Duplicate request")
    OTHER = "other", _("Other")


class ResolutionOutcome(models.TextChoices):
    REFUNDED = "refunded", _("Refunded")
    RESHIPPED = "reshipped", _("Reshipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CLAIM_REJECTED = "claim_rejected", _("Claim rejected")
    INTERCEPTION_FAILED = "interception_failed", _("Interception failed")
    PLATFORM_UPHELD_SELLER = "platform_upheld_seller", _("Platform upheld the seller")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Audience(models.TextChoices):
    """Who an evidence request is addressed to."""

    CUSTOMER = "customer", _("Customer")
    SUPPLIER = "supplier", _("Supplier")
    CARRIER = "carrier", _("Carrier")
    FORWARDER = "forwarder", _("Forwarder")
    PLATFORM = "platform", _("Platform agent")


# -- Order data the marketplace scorecards need (issue 6) ----------------------------------------


class FulfilmentChannel(models.TextChoices):
    """Who ships the order: seller-fulfilled orders are the ones shipping metrics judge."""

    SELLER = "seller", _("Seller")
    MARKETPLACE = "marketplace", _("Marketplace (e.g. FBA)")


class OrderCanceller(models.TextChoices):
    SELLER = "seller", _("Seller")
    CUSTOMER = "customer", _("Customer or retailer")
    MARKETPLACE = "marketplace", _("Marketplace")


class CancellationReason(models.TextChoices):
    # Reasons the seller controls, before and after accepting the order (Faire's list).
    EXPIRED_UNACCEPTED = "expired_unaccepted", _("Expired: not accepted in time")
    PRICING_ERROR = "pricing_error", _("Wrong price")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    PRODUCTION_TIME = "production_time", _("Production or lead time too long")
    # Controllable once the seller has accepted the order (Faire).
    ORDER_TOO_SMALL = "order_too_small", _("Order quantity too small")
    DESTINATION_NOT_SERVED = "destination_not_served", _("Destination not served")
    SELLER_OTHER = "seller_other", _("Other reason of the seller")
    # Not the seller's doing.
    CUSTOMER_REQUEST = "customer_request", _("Customer or retailer request")
    PAYMENT_OR_FRAUD = "payment_or_fraud", _("Payment failed or fraud suspected")
    ADDRESS_UNDELIVERABLE = "address_undeliverable", _("Address undeliverable")
    OTHER = "other", _("Other")


# Cancellations the seller controls whatever the moment (Faire: before or after acceptance) ...
CONTROLLABLE_CANCELLATION_REASONS = frozenset(
    {
        CancellationReason.EXPIRED_UNACCEPTED,
        CancellationReason.PRICING_ERROR,
        CancellationReason.OUT_OF_STOCK,
        CancellationReason.PRODUCTION_TIME,
    }
)
# ... and those it controls only once it had accepted the order.
CONTROLLABLE_AFTER_ACCEPTANCE_REASONS = frozenset(
    {
        CancellationReason.ORDER_TOO_SMALL,
        CancellationReason.DESTINATION_NOT_SERVED,
        CancellationReason.SELLER_OTHER,
    }
)


class ClaimOutcome(models.TextChoices):
    """Where an A-to-z Guarantee claim (or a marketplace guarantee claim) stands."""

    PENDING = "pending", _("Pending")
    GRANTED = "granted", _("Granted to the customer")
    DECIDED_FOR_SELLER = "decided_for_seller", _("Decided in the seller's favour")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


class ReturnDecision(models.TextChoices):
    AUTHORIZED = "authorized", _("Authorised")
    REJECTED = "rejected", _("Rejected")
    REFUNDED_WITHOUT_RETURN = "refunded_without_return", _("Refunded without return")
    CLOSED = "closed", _("Closed")  # answered without a return (the customer's question settled)


class TrackingStatus(models.TextChoices):
    """A carrier's scan, in one vocabulary whatever the carrier (integrations map their codes)."""

    PICKED_UP = "picked_up", _("Picked up by the carrier")
    IN_TRANSIT = "in_transit", _("In transit")
    CUSTOMS_HOLD = "customs_hold", _("Held at customs")
    CUSTOMS_CLEARED = "customs_cleared", _("Cleared by customs")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    DELIVERY_FAILED = "delivery_failed", _("Delivery attempt failed")
    RETURNED_TO_SENDER = "returned_to_sender", _("Returned to sender")
    LOST = "lost", _("Lost by the carrier")


# Scans that say the parcel is past customs: a customs hold older than one of them is over.
PAST_CUSTOMS_STATUSES = frozenset(
    {
        TrackingStatus.CUSTOMS_CLEARED,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    }
)
