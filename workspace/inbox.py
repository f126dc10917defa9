"""What the inbox, the conversation page and the case page's conversations show, and the
composer's state between a refused (or previewed) reply and the page that shows it again.

The reads are ``messaging.selectors`` (``inbox_list``, ``conversation_detail``); the writes are
``messaging.services``. This module turns the inbox's query string into the selector's filters
(a bad value is dropped and said, never a 500), and reads the threads of a case in a fixed
number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import CUSTOMER_LANGUAGES, Case
from marketplaces.models import Marketplace
from messaging.models import (
    OPEN_STATUSES,
    Conversation,
    ConversationNote,
    ConversationStatus,
    Message,
    OutboundMessage,
    OutboxStatus,
    Topic,
)
from messaging.selectors import Clock, ClockState, ThreadItem, clock_state

from .templatetags.workspace_tags import duration_text

PAGE_SIZES = (25, 50, 100, 200)
COMPOSER_KEY = "workspace_composer"


class InboxFilterForm(forms.Form):
    """The inbox's filters, from its query string."""

    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            ("", gettext_lazy("Open (unread, to do, waiting)")),
            *ConversationStatus.choices,
            ("all", gettext_lazy("Any status")),
        ],
    )
    marketplace = forms.MultipleChoiceField(
        label=gettext_lazy("Marketplace"), required=False, choices=()
    )
    needs = forms.ChoiceField(
        label=gettext_lazy("Needs an answer"),
        required=False,
        choices=[("", "—"), ("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
    )
    clock = forms.ChoiceField(
        label=gettext_lazy("Answer clock"),
        required=False,
        choices=[
            ("", "—"),
            ("overdue", gettext_lazy("Overdue")),
            ("at_risk", gettext_lazy("At risk")),
            ("late_or_at_risk", gettext_lazy("Overdue or at risk")),
            ("running", gettext_lazy("Clock running")),
        ],
    )
    who = forms.ChoiceField(
        label=gettext_lazy("Assignee"),
        required=False,
        choices=[
            ("", gettext_lazy("Anyone")),
            ("mine", gettext_lazy("Mine")),
            ("unassigned", gettext_lazy("Unassigned")),
            ("mine_or_unassigned", gettext_lazy("Mine or unassigned")),
        ],
    )
    topic = forms.ChoiceField(
        label=gettext_lazy("Before or after the sale"),
        required=False,
        choices=[("", "—"), *Topic.choices],
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), required=False, choices=[("", "—"), *CUSTOMER_LANGUAGES]
    )
    case = forms.ChoiceField(
        label=gettext_lazy("Linked to a case"),
        required=False,
        choices=[("", "—"), ("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
    )
    size = forms.TypedChoiceField(
        label=gettext_lazy("Per page"),
        required=False,
        coerce=int,
        empty_value=50,  # type: ignore[arg-type]  # returned as given: an int, as coerce gives
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
    )
    p = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def __init__(self, data: Any, *, marketplaces: list[Marketplace]) -> None:
        super().__init__(data)
        marketplace = self.fields["marketplace"]
        if not isinstance(marketplace, forms.ChoiceField):  # declared one above
            raise TypeError("InboxFilterForm.marketplace must be a choice field")
        marketplace.choices = [(m.code, m.name) for m in marketplaces]
        self._marketplaces = {m.code: m.pk for m in marketplaces}

    def selector_filters(self, user: Any) -> dict[str, Any]:
        """The filters of ``messaging.selectors.inbox_queryset`` (valid fields only)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        filters: dict[str, Any] = {"user": user}
        status = data.get("status") or ""
        if status == "all":
            filters["statuses"] = None
        elif status:
            filters["statuses"] = [status]
        else:
            filters["statuses"] = OPEN_STATUSES
        codes = data.get("marketplace") or []
        if codes:
            filters["marketplaces"] = [self._marketplaces[code] for code in codes]
        if data.get("needs"):
            filters["needs_answer"] = data["needs"] == "yes"
        if data.get("clock"):
            filters["clock"] = data["clock"]
        who = data.get("who") or ""
        filters["mine"] = who in ("mine", "mine_or_unassigned")
        filters["unassigned"] = who in ("unassigned", "mine_or_unassigned")
        if data.get("topic"):
            filters["topic"] = data["topic"]
        if data.get("language"):
            filters["language"] = data["language"]
        if data.get("case"):
            filters["on_case"] = data["case"] == "yes"
        return filters


def inbox_filters(request: Any, marketplaces: list[Marketplace]) -> tuple[InboxFilterForm, list]:
    """The form of the inbox's filters and the messages of those it could not apply (bad
    values are dropped, the rest applies)."""
    form = InboxFilterForm(request.GET, marketplaces=marketplaces)
    problems: list[str] = []
    if not form.is_valid():
        for name in list(form.errors):
            label = form.fields[name].label if name in form.fields else name
            problems.append(
                _("The filter “%(filter)s” was not applied: %(problem)s")
                % {"filter": label or name, "problem": " ".join(map(str, form.errors[name]))}
            )
        kept = request.GET.copy()
        for name in form.errors:
            kept.pop(name, None)
        form = InboxFilterForm(kept, marketplaces=marketplaces)
        form.is_valid()
    return form, problems


@dataclass(frozen=True)
class ClockBadge:
    css: str  # overdue, at-risk, on-track
    text: str
    due_at: dt.datetime


def clock_badge(clock: Clock) -> ClockBadge | None:
    """ "3 h 10 min left" / "overdue by 2 h 5 min", for a running clock."""
    if clock.state == ClockState.NONE or clock.due_at is None or clock.left is None:
        return None
    if clock.state == ClockState.OVERDUE:
        return ClockBadge(
            "overdue",
            _("overdue by %(duration)s") % {"duration": duration_text(-clock.left)},
            clock.due_at,
        )
    css = "at-risk" if clock.state == ClockState.AT_RISK else "on-track"
    return ClockBadge(
        css, _("%(duration)s left") % {"duration": duration_text(clock.left)}, clock.due_at
    )


@dataclass(frozen=True)
class InboxLine:
    """One row of the inbox, with its labels already in the reader's language (a list of 200
    rows would otherwise translate each choice label once per row)."""

    conversation: Conversation
    badge: ClockBadge | None
    due_local: str
    counterpart: str
    channel: str
    topic: str
    status: str
    assignee: str


def inbox_lines(rows: list[Any]) -> list[InboxLine]:
    """``messaging.selectors.InboxRow`` rows as the inbox shows them."""
    from django.utils import timezone

    from messaging.models import Counterpart, MessageChannel

    labels = {
        model: {value: str(label) for value, label in model.choices}
        for model in (Counterpart, MessageChannel, Topic, ConversationStatus)
    }
    lines = []
    for row in rows:
        conversation = row.conversation
        badge = clock_badge(row.clock)
        due_local = ""
        if badge is not None:
            moment = timezone.localtime(badge.due_at, conversation.marketplace.tz)
            due_local = moment.strftime("%Y-%m-%d %H:%M")
        user = conversation.assignee
        lines.append(
            InboxLine(
                conversation=conversation,
                badge=badge,
                due_local=due_local,
                counterpart=labels[Counterpart].get(conversation.counterpart, ""),
                channel=labels[MessageChannel].get(conversation.channel, ""),
                topic=labels[Topic].get(conversation.topic, ""),
                status=labels[ConversationStatus].get(conversation.status, ""),
                assignee=(user.get_full_name() or user.get_username()) if user else "",
            )
        )
    return lines


# -- the threads of a case ----------------------------------------------------------------------


@dataclass
class CaseThread:
    conversation: Conversation
    clock: Clock
    badge: ClockBadge | None
    thread: list[ThreadItem] = field(default_factory=list)


def case_threads(case: Case, *, at: dt.datetime) -> list[CaseThread]:
    """The conversations filed on ``case`` with their threads (messages, replies not sent
    yet, internal notes), in four queries whatever their number."""
    conversations = list(
        Conversation.objects.filter(case=case)
        .select_related("marketplace", "assignee")
        .order_by("-last_message_at", "-pk")
    )
    if not conversations:
        return []
    ids = [c.pk for c in conversations]
    items: dict[int, list[ThreadItem]] = {pk: [] for pk in ids}
    for message in Message.objects.filter(conversation_id__in=ids).select_related("author"):
        items[message.conversation_id].append(ThreadItem("message", message.sent_at, message))
    for outbound in OutboundMessage.objects.filter(conversation_id__in=ids).exclude(
        status=OutboxStatus.SENT
    ):
        items[outbound.conversation_id].append(ThreadItem("outbound", outbound.queued_at, outbound))
    for note in ConversationNote.objects.filter(conversation_id__in=ids):
        items[note.conversation_id].append(ThreadItem("note", note.created_at, note))
    threads = []
    for conversation in conversations:
        clock = clock_state(conversation.response_due_at, conversation.response_at_risk_at, at=at)
        thread = sorted(items[conversation.pk], key=lambda item: item.at)
        threads.append(CaseThread(conversation, clock, clock_badge(clock), thread))
    return threads


# -- the composer between two pages ----------------------------------------------------------------


def composer_keep(request: Any, conversation_id: int, state: dict[str, Any]) -> None:
    """Keep what was typed (and the preview or the refusal) for the next page view."""
    request.session[COMPOSER_KEY] = {"conversation": conversation_id, **state}


def composer_pop(request: Any, conversation_id: int) -> dict[str, Any] | None:
    state = request.session.get(COMPOSER_KEY)
    if state and state.get("conversation") == conversation_id:
        del request.session[COMPOSER_KEY]
        return state
    return None
