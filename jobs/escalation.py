"""Late-shipment escalation, from order data (docs/domain.md §2).

1. An order the seller ships itself, past its promised ship date (the promised local day is
   over), not shipped, not cancelled and without a case about not shipping (late shipment,
   out of stock, oversized, cancellation), gets a ``late_shipment`` case through ``case_open``
   (external id ``late-shipment:<order id>``, so a re-run finds it instead of opening another).
   Orders whose promised date is older than ``LOOKBACK_DAYS`` are left alone: an import of old
   history must not open a case for every order of last year.
2. From 2 days late (the case's ``supplier_contact_due_at``, the marketplace's midnight) the
   assignee, or the team, is told to contact the supplier; from 4 days late
   (``supplier_switch_due_at``) to switch supplier. Each step once per case
   (``LateShipmentNotice``), with a note in the case history.

The job does not move the case: contacting or switching the supplier is a person's act, and the
transition records who did it. (The deadline sweep records the supplier clocks as deadlines
too, but leaves telling people to this job.)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial

from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases.actors import Actor
from cases.choices import CaseKind, CaseState, Door, FulfilmentChannel
from cases.events import SupplierEscalation
from cases.kernel import CaseAction, case_actions_batch
from cases.models import Case, Order
from cases.services import case_open
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from .models import EscalationStep, LateShipmentNotice
from .notify import NoticeLine, case_url, send_claimed

logger = logging.getLogger(__name__)
ESCALATION_ACTOR = Actor.system("late-shipment escalation")
LOOKBACK_DAYS = 30
# An order that already has a case about not shipping (late, out of stock, too big, cancelled)
# is being worked: no late-shipment case on top of it.
PRE_SHIPMENT_KINDS = (
    CaseKind.LATE_SHIPMENT,
    CaseKind.OUT_OF_STOCK,
    CaseKind.OVERSIZED,
    CaseKind.CANCELLATION,
)
BATCH = 500
# The e-mail to the team says, in English, what to do (the timeline renders the event).
STEP_TEXT: dict[str, str] = {
    EscalationStep.CONTACT_SUPPLIER: "2 days late: contact the supplier to push the shipment",
    EscalationStep.SWITCH_SUPPLIER: "4 days late: take it as a stock problem and switch to "
    "another supplier",
}


@dataclass
class EscalationResult:
    cases_opened: int = 0
    notices_created: int = 0
    emails_sent: int = 0


def late_case_external_id(order: Order) -> str:
    return f"late-shipment:{order.pk}"


def late_shipments_escalate(
    *, at: dt.datetime | None = None, lookback_days: int = LOOKBACK_DAYS
) -> EscalationResult:
    """Open the missing late-shipment cases, record the supplier steps now due, notify."""
    at = at or timezone.now()
    result = EscalationResult()
    for marketplace in Marketplace.objects.filter(is_active=True).order_by("pk"):
        result.cases_opened += _open_cases(marketplace, at, lookback_days)
    result.notices_created = _record_steps(at)
    result.emails_sent = notify_late_shipments(at=at)
    logger.info(
        "Late-shipment escalation: %s cases opened, %s notices, %s e-mails",
        result.cases_opened,
        result.notices_created,
        result.emails_sent,
    )
    return result


def late_orders(marketplace: Marketplace, at: dt.datetime, lookback_days: int = LOOKBACK_DAYS):
    """Orders of ``marketplace`` late at ``at`` that no case is about yet."""
    today = calendar_for(marketplace).local_date(at)
    return (
        Order.objects.filter(
            marketplace=marketplace,
            fulfilled_by=FulfilmentChannel.SELLER,
            shipped_at__isnull=True,
            cancelled_at__isnull=True,
            promised_ship_date__lt=today,
            promised_ship_date__gte=today - dt.timedelta(days=lookback_days),
            placed_at__lte=at,
        )
        .exclude(Exists(Case.objects.filter(order=OuterRef("pk"), kind__in=PRE_SHIPMENT_KINDS)))
        .order_by("pk")
    )


def _open_cases(marketplace: Marketplace, at: dt.datetime, lookback_days: int) -> int:
    opened = 0
    last_pk = 0
    while True:
        batch = list(late_orders(marketplace, at, lookback_days).filter(pk__gt=last_pk)[:BATCH])
        if not batch:
            return opened
        last_pk = batch[-1].pk
        for order in batch:
            order.marketplace = marketplace
            _case, created = case_open(
                marketplace=marketplace,
                order=order,
                kind=CaseKind.LATE_SHIPMENT,
                actor=ESCALATION_ACTOR,
                door=Door.JOB,
                opened_at=at,
                external_id=late_case_external_id(order),
                description=f"Not shipped on the promised date ({order.promised_ship_date}).",
            )
            opened += created


def _due_step(case: Case, at: dt.datetime) -> EscalationStep | None:
    switch_from = case.supplier_switch_due_at
    if switch_from is not None and at >= switch_from:
        return EscalationStep.SWITCH_SUPPLIER
    if case.state == CaseState.NEW:
        return EscalationStep.CONTACT_SUPPLIER
    return None  # supplier contacted, not yet 4 days late


def _record_steps(at: dt.datetime) -> int:
    created = 0
    candidates = (
        Case.objects.open()
        .filter(
            kind=CaseKind.LATE_SHIPMENT,
            state__in=[CaseState.NEW, CaseState.SUPPLIER_CONTACTED],
            order__shipped_at__isnull=True,
            supplier_contact_due_at__lte=at,
        )
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(candidates.filter(pk__gt=last_pk)[:BATCH])
        if not batch:
            return created
        last_pk = batch[-1].pk
        due = {case.pk: step for case in batch if (step := _due_step(case, at)) is not None}
        if not due:
            continue
        seen: set[tuple[int, str]] = set()

        def prepare(cases: list[Case], seen: set[tuple[int, str]] = seen) -> None:
            # Under the lock: an overlapping run may have recorded some meanwhile.
            seen.clear()
            seen.update(
                LateShipmentNotice.objects.filter(case__in=cases).values_list("case_id", "step")
            )

        def record(
            act: CaseAction,
            due: dict[int, EscalationStep] = due,
            seen: set[tuple[int, str]] = seen,
        ) -> None:
            nonlocal created
            case = act.case
            step = _due_step(case, at)  # again, on the locked row
            if step is None or step != due.get(case.pk) or (case.pk, step) in seen:
                return
            due_at = (
                case.supplier_switch_due_at
                if step == EscalationStep.SWITCH_SUPPLIER
                else case.supplier_contact_due_at
            )
            if due_at is None:  # the order lost its promised date since it was read: no clock
                return
            act.event(SupplierEscalation(step=str(step), due_at=due_at.isoformat()), occurred_at=at)
            act.after_write(
                partial(
                    LateShipmentNotice.objects.create,
                    case=case,
                    step=step,
                    due_at=due_at,
                    detected_at=at,
                )
            )
            created += 1

        case_actions_batch(
            due, record, actor=ESCALATION_ACTOR, door=Door.JOB, prepare=prepare, now=at
        )


def _notice_line(notice: LateShipmentNotice) -> NoticeLine:
    case = notice.case
    return NoticeLine(
        reference=case.reference,
        marketplace=case.marketplace.name,
        kind=case.get_kind_display(),
        text=STEP_TEXT[notice.step],
        url=case_url(case),
    )


def notify_late_shipments(*, at: dt.datetime | None = None) -> int:
    return send_claimed(
        LateShipmentNotice.objects.all(),
        at=at or timezone.now(),
        line=_notice_line,
        subject=lambda n: f"[aftersales] {n} late shipment(s): act on the supplier",
        template="jobs/email/late_shipments",
    )
