"""Conversations with customers, retailers and platforms, and the messages in them.

* ``Conversation``: one thread of one marketplace (its external thread id), with who the seller
  is talking to, the order and case it is about, who works it and where it stands (``status``).
  Its clock columns are copied from its messages so that the inbox filters and sorts on them.
* ``Message``: one message received or sent by the seller, as it happened. It is the data the
  response-time metrics read (Amazon's contact response time, Tmall's first-response time,
  Faire's missed messages) and the inbox clocks read: the same rows, the same columns.
* ``OutboundMessage``: a reply written here, in the **outbox** until a connector (or the
  system's own e-mail) reports that it left; then it points at the ``Message`` it became.
* ``ConversationNote``: an internal note on a conversation (never sent).
* ``MessageTemplate``: answer templates per marketplace and language.
* ``MessageAlert``: a message clock the deadline sweep saw at risk or overdue (once each).

Derived columns (``is_conversation_start``, ``needs_response``, ``response_due_at``,
``response_at_risk_at``, ``answered_at``, ``answered_by`` and the conversation's copies) are
written only by ``messaging.services.threads.threads_derive`` from the whole conversation, so
they stay right whatever order messages arrive in. What each means:

* ``needs_response``: a received message the seller must answer (not spam, not marked "no
  response needed", from a counterpart the marketplace expects the seller to answer).
* ``response_due_at``: when its answer is due by the marketplace's rule
  (``messaging.rules``); empty when no clock runs: a message that needs no answer, a follow-up
  where only the first message is timed (Faire), a message received in Pause mode, a
  conversation the brand started, a marketplace with no published rule.
* ``answered_at``: when the seller's next message in the thread **left** (``sent_at`` of the
  first outbound message sent at or after it was received: an imported one, or an outbox reply
  once a connector or the e-mail backend confirmed it); ``answered_by`` is that reply's author.
* on time: ``answered_at <= response_due_at``; late: answered after, or unanswered past due.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cases.models import CUSTOMER_LANGUAGES, Case, Order
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


class Topic(models.TextChoices):
    PRE_SALE = "pre_sale", _("Before the sale")
    AFTER_SALE = "after_sale", _("After the sale")


class ConversationStatus(models.TextChoices):
    UNREAD = "unread", _("Unread")  # a new message nobody opened yet
    TO_DO = "to_do", _("To do")  # read, still to be answered or handled
    WAITING = "waiting_for_customer", _("Waiting for the customer")  # the seller answered
    DONE = "done", _("Done")
    SPAM = "spam", _("Spam")  # no clock, out of every metric


# Statuses of conversations still worked (the inbox's default list).
OPEN_STATUSES = (ConversationStatus.UNREAD, ConversationStatus.TO_DO, ConversationStatus.WAITING)

# Counterparts whose messages the seller must answer in time (first-response clocks).
ANSWERED_COUNTERPARTS = frozenset({Counterpart.CUSTOMER, Counterpart.RETAILER})


class Conversation(models.Model):
    """One thread of one marketplace, and where it stands in the support team's work."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(
        _("conversation id on the marketplace"),
        max_length=100,
        help_text=_("The marketplace's thread id; messages of one thread share it."),
    )
    counterpart = models.CharField(_("with"), max_length=16, choices=Counterpart.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=MessageChannel.choices)
    topic = models.CharField(
        _("before or after the sale"),
        max_length=16,
        choices=Topic.choices,
        default=Topic.AFTER_SALE,
    )
    language = models.CharField(
        _("language"), max_length=10, choices=CUSTOMER_LANGUAGES, blank=True
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    # The first line of the first message, for lists of threads without a subject.
    preview = models.CharField(_("first line"), max_length=200, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=ConversationStatus.choices,
        default=ConversationStatus.UNREAD,
    )
    # Where replies go when the system e-mails them itself (Amazon's buyer relay address).
    reply_to = models.EmailField(_("reply address"), blank=True)

    # Derived from the messages (``messaging.services.threads``).
    brand_started = models.BooleanField(_("started by the brand"), default=False, editable=False)
    first_message_at = models.DateTimeField(_("first message"), null=True, editable=False)
    last_message_at = models.DateTimeField(_("last message"), null=True, editable=False)
    last_inbound_at = models.DateTimeField(_("last received"), null=True, editable=False)
    last_outbound_at = models.DateTimeField(_("last sent"), null=True, editable=False)
    awaiting_response = models.BooleanField(
        _("needs an answer"),
        default=False,
        editable=False,
        help_text=_("A received message that needs an answer has none yet."),
    )
    awaiting_since = models.DateTimeField(_("waiting since"), null=True, editable=False)
    # The earliest clock of its unanswered messages (empty: no clock runs).
    response_due_at = models.DateTimeField(_("answer due"), null=True, editable=False)
    response_at_risk_at = models.DateTimeField(_("at risk from"), null=True, editable=False)
    message_count = models.PositiveIntegerField(_("messages"), default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "external_id"], name="conversation_unique_external_id"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ConversationStatus.values),
                name="conversation_status_valid",
            ),
        ]
        indexes = [
            # The inbox, most urgent first (``messaging.selectors.inbox_queryset``'s order):
            # open conversations by due time, then waiting longest, then newest.
            models.Index(
                F("response_due_at").asc(),
                F("awaiting_since").asc(),
                F("last_message_at").desc(),
                F("id").desc(),
                condition=Q(status__in=["unread", "to_do", "waiting_for_customer"]),
                name="conversation_open_due",
            ),
            models.Index(
                F("marketplace"),
                F("response_due_at").asc(),
                F("awaiting_since").asc(),
                F("last_message_at").desc(),
                F("id").desc(),
                condition=Q(status__in=["unread", "to_do", "waiting_for_customer"]),
                name="conversation_open_mkt_due",
            ),
            models.Index(
                F("assignee"),
                F("response_due_at").asc(),
                F("awaiting_since").asc(),
                condition=Q(status__in=["unread", "to_do", "waiting_for_customer"]),
                name="conversation_open_assignee",
            ),
            models.Index(fields=["response_at_risk_at"], name="conversation_at_risk"),
            models.Index(fields=["status", "last_message_at"], name="conversation_status_last"),
            models.Index(fields=["case"], name="conversation_case"),
            models.Index(fields=["order"], name="conversation_order"),
        ]

    def __str__(self) -> str:
        return self.subject or self.preview or self.external_id

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    """One message, received or sent by the seller."""

    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(_("message id on the marketplace"), max_length=100)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
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
    # When it left its author (for the seller's replies: the time it left, as confirmed).
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
        help_text=_("Marked as needing no answer (Amazon): out of the clock and the metric."),
    )
    # The staff member who wrote a reply sent from the outbox (empty for imported messages).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    # Derived from the conversation (see the module's docstring).
    is_conversation_start = models.BooleanField(
        _("first message of the conversation"), default=False, editable=False
    )
    needs_response = models.BooleanField(_("needs an answer"), default=False, editable=False)
    response_due_at = models.DateTimeField(_("answer due"), null=True, blank=True, editable=False)
    response_at_risk_at = models.DateTimeField(
        _("answer at risk from"), null=True, blank=True, editable=False
    )
    answered_at = models.DateTimeField(
        _("answered at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("For a received message: when the seller's next message in the thread left."),
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("answered by"),
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
            models.Index(fields=["conversation", "sent_at"], name="message_thread"),
            # The API's message list: newest first within the client's marketplaces.
            models.Index(fields=["marketplace", "sent_at"], name="message_mkt_sent"),
            # The sweep and the lists: unanswered clocks by due time.
            models.Index(
                fields=["response_due_at"],
                condition=Q(answered_at__isnull=True, response_due_at__isnull=False),
                name="message_open_clock",
            ),
            models.Index(fields=["response_due_at"], name="message_response_due"),
        ]

    def __str__(self) -> str:
        arrow = "←" if self.direction == Direction.INBOUND else "→"
        return f"{arrow} {self.get_counterpart_display()} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def response_time(self) -> dt.timedelta | None:
        if self.direction != Direction.INBOUND or self.answered_at is None:
            return None
        return self.answered_at - self.received_at

    @property
    def answered_in_time(self) -> bool | None:
        """On time by the marketplace's rule; None while its clock runs or when none runs."""
        if self.response_due_at is None:
            return None
        if self.answered_at is None:
            return None
        return self.answered_at <= self.response_due_at


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")  # waiting for a connector (or the e-mail task)
    SENDING = "sending", _("Sending")  # claimed by the e-mail task
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")  # the reason says why; the agent can edit and retry


class OutboundMessage(models.Model):
    """A reply written in the system, from the outbox to the marketplace.

    ``body`` is what the agent wrote; ``text`` is what the marketplace will receive after its
    content rules (plain text where it takes no HTML). Once sent it becomes ``message``, the
    row the clocks and metrics read, dated when it left."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="outbound_messages"
    )
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    author_name = models.CharField(_("written by"), max_length=150, blank=True)
    template = models.ForeignKey(
        "MessageTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("as written"))
    is_html = models.BooleanField(_("written as HTML"), default=False)
    text = models.TextField(_("as the marketplace receives it"))
    text_is_html = models.BooleanField(_("sent as HTML"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    # Replies the system sends itself through the e-mail backend (marketplace profile).
    by_email = models.BooleanField(_("sent by the system's e-mail"), default=False)
    email_to = models.EmailField(_("e-mailed to"), blank=True)
    queued_at = models.DateTimeField(_("queued at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("left at"), null=True, blank=True)
    marketplace_message_id = models.CharField(
        _("message id on the marketplace"), max_length=100, blank=True
    )
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    failure_reason = models.TextField(_("why it failed"), blank=True)
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbox")
        ordering = ["queued_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbound_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(failure_reason=""),
                name="outbound_failed_has_reason",
            ),
        ]
        indexes = [
            # The connectors' pull: queued messages of their marketplaces, oldest first.
            models.Index(
                fields=["marketplace", "queued_at", "id"],
                condition=Q(status="queued"),
                name="outbound_queued",
            ),
            models.Index(fields=["conversation", "queued_at"], name="outbound_thread"),
        ]

    def __str__(self) -> str:
        return f"→ {self.conversation_id} ({self.get_status_display()})"


def outbound_attachment_path(instance: OutboundAttachment, filename: str) -> str:
    return f"outbox/{instance.outbound_id}/{filename}"


class OutboundAttachment(models.Model):
    """A file sent with a reply (only where the marketplace takes attachments)."""

    outbound = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=outbound_attachment_path)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class ConversationNote(models.Model):
    """An internal note on a conversation, never sent. On a case, the note is also in the
    case's history (``cases.services.case_note_add``); ``case`` says which case had it."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(_("written by"), max_length=150)
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_thread")]

    def __str__(self) -> str:
        return self.text[:60]


class MessageTemplate(models.Model):
    """An answer template, for one marketplace (or all) and one language.

    ``body`` takes placeholders written ``{{ name }}`` (``messaging.templates.PLACEHOLDERS``);
    it may be HTML (``is_html``): on a marketplace that takes none it is converted to text."""

    name = models.CharField(_("name"), max_length=100)
    marketplace = models.ForeignKey(
        Marketplace,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: offered on every marketplace."),
    )
    language = models.CharField(_("language"), max_length=10, choices=CUSTOMER_LANGUAGES)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    is_html = models.BooleanField(_("written as HTML"), default=False)
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("answer template")
        verbose_name_plural = _("answer templates")
        ordering = ["name", "language", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "language", "marketplace"],
                name="message_template_unique_per_marketplace",
            ),
            models.UniqueConstraint(
                fields=["name", "language"],
                condition=Q(marketplace__isnull=True),
                name="message_template_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def clean(self) -> None:
        from .templates import template_errors

        errors = template_errors(subject=self.subject, body=self.body)
        if errors:
            from django.core.exceptions import ValidationError

            raise ValidationError(errors)


class AlertLevel(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    OVERDUE = "overdue", _("Overdue")


class MessageAlert(models.Model):
    """A message clock the deadline sweep saw at risk or overdue: once per (message, level,
    due time); ``notified_at``/``notified_to`` follow ``jobs.notify.send_claimed``."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="alerts")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(_("level"), max_length=10, choices=AlertLevel.choices)
    due_at = models.DateTimeField(_("due at"))
    detected_at = models.DateTimeField(_("detected at"))
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_to = models.TextField(_("notified"), blank=True)

    class Meta:
        verbose_name = _("message clock alert")
        verbose_name_plural = _("message clock alerts")
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "level", "due_at"], name="message_alert_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["detected_at"],
                condition=Q(notified_at__isnull=True),
                name="message_alert_unnotified",
            ),
            models.Index(
                fields=["notified_at"],
                condition=Q(notified_to__startswith="claimed:"),
                name="message_alert_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} {self.get_level_display()}"
