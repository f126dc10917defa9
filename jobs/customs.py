"""Customs clearance reminders: when a ``customs_delay`` case enters ``reminder_sent``, the
customer gets the clearance steps by e-mail, in their language, from a template staff edit.

Triggered by the transition's case event (``jobs.receivers``, after commit, as a django-q2
task). One e-mail per transition event: the ``ClearanceReminder`` row, unique per event, is
written before the e-mail leaves; a re-run finds it and sends nothing. If sending fails the row
is removed and the task fails, so django-q2 retries it.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template import Context, Template

from cases.actors import Actor
from cases.choices import CaseKind, Door
from cases.events import MessageNotSent, MessageSent
from cases.kernel import case_action
from cases.models import CUSTOMER_LANGUAGES, CaseEvent

from .clearance_texts import TEMPLATES
from .models import ClearanceReminder, ClearanceReminderTemplate, ReminderStatus

logger = logging.getLogger(__name__)
REMINDER_ACTOR = Actor.system("customs clearance reminder")
TRANSITION = "send_clearance_reminder"
LANGUAGES = {code for code, _ in CUSTOMER_LANGUAGES}


def clearance_template_for(marketplace, language: str) -> ClearanceReminderTemplate:
    """The marketplace's own template in ``language``, else the default one, else English; the
    shipped text when staff deleted them all (unsaved)."""
    language = language if language in LANGUAGES else "en"
    candidates = {
        (t.marketplace_id, t.language): t
        for t in ClearanceReminderTemplate.objects.filter(
            Q(marketplace=marketplace) | Q(marketplace__isnull=True),
            language__in={language, "en"},
        )
    }
    for key in ((marketplace.pk, language), (None, language), (marketplace.pk, "en"), (None, "en")):
        if key in candidates:
            return candidates[key]
    subject, body = TEMPLATES[language]
    return ClearanceReminderTemplate(language=language, subject=subject, body=body)


def _render(text: str, context: dict) -> str:
    return Template(text).render(Context(context, autoescape=False))


def clearance_reminder_send(*, event_id: int) -> ClearanceReminder | None:
    """E-mail the clearance steps for the transition event ``event_id`` (once)."""
    event = (
        CaseEvent.objects.select_related("case__order", "case__marketplace")
        .filter(pk=event_id, transition=TRANSITION)
        .first()
    )
    if event is None or event.case.kind != CaseKind.CUSTOMS_DELAY:
        return None
    existing = ClearanceReminder.objects.filter(event=event).first()
    if existing is not None:
        return existing
    case, order = event.case, event.case.order
    template = clearance_template_for(case.marketplace, order.customer_language)
    status = ReminderStatus.SENDING if order.customer_email else ReminderStatus.NO_ADDRESS
    try:
        with transaction.atomic():
            reminder = ClearanceReminder.objects.create(
                event=event,
                case=case,
                language=template.language,
                recipient=order.customer_email,
                template=template if template.pk else None,
                status=status,
            )
            if status == ReminderStatus.NO_ADDRESS:
                with case_action(case.pk, actor=REMINDER_ACTOR, door=Door.JOB) as act:
                    act.event(
                        MessageNotSent(
                            message="clearance_reminder",
                            problem="no_address",
                            clearance_reminder=reminder.pk,
                        )
                    )
    except IntegrityError:  # another run is sending it
        return ClearanceReminder.objects.filter(event=event).first()
    if status == ReminderStatus.NO_ADDRESS:
        return reminder
    context = {
        "customer_name": order.customer_name or order.customer_email,
        "order_id": order.external_id,
        "case_reference": case.reference,
        "marketplace": case.marketplace.name,
        "carrier": order.carrier or "the carrier",
        "tracking_number": order.tracking_number or "-",
        "destination_country": order.destination_country or "-",
    }
    message = EmailMessage(
        subject=" ".join(_render(template.subject, context).split()),
        body=_render(template.body, context),
        to=[order.customer_email],
    )
    try:
        message.send()
    except Exception:
        reminder.delete()
        raise
    with case_action(case.pk, actor=REMINDER_ACTOR, door=Door.JOB) as act:
        reminder.status = ReminderStatus.SENT
        reminder.sent_at = act.now
        reminder.save(update_fields=["status", "sent_at"])
        act.event(
            MessageSent(
                message="clearance_reminder",
                clearance_reminder=reminder.pk,
                language=template.language,
            )
        )
    return reminder
