"""Opening cases, moving them through their workflow, and the descriptive changes agents make.

Every function here is a thin layer over the kernel (``cases.kernel``): it checks the shape of
what it is given, then changes the case inside one action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..actors import Actor
from ..choices import CaseKind, Door, Priority
from ..errors import CaseRefused, ErrorCode, TransitionOption
from ..events import Assigned, CaseOpened, DetailsChanged, FirstResponseRecorded, NoteAdded
from ..kernel import available_transitions, case_action, case_opening, check_not_future
from ..models import Case, CaseReferenceSequence, Order

MAX_NOTE = 10_000


def _next_reference(year: int) -> str:
    """The next reference of ``year``; the sequence row stays locked until commit, which also
    serialises concurrent openings (see ``case_open``)."""
    sequence, _created = CaseReferenceSequence.objects.select_for_update().get_or_create(year=year)
    CaseReferenceSequence.objects.filter(pk=year).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db()
    return f"AS-{year}-{sequence.last_value:06d}"


def case_kind_check(kind: Any) -> CaseKind:
    if kind not in CaseKind.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("%(kind)s is not a case kind. Kinds: %(kinds)s.")
            % {"kind": str(kind)[:40], "kinds": ", ".join(CaseKind.values)},
            field="kind",
        )
    return CaseKind(kind)


def case_open(
    *,
    marketplace: Marketplace,
    order: Order,
    kind: CaseKind | str,
    actor: Actor,
    door: Door,
    opened_at: dt.datetime | None = None,
    description: str = "",
    external_id: str | None = None,
    external_claim_id: str = "",
    priority: int = Priority.NORMAL,
    assignee: Any = None,
    refund_request: dict[str, Any] | None = None,
) -> tuple[Case, bool]:
    """Open a case, or return the existing one with the same ``external_id`` (created=False).

    Concurrent openings with the same ``external_id`` give one case: the others get it back."""
    kind = case_kind_check(kind)
    if order.marketplace_id != marketplace.pk:
        raise CaseRefused(
            ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
            _("Order %(order)s belongs to another marketplace.") % {"order": order.external_id},
            field="order",
        )
    now = timezone.now()
    opened_at = opened_at or now
    check_not_future(opened_at, field="opened_at", now=now)
    if opened_at < order.placed_at:
        raise CaseRefused(
            ErrorCode.OPENED_BEFORE_ORDER,
            _("A case cannot be opened before its order was placed (%(placed)s).")
            % {"placed": order.placed_at.isoformat()},
            field="opened_at",
        )
    if external_id:
        existing = Case.objects.filter(marketplace=marketplace, external_id=external_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            reference = _next_reference(opened_at.year)
            if external_id:
                # Checked again once the sequence lock is held: a concurrent opening of the same
                # case has committed by then, and its row is visible.
                existing = Case.objects.filter(
                    marketplace=marketplace, external_id=external_id
                ).first()
                if existing is not None:
                    return existing, False
            case = Case(
                reference=reference,
                marketplace=marketplace,
                order=order,
                kind=kind,
                opened_at=opened_at,
                description=description,
                external_id=external_id or None,
                external_claim_id=external_claim_id,
                priority=priority,
                assignee=assignee,
            )
            with case_opening(case, actor=actor, door=door, now=now) as act:
                # The description stays on the case (it may name the customer and can be
                # erased); the append-only opening event does not copy it.
                act.event(CaseOpened(kind=case.kind), occurred_at=opened_at)
                if refund_request:
                    from .refunds import refund_request_create

                    refund_request_create(case=case, actor=actor, door=door, **refund_request)
    except IntegrityError:
        # Another opening of the same external id won a race the sequence lock did not cover
        # (another year's sequence): theirs is the case.
        if not external_id:
            raise
        existing = Case.objects.filter(marketplace=marketplace, external_id=external_id).first()
        if existing is None:
            raise
        return existing, False
    return case, True


# -- transitions ------------------------------------------------------------------------------


def case_available_transitions(
    case: Case, actor: Actor, *, at: dt.datetime | None = None
) -> list[TransitionOption]:
    """What ``actor`` can run on ``case`` now: in the kind's graph from the current state,
    guards holding, permission held."""
    return available_transitions(case, actor, at=at or timezone.now())


def case_transition(
    *,
    case: Case | int,
    transition: str,
    actor: Actor,
    door: Door,
    occurred_at: dt.datetime | None = None,
    note: str = "",
    reason: str = "",
    reason_code: str = "",
    expected_version: int | None = None,
    evidence_request: int | None = None,
    source: str = "",
) -> Case:
    """Run ``transition`` on ``case``; returns the updated case.

    Raises ``TransitionRefused`` (nothing written) when the transition does not exist for the
    kind, does not start from the current state, a guard fails, the actor lacks the right, a
    reason is missing, ``occurred_at`` is in the future or before the last transition, or the
    case changed since ``expected_version``.
    """
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        act.transition(
            transition,
            occurred_at=occurred_at,
            note=note,
            reason=reason,
            reason_code=reason_code,
            evidence_request=evidence_request,
            source=source,
        )
    return act.case


def case_assign(
    *,
    case: Case | int,
    assignee: Any,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
) -> Case:
    """Give the case to ``assignee`` (None to unassign)."""
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        locked = act.case
        if locked.assignee_id != (assignee.pk if assignee else None):
            previous = locked.assignee.get_username() if locked.assignee else ""
            locked.assignee = assignee
            act.event(Assigned(before=previous, after=assignee.get_username() if assignee else ""))
    return act.case


def case_record_first_response(
    *,
    case: Case | int,
    responded_at: dt.datetime,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
) -> Case:
    """Record the first answer to the customer (stops the response clock). An earlier answer
    learnt later replaces a later one; a later one changes nothing."""
    check_not_future(responded_at, field="responded_at", now=timezone.now())
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        locked = act.case
        if locked.first_responded_at is None or responded_at < locked.first_responded_at:
            before = locked.first_responded_at
            locked.first_responded_at = responded_at
            act.event(
                FirstResponseRecorded(
                    responded_at=responded_at.isoformat(),
                    before=before.isoformat() if before else None,
                ),
                occurred_at=responded_at,
            )
    return act.case


EDITABLE_DETAILS = ("priority", "description", "external_claim_id")


def case_update_details(
    *,
    case: Case | int,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
    **details: Any,
) -> Case:
    """Change the descriptive fields of a case (priority, description, claim id)."""
    unknown = set(details) - set(EDITABLE_DETAILS)
    if unknown:
        raise CaseRefused(
            ErrorCode.UNKNOWN_FIELD,
            _("Not editable here: %(fields)s. Editable: %(editable)s.")
            % {"fields": ", ".join(sorted(unknown)), "editable": ", ".join(EDITABLE_DETAILS)},
            field=sorted(unknown)[0],
        )
    if "priority" in details and details["priority"] not in Priority.values:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("The priority must be one of: %(values)s.")
            % {"values": ", ".join(str(v) for v in Priority.values)},
            field="priority",
        )
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        locked = act.case
        changed = {k: v for k, v in details.items() if getattr(locked, k) != v}
        if changed:
            before = {k: str(getattr(locked, k)) for k in changed}
            for name, value in changed.items():
                setattr(locked, name, value)
            act.event(DetailsChanged(before=before, after={k: str(v) for k, v in changed.items()}))
    return act.case


def case_note_add(
    *,
    case: Case | int,
    text: str,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
) -> Case:
    """An internal note on the case's history (never sent to anyone)."""
    text = (text or "").strip()
    if not text:
        raise CaseRefused(ErrorCode.REQUIRED, _("Write the note first."), field="note")
    if len(text) > MAX_NOTE or "\x00" in text:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("A note is text of at most %(max)s characters.") % {"max": f"{MAX_NOTE:,}"},
            field="note",
        )
    with case_action(case, actor=actor, door=door, expected_version=expected_version) as act:
        act.event(NoteAdded(internal=True), note=text)
    return act.case
