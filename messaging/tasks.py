"""Background work of the messaging domain (django-q2): thin and idempotent, each task takes an
id and calls a service."""

from __future__ import annotations

import logging
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door

from .models import OutboundMessage, OutboxStatus
from .services.outbox import outbound_mark_failed, outbound_mark_sent

logger = logging.getLogger(__name__)
EMAIL_ACTOR = Actor.system("e-mail sender")


def send_outbound_email(outbound_id: int) -> str:
    """E-mail a queued reply to the conversation's relay address (Amazon's buyer-seller
    messages) through the configured backend. Claimed first (queued -> sending, one UPDATE) so
    two workers never send it twice; runs outside any transaction and any case lock. Success
    records the time it left with the e-mail's Message-ID; failure records the reason."""
    claimed = OutboundMessage.objects.filter(
        pk=outbound_id, status=OutboxStatus.QUEUED, by_email=True
    ).update(status=OutboxStatus.SENDING)
    if not claimed:
        return "not queued"
    outbound = OutboundMessage.objects.select_related("conversation").get(pk=outbound_id)
    message_id = make_msgid(domain=getattr(settings, "OUTBOUND_EMAIL_DOMAIN", None) or None)
    email = EmailMessage(
        subject=outbound.subject or outbound.conversation.subject or "",
        body=outbound.text,
        to=[outbound.email_to],
        headers={"Message-ID": message_id},
    )
    if outbound.text_is_html:
        email.content_subtype = "html"
    for attachment in outbound.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type)
    try:
        email.send()
    except Exception as exc:  # the backend's error is the reason the agent reads
        logger.warning("Outbound e-mail %s failed: %s", outbound_id, exc)
        OutboundMessage.objects.filter(pk=outbound_id).update(status=OutboxStatus.QUEUED)
        outbound_mark_failed(
            outbound=outbound_id, reason=f"E-mail not sent: {exc}", actor=EMAIL_ACTOR
        )
        return "failed"
    outbound_mark_sent(
        outbound=outbound_id,
        marketplace_message_id=message_id.strip("<>")[:100],
        sent_at=timezone.now(),
        actor=EMAIL_ACTOR,
        door=Door.JOB,
    )
    return "sent"


def refresh_marketplace_clocks(marketplace_id: int) -> int:
    """Recompute the clocks of a marketplace's unanswered messages (after a calendar or rule
    change)."""
    from .services.threads import marketplace_clocks_refresh

    return marketplace_clocks_refresh(marketplace_id)
