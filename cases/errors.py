"""Domain errors: one code per refusal, one plain-words message for the user.

Tests assert the code; people read the message. Each door maps the error to its own form (a
message in the admin, a problem document in the API, a line on the upload form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code the system gives (domain refusals and the doors' own), in one place."""

    # transitions
    TRANSITION_UNKNOWN = "transition_unknown"
    TRANSITION_NOT_AVAILABLE = "transition_not_available"
    CONDITION_FAILED = "condition_failed"
    PERMISSION_DENIED = "permission_denied"
    REASON_REQUIRED = "reason_required"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    OCCURRED_BEFORE_PREVIOUS = "occurred_before_previous"
    CASE_CHANGED = "case_changed"
    # cases and orders
    ORDER_OF_OTHER_MARKETPLACE = "order_of_other_marketplace"
    OPENED_BEFORE_ORDER = "opened_before_order"
    INVALID_VALUE = "invalid_value"
    REQUIRED = "required"
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE = "duplicate"
    NOT_FOUND = "not_found"
    # evidence
    BAD_FILE_NAME = "bad_file_name"
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    TYPE_MISMATCH = "type_mismatch"
    CORRUPT_IMAGE = "corrupt_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    CORRUPT_VIDEO = "corrupt_video"
    NO_VIDEO_STREAM = "no_video_stream"
    VIDEO_TOO_LONG = "video_too_long"
    CASE_CLOSED = "case_closed"
    # refunds
    REFUND_ALREADY_DECIDED = "refund_already_decided"
    REJECTION_REASON_REQUIRED = "rejection_reason_required"
    INVALID_AMOUNT = "invalid_amount"
    # return requests
    RETURN_ALREADY_ANSWERED = "return_already_answered"
    # conversations and replies (``messaging``)
    PLACEHOLDER_MISSING = "placeholder_missing"
    ATTACHMENTS_REFUSED = "attachments_refused"
    MESSAGE_TOO_LONG = "message_too_long"
    SELLER_MAY_NOT_WRITE_FIRST = "seller_may_not_write_first"
    OUTBOUND_ALREADY_SENT = "outbound_already_sent"
    OUTBOUND_NOT_FAILED = "outbound_not_failed"
    # refusals of the doors themselves (the API's problem codes, field errors)
    INVALID = "invalid"
    INVALID_CHOICE = "invalid_choice"
    DOES_NOT_EXIST = "does_not_exist"
    NOT_YOURS = "not_yours"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    REQUEST_TOO_LARGE = "request_too_large"
    THROTTLED = "throttled"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    CONFLICT = "conflict"
    SERVICE_UNAVAILABLE = "service_unavailable"
    FILE_NAME_TOO_LONG = "file_name_too_long"
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    SERVER_ERROR = "server_error"


# Refusals that mean "the request was right, but the case is not (or no longer) in a state that
# allows it" (HTTP 409): the caller should reload and decide again, not fix the request.
CONFLICT_CODES = frozenset(
    {
        ErrorCode.TRANSITION_NOT_AVAILABLE,
        ErrorCode.CASE_CHANGED,
        ErrorCode.REFUND_ALREADY_DECIDED,
        ErrorCode.RETURN_ALREADY_ANSWERED,
        ErrorCode.OUTBOUND_ALREADY_SENT,
        ErrorCode.OUTBOUND_NOT_FAILED,
        ErrorCode.CASE_CLOSED,
    }
)


class DomainError(Exception):
    """A rule said no. ``message`` is for people, ``code`` for programs."""

    code: ErrorCode

    @property
    def is_conflict(self) -> bool:
        return self.code in CONFLICT_CODES

    def __init__(
        self, code: ErrorCode, message: Any, *, field: str | None = None, **details: Any
    ) -> None:
        self.code = ErrorCode(code)
        self.message = str(message)
        self.field = field
        self.details = details
        super().__init__(self.message)


@dataclass(frozen=True)
class TransitionOption:
    """A transition offered on a case, as shown to users and API clients."""

    name: str
    target: str
    label: str
    requires_reason: bool = False
    help_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "label": self.label}


class TransitionRefused(DomainError):
    """A transition could not run; ``available`` lists what can run now."""

    def __init__(
        self,
        code: ErrorCode,
        message: Any,
        *,
        available: list[TransitionOption] | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(code, message, field=field, **details)
        self.available = available or []

    def __str__(self) -> str:
        if not self.available:
            return f"{self.message} No transition is available now."
        names = ", ".join(option.name for option in self.available)
        return f"{self.message} Available now: {names}."


class EvidenceRefused(DomainError):
    """A file was not accepted as evidence; nothing of it was kept."""


class RefundRefused(DomainError):
    """A refund request or decision was refused."""


class CaseRefused(DomainError):
    """A case or order could not be created or changed."""
