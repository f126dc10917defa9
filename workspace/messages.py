"""Messages of the ``messaging`` app on a case's timeline: those filed on the case, and those
on its order that no case claimed."""

from __future__ import annotations

from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from cases.models import Case

from .timeline import TimelineEntry

BODY_CHARS = 600


def message_entries(case: Case, *, limit: int) -> list[TimelineEntry]:
    from messaging.models import Direction, Message

    messages = (
        Message.objects.filter(Q(case=case) | Q(order_id=case.order_id, case__isnull=True))
        .exclude(is_spam=True)
        .order_by("-sent_at", "-pk")[:limit]
    )
    entries = []
    for message in messages:
        counterpart = message.get_counterpart_display()
        if message.direction == Direction.INBOUND:
            title = _("Message from %(who)s") % {"who": counterpart}
            actor = counterpart
        else:
            title = _("Message to %(who)s") % {"who": counterpart}
            actor = _("seller")
        entries.append(
            TimelineEntry(
                at=message.sent_at,
                recorded_at=None,
                category="message",
                title=title,
                detail=message.subject,
                actor=actor,
                door=message.get_channel_display(),
                note=Truncator(message.body).chars(BODY_CHARS),
                pk=-message.pk,
            )
        )
    return entries
