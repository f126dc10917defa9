"""The message log: a minimal record of the messages exchanged with customers, retailers and
platforms, per order or case. It is the data the response-time metrics read (Amazon's contact
response time, Tmall's first-response time, Faire's missed messages).

Messages are written only by ``messaging.services.message_import``; ``is_conversation_start``
and ``answered_at`` are derived there from the whole conversation, so they stay right whatever
order the messages arrive in.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Order
from marketplaces.models import Marketplace


class Direction(models.TextChoices):
    INBOUND = "in", _("Received by the seller")
    OUTBOUND = "out", _("Sent by the seller")


class Counterpart(models.TextChoices):
    """Who the seller is talking to."""

    CUSTOMER = "customer", _("Customer")
    RETAILER = "retailer", _("Retailer")  # Faire's buyers are shops
    PLATFORM = "platform", _("Platform")


class MessageChannel(models.TextChoices):
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Seller portal")
    PHONE = "phone", _("Phone")


# Counterparts whose messages the seller must answer in time (first-response clocks).
ANSWERED_COUNTERPARTS = frozenset({Counterpart.CUSTOMER, Counterpart.RETAILER})


class Message(models.Model):
    """One message, received or sent by the seller."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("message id on the marketplace"), max_length=100)
    conversation_id = models.CharField(
        _("conversation"),
        max_length=100,
        help_text=_("The marketplace's thread id; messages of one thread share it."),
    )
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    counterpart = models.CharField(_("with"), max_length=16, choices=Counterpart.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    sent_at = models.DateTimeField(_("sent at"))
    # When it reached the seller (inbound) or the counterpart (outbound); clocks start here.
    received_at = models.DateTimeField(_("received at"))
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)
    is_spam = models.BooleanField(_("spam"), default=False)
    received_while_paused = models.BooleanField(
        _("received while the shop was paused"), default=False
    )
    no_response_needed = models.BooleanField(
        _("no response needed"),
        default=False,
        help_text=_("Marked as needing no answer on the marketplace (Amazon)."),
    )
    # Derived from the conversation by the import service.
    is_conversation_start = models.BooleanField(
        _("first message of the conversation"), default=False, editable=False
    )
    answered_at = models.DateTimeField(
        _("answered at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("For a received message: when the seller's next message in the thread left."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="message_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(received_at__gte=models.F("sent_at")),
                name="message_received_after_sent",
            ),
        ]
        indexes = [
            models.Index(
                fields=["marketplace", "direction", "received_at"], name="message_mkt_dir_received"
            ),
            models.Index(fields=["marketplace", "conversation_id"], name="message_conversation"),
            # The API's message list: newest first within the client's marketplaces.
            models.Index(fields=["marketplace", "sent_at"], name="message_mkt_sent"),
        ]

    def __str__(self) -> str:
        arrow = "←" if self.direction == Direction.INBOUND else "→"
        return f"{arrow} {self.get_counterpart_display()} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def response_time(self) -> dt.timedelta | None:
        if self.direction != Direction.INBOUND or self.answered_at is None:
            return None
        return self.answered_at - self.received_at
