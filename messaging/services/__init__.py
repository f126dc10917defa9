"""The services of the messaging domain: every write to conversations, messages, the outbox,
notes and templates goes through one of these. Reads are in ``messaging.selectors``."""

from .imports import (
    MAX_BATCH,
    WRITABLE_FIELDS,
    MessageImportRefused,
    MessageImportResult,
    case_messages,
    message_import,
    message_import_batch,
)
from .threads import threads_derive

__all__ = [
    "MAX_BATCH",
    "WRITABLE_FIELDS",
    "MessageImportRefused",
    "MessageImportResult",
    "case_messages",
    "message_import",
    "message_import_batch",
    "threads_derive",
]
