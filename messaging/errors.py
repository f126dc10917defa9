"""Refusals of the messaging services (codes in ``cases.errors.ErrorCode``; the API turns them
into problem answers like the case domain's)."""

from cases.errors import DomainError


class MessagingRefused(DomainError):
    """A conversation, reply or note change was refused; nothing was written."""
