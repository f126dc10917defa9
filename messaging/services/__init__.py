"""The services of the messaging domain: every write to conversations, messages, the outbox,
notes and templates goes through one of these. Reads are in ``messaging.selectors``."""

from .composer import (
    ReplyPreview,
    conversation_start,
    reply_preview,
    reply_send,
    template_fill,
    templates_for,
    templates_for_each,
)
from .conversations import (
    case_prefill_from_message,
    conversation_attach_case,
    conversation_mark_read,
    conversation_note_add,
    conversation_open_case,
    conversations_assign,
    conversations_set_status,
    message_set_no_response_needed,
)
from .imports import (
    MAX_BATCH,
    WRITABLE_FIELDS,
    MessageImportRefused,
    MessageImportResult,
    case_messages,
    message_import,
    message_import_batch,
)
from .outbox import outbound_mark_failed, outbound_mark_sent, outbound_retry
from .threads import threads_derive

__all__ = [
    "MAX_BATCH",
    "WRITABLE_FIELDS",
    "MessageImportRefused",
    "MessageImportResult",
    "ReplyPreview",
    "case_messages",
    "case_prefill_from_message",
    "conversation_attach_case",
    "conversation_mark_read",
    "conversation_note_add",
    "conversation_open_case",
    "conversation_start",
    "conversations_assign",
    "conversations_set_status",
    "message_import",
    "message_import_batch",
    "message_set_no_response_needed",
    "outbound_mark_failed",
    "outbound_mark_sent",
    "outbound_retry",
    "reply_preview",
    "reply_send",
    "template_fill",
    "templates_for",
    "templates_for_each",
    "threads_derive",
]
