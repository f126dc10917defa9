"""Messages to the customer about an evidence request: the link when it is made, and one
reminder before the deadline.

No e-mail leaves while a case row is locked. Sending is claimed first (a short transaction on
the request's row, so two workers never both send), the message is sent with no lock held, and
the result is recorded through the kernel. If sending fails the claim is released and a later
run tries again; a claim left by a worker that died is taken over after ``CLAIM_TIMEOUT``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ...actors import Actor
from ...choices import Audience, CaseState, Door
from ...events import MessageSent
from ...kernel import case_action
from ...models import EvidenceRequest

MESSAGE_LINK = "evidence_link"
MESSAGE_REMINDER = "evidence_reminder"
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
_FIELDS = {
    MESSAGE_LINK: ("link_emailed_at", "link_claimed_at"),
    MESSAGE_REMINDER: ("reminder_sent_at", "reminder_claimed_at"),
}


def reminders_due(*, at: dt.datetime, before: dt.timedelta) -> QuerySet[EvidenceRequest]:
    """Customer requests whose deadline falls within ``before`` of ``at``, still unanswered,
    not yet reminded, at least ``before`` old (a request due tomorrow that was sent an hour
    ago gets no reminder), on cases still awaiting evidence, with an e-mail address."""
    return (
        EvidenceRequest.objects.filter(
            audience=Audience.CUSTOMER,
            revoked_at__isnull=True,
            fulfilled_at__isnull=True,
            reminder_sent_at__isnull=True,
            due_at__gt=at,
            due_at__lte=at + before,
            created_at__lte=at - before,
            case__state=CaseState.AWAITING_EVIDENCE,
        )
        .filter(Q(reminder_claimed_at__isnull=True) | Q(reminder_claimed_at__lt=at - CLAIM_TIMEOUT))
        .exclude(case__order__customer_email="")
        .select_related("case__order", "case__marketplace")
        .order_by("due_at", "pk")
    )


def _claim(pk: int, kind: str, now: dt.datetime) -> EvidenceRequest | None:
    sent_field, claim_field = _FIELDS[kind]
    with transaction.atomic():
        request = (
            EvidenceRequest.objects.select_for_update(of=("self",))
            .select_related("case__order", "case__marketplace")
            .filter(pk=pk)
            .first()
        )
        if request is None or getattr(request, sent_field) is not None:
            return None
        case = request.case
        if request.revoked_at is not None or not case.is_open or not case.order.customer_email:
            return None
        claimed = getattr(request, claim_field)
        if claimed is not None and claimed > now - CLAIM_TIMEOUT:
            return None  # another worker is sending it
        setattr(request, claim_field, now)
        request.save(update_fields=[claim_field])
    return request


def _release(pk: int, kind: str) -> None:
    _sent_field, claim_field = _FIELDS[kind]
    EvidenceRequest.objects.filter(pk=pk).update(**{claim_field: None})


def evidence_request_send_message(
    *,
    evidence_request: EvidenceRequest | int,
    kind: str,
    send: Callable[[EvidenceRequest], str],
    actor: Actor,
    door: Door,
) -> bool:
    """Send one message about the request to the customer, once: ``kind`` is ``MESSAGE_LINK``
    (the link, when the request is made) or ``MESSAGE_REMINDER`` (before the deadline).
    ``send`` delivers it and returns the address it went to. Returns whether it was sent now."""
    if kind not in _FIELDS:
        raise ValueError(kind)
    pk = evidence_request if isinstance(evidence_request, int) else evidence_request.pk
    request = _claim(pk, kind, timezone.now())
    if request is None:
        return False
    try:
        send(request)  # returns the address: not kept in the event (personal data)
    except BaseException:
        _release(pk, kind)
        raise
    sent_field, claim_field = _FIELDS[kind]
    with case_action(request.case_id, actor=actor, door=door) as act:
        EvidenceRequest.objects.filter(pk=pk).update(**{sent_field: act.now, claim_field: None})
        act.event(MessageSent(message=kind, evidence_request=pk))
    return True
