"""The kernel: the one path for every change of a case.

Every writer (admin, upload forms, API, jobs, imports) changes a case inside an action::

    with case_action(case_id, actor=actor, door=door, expected_version=3) as act:
        act.case.priority = Priority.HIGH               # change fields of the locked case
        act.event(DetailsChanged(before=..., after=...))  # say what happened (typed)
        act.on_commit(lambda: ...)                      # side effects, after commit only

``case_action`` locks the row (``SELECT ... FOR UPDATE``), checks the expected version, and
yields the case; on exit it recomputes the deadlines when their inputs changed, bumps
``version`` and ``updated_at`` when anything changed or happened, saves the fields that
changed, writes the events (``cases.events``) and queues the side effects to run once the
transaction commits. A refusal raised inside the block leaves nothing written.

Actions nest: an action on a case that is already under an action in this transaction (a refund
approval that moves the case, a file that completes an evidence request) joins the outer one, so
a change is saved and versioned once. ``case_actions_batch`` is the same for many cases at
once, in locked chunks (deadline refreshes, sweeps). ``case_opening`` is the action that creates
a case. Nothing else in the code base saves a case, bumps its version or writes its history.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed, has_transition_perm

from marketplaces.models import Marketplace

from . import workflows
from .actors import Actor
from .choices import ActorType, Door
from .deadlines import DEADLINE_FIELDS, DEADLINE_INPUTS, compute_deadlines
from .errors import CaseRefused, ErrorCode, TransitionOption, TransitionRefused
from .events import CaseEventPayload, DeadlinesRecomputed, Transitioned
from .models import Case, CaseEvent, Order
from .rows import ModelColumns, fetch
from .signals import case_event_recorded

BATCH_CHUNK = 500
# Cases saved alike in one batch from which one bulk UPDATE beats one UPDATE each.
BULK_UPDATE_FROM = 100
# Fields an action never compares or saves itself.
_BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at"})
_CASE_FIELDS = tuple(f.attname for f in Case._meta.concrete_fields if f.attname not in _BOOKKEEPING)

_active: contextvars.ContextVar[dict[int, CaseAction] | None] = contextvars.ContextVar(
    "cases_kernel_active_actions", default=None
)


@dataclass
class PendingEvent:
    """An event recorded in an action; ``row`` is its ``CaseEvent`` once the action is saved."""

    payload: CaseEventPayload
    occurred_at: dt.datetime
    note: str
    reason: str
    row: CaseEvent | None = None


class CaseAction:
    """One change of one locked case, in progress. Services change ``case``'s fields, call
    ``event`` for what happened and ``on_commit`` for what must follow after commit."""

    def __init__(self, case: Case, *, actor: Actor, door: Door, now: dt.datetime) -> None:
        self.case = case
        self.actor = actor
        self.door = door
        self.now = now
        self.created = False
        self.version_before = case.version
        self._before = _snapshot(case)
        self._events: list[PendingEvent] = []
        self._after_write: list[Callable[[], Any]] = []
        self._after_commit: list[Callable[[], Any]] = []

    # -- what services call ---------------------------------------------------------------------

    def event(
        self,
        payload: CaseEventPayload,
        *,
        occurred_at: dt.datetime | None = None,
        note: str = "",
        reason: str = "",
    ) -> PendingEvent:
        """Record ``payload`` in the case's history (written when the action ends)."""
        pending = PendingEvent(payload, occurred_at or self.now, note, reason)
        self._events.append(pending)
        return pending

    def after_write(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` in the transaction, once the case and its events are written (rows
        that point at an event, such as a deadline alert, are written here)."""
        self._after_write.append(callback)

    def on_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once the transaction commits (never if it rolls back)."""
        self._after_commit.append(callback)

    def transition(
        self,
        name: str,
        *,
        occurred_at: dt.datetime | None = None,
        note: str = "",
        reason: str = "",
        reason_code: str = "",
        evidence_request: int | None = None,
        source: str = "",
    ) -> None:
        """Run the workflow transition ``name`` on the case; raises ``TransitionRefused``.

        A refusal leaves the action as it was (a caller may catch it and carry on)."""
        fields, events = _snapshot(self.case), len(self._events)
        writes, after = len(self._after_write), len(self._after_commit)
        try:
            _run_transition(
                self,
                name,
                occurred_at=occurred_at,
                note=note,
                reason=reason,
                reason_code=reason_code,
                evidence_request=evidence_request,
                source=source,
            )
        except BaseException:
            self.case.__dict__.update(fields)
            del self._events[events:]
            del self._after_write[writes:]
            del self._after_commit[after:]
            raise

    def refresh_deadlines(self, *, cause: str) -> bool:
        """Recompute the deadline columns from the current calendar, policy and order; when
        they moved, record one ``deadlines_recomputed`` event. Returns whether they moved."""
        case = self.case
        before = {name: getattr(case, name) for name in DEADLINE_FIELDS}
        after = compute_deadlines(case, case.marketplace)
        moved = {name for name in DEADLINE_FIELDS if before[name] != after[name]}
        if not moved:
            return False
        for name in moved:
            setattr(case, name, after[name])
        self.event(
            DeadlinesRecomputed(
                cause=cause,
                before={name: _iso(before[name]) for name in sorted(moved)},
                after={name: _iso(after[name]) for name in sorted(moved)},
            )
        )
        return True

    # -- what the kernel reads ------------------------------------------------------------------

    def changed_fields(self) -> set[str]:
        after = _snapshot(self.case)
        return {name for name, value in after.items() if self._before[name] != value}

    @property
    def has_happened(self) -> bool:
        return bool(self._events) or bool(self.changed_fields())


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _snapshot(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in _CASE_FIELDS}


def _lock(pk: int) -> Case:
    """The case ``pk``, its row locked until the transaction ends, with its marketplace and
    order (whose marketplace is the case's), in one statement read by ``cases.rows``: every
    change of every door starts here, and the ORM's compiling of this four-table join cost
    more than the database's work."""
    if connection.features.has_select_for_update and not connection.in_atomic_block:
        raise TransactionManagementError("a case is locked inside a transaction only")
    case_columns, order_columns, marketplace_columns = _LOCK_COLUMNS
    quote = connection.ops.quote_name
    lock = ""
    if connection.features.has_select_for_update:
        of = ("c",) if connection.features.has_select_for_update_of else ()
        lock = connection.ops.for_update_sql(of=of)
    found = fetch(
        f"SELECT {case_columns.select()}, {order_columns.select()}, "
        f"{marketplace_columns.select()} FROM {quote(Case._meta.db_table)} c "
        f"JOIN {quote(Order._meta.db_table)} o ON o.id = c.order_id "
        f"JOIN {quote(Marketplace._meta.db_table)} m ON m.id = c.marketplace_id "
        f"WHERE c.id = %s {lock}",
        [pk],
    )
    if not found:
        raise CaseRefused(
            ErrorCode.NOT_FOUND, _("There is no case %(id)s.") % {"id": pk}, field="case"
        )
    (row,) = found
    case: Case = case_columns.instance(row)
    order = order_columns.instance(row, case_columns.count)
    marketplace = marketplace_columns.instance(row, case_columns.count + order_columns.count)
    Case.marketplace.field.set_cached_value(case, marketplace)
    Case.order.field.set_cached_value(case, order)
    if order.marketplace_id == marketplace.pk:
        Order.marketplace.field.set_cached_value(order, marketplace)
    return case


_LOCK_COLUMNS = (ModelColumns(Case, "c"), ModelColumns(Order, "o"), ModelColumns(Marketplace, "m"))


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise TransitionRefused(
            ErrorCode.CASE_CHANGED,
            _(
                "Case %(ref)s changed since you loaded it (version %(expected)s, now %(version)s,"
                " %(state)s). Reload it and try again."
            )
            % {
                "ref": case.reference,
                "expected": expected_version,
                "version": case.version,
                "state": case.get_state_display(),
            },
            available=available_transitions(case, Actor.system(), at=timezone.now()),
        )


@contextmanager
def _registered(acts: Iterable[CaseAction]) -> Iterator[None]:
    active = dict(_active.get() or {})
    for act in acts:
        active[act.case.pk] = act
    token = _active.set(active)
    try:
        yield
    finally:
        _active.reset(token)


@contextmanager
def case_action(
    case: Case | int,
    *,
    actor: Actor,
    door: Door,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Iterator[CaseAction]:
    """Lock ``case``, check ``expected_version``, yield the action; save and record on exit.

    Joins the action already open on the same case in this transaction, if any (the outer one
    saves). Raises ``TransitionRefused`` (code ``case_changed``) when the case's version is not
    ``expected_version``, ``CaseRefused`` (``not_found``) when there is no such case."""
    pk = case if isinstance(case, int) else case.pk
    outer = (_active.get() or {}).get(pk)
    if outer is not None:
        if expected_version is not None and expected_version != outer.version_before:
            _check_version(outer.case, expected_version)
        yield outer
        return
    with transaction.atomic():
        locked = _lock(pk)
        _check_version(locked, expected_version)
        act = CaseAction(locked, actor=actor, door=door, now=now or timezone.now())
        with _registered([act]):
            yield act
            _finish([act])
    if not isinstance(case, int) and case is not locked:
        _copy_into(locked, case)


def _copy_into(source: Case, target: Case) -> None:
    """Let the caller's instance see the saved case (services return the locked one; callers
    that keep their own object get its fields refreshed)."""
    for name in (*_CASE_FIELDS, "version", "updated_at"):
        target.__dict__[name] = source.__dict__[name]
    target._update_initial_state()


@contextmanager
def case_opening(
    case: Case, *, actor: Actor, door: Door, now: dt.datetime | None = None
) -> Iterator[CaseAction]:
    """Insert the new ``case`` (its deadlines computed) and yield its first action: what is
    recorded inside (the opening event, a first refund request...) belongs to version 1."""
    with transaction.atomic():
        case.version = 1
        for name, value in compute_deadlines(case, case.marketplace).items():
            setattr(case, name, value)
        case.save(force_insert=True)
        act = CaseAction(case, actor=actor, door=door, now=now or timezone.now())
        act.created = True
        with _registered([act]):
            yield act
            _finish([act])


def case_actions_batch(
    case_ids: Iterable[int],
    change: Callable[[CaseAction], None],
    *,
    actor: Actor,
    door: Door,
    chunk: int = BATCH_CHUNK,
    now: dt.datetime | None = None,
    prepare: Callable[[list[Case]], None] | None = None,
) -> int:
    """Run ``change`` on each case of ``case_ids``, each chunk locked and saved in one
    transaction (rows locked in id order, so two batches never deadlock). ``prepare`` sees each
    locked chunk first (to load, in one query, what ``change`` needs). Returns how many cases
    changed. A refusal raised by ``change`` rolls back its chunk, and stops the batch."""
    ids = sorted(set(case_ids))
    changed = 0
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            rows = list(
                Case.objects.select_for_update(of=("self",))
                .select_related("marketplace", "order__marketplace")
                .filter(pk__in=ids[start : start + chunk])
                .order_by("pk")
            )
            moment = now or timezone.now()
            acts = [CaseAction(case, actor=actor, door=door, now=moment) for case in rows]
            if prepare is not None:
                prepare(rows)
            with _registered(acts):
                for act in acts:
                    change(act)
                changed += _finish(acts)
    return changed


# -- ending an action ---------------------------------------------------------------------------


# One pass in the order the writes must happen (cases, deadlines, events, hooks); splitting it
# would scatter that order over several functions.
def _finish(acts: list[CaseAction]) -> int:  # noqa: C901, PLR0912
    """Save what the actions changed and write what they recorded; returns cases saved."""
    saved: list[tuple[Case, list[str]]] = []
    pending: list[tuple[CaseAction, PendingEvent]] = []
    for act in acts:
        case = act.case
        changed = act.changed_fields()
        if changed & DEADLINE_INPUTS:
            for name, value in compute_deadlines(case, case.marketplace).items():
                if getattr(case, name) != value:
                    setattr(case, name, value)
                    changed.add(name)
        if not changed and not act._events:
            continue
        if not (act.created and not changed):
            case.version += 1
            case.updated_at = act.now
            saved.append((case, sorted(changed)))
        pending.extend((act, event) for event in act._events)
    by_fields: dict[tuple[str, ...], list[Case]] = {}
    for case, fields in saved:
        by_fields.setdefault(tuple(fields), []).append(case)
    for same_fields, cases in by_fields.items():
        if len(cases) < BULK_UPDATE_FROM:
            # bulk_update's CASE over a few rows costs more to build than an UPDATE each.
            for case in cases:
                case.save(update_fields=[*same_fields, "version", "updated_at"])
        else:
            Case.objects.bulk_update(cases, [*same_fields, "version", "updated_at"])
    rows = [_event_row(act, event) for act, event in pending]
    if len(rows) == 1:
        rows[0].save()
    elif rows:
        rows = CaseEvent.objects.bulk_create(rows)
    for (_act, event), row in zip(pending, rows, strict=True):
        event.row = row
    for row in rows:
        case_event_recorded.send(sender=CaseEvent, event=row)
    for act in acts:
        act._before = _snapshot(act.case)
        act.version_before = act.case.version
        act._events = []
        for callback in act._after_write:
            callback()
        for callback in act._after_commit:
            transaction.on_commit(callback)
        act._after_write = []
        act._after_commit = []
    return len(saved)


def _event_row(act: CaseAction, event: PendingEvent) -> CaseEvent:
    actor = act.actor
    return CaseEvent(
        case=act.case,
        event_type=event.payload.type,
        **event.payload.columns(),
        actor_type=actor.type,
        actor_user=actor.user,
        actor_ref=actor.ref,
        actor_role=actor.role,
        actor_name=actor.name[:150],
        door=act.door,
        occurred_at=event.occurred_at,
        recorded_at=act.now,
        note=event.note,
        reason=event.reason,
        data=event.payload.params(),
    )


# -- transitions --------------------------------------------------------------------------------


def _option(spec: workflows.TransitionSpec) -> TransitionOption:
    return TransitionOption(
        name=spec.name,
        target=spec.target.value,
        label=str(spec.label),
        requires_reason=spec.requires_reason,
        help_text=str(spec.help_text),
    )


def available_transitions(case: Case, actor: Actor, *, at: dt.datetime) -> list[TransitionOption]:
    """What ``actor`` can run on ``case`` at ``at``: in the kind's graph from the current state
    (django-fsm), permission held, every guard holding."""
    options = []
    for fsm_transition in case.get_available_state_transitions():
        spec = workflows.TRANSITIONS[fsm_transition.name]
        if not fsm_transition.has_perm(case, actor):
            continue
        if spec.refusal(case, at) is None:
            options.append(_option(spec))
    order = list(workflows.TRANSITIONS)
    return sorted(options, key=lambda option: order.index(option.name))


def check_not_future(moment: dt.datetime, *, field: str, now: dt.datetime) -> None:
    """The time of something that happened: aware, and not after ``now``."""
    if timezone.is_naive(moment):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE, _("The time must include a time zone offset."), field=field
        )
    if moment > now:
        raise CaseRefused(
            ErrorCode.OCCURRED_IN_FUTURE,
            _("The time %(moment)s is in the future; give the time it really happened.")
            % {"moment": moment.isoformat()},
            field=field,
        )


def _run_transition(
    act: CaseAction,
    name: str,
    *,
    occurred_at: dt.datetime | None,
    note: str,
    reason: str,
    reason_code: str,
    evidence_request: int | None,
    source: str,
) -> None:
    case, actor, now = act.case, act.actor, act.now
    at = occurred_at or now

    def refuse(code: ErrorCode, message: str, field: str | None = None) -> TransitionRefused:
        return TransitionRefused(
            code, message, available=available_transitions(case, actor, at=now), field=field
        )

    spec = workflows.TRANSITIONS.get(name)
    if spec is None or name not in workflows.kind_transitions(case.kind):
        raise refuse(
            ErrorCode.TRANSITION_UNKNOWN,
            _("'%(name)s' is not a transition of %(kind)s cases.")
            % {"name": name, "kind": case.get_kind_display()},
            field="transition",
        )
    method = getattr(case, name)
    if not can_proceed(method):
        raise refuse(
            ErrorCode.TRANSITION_NOT_AVAILABLE,
            _("'%(label)s' cannot be done on case %(ref)s while it is %(state)s.")
            % {"label": spec.label, "ref": case.reference, "state": case.get_state_display()},
        )
    if occurred_at is not None:
        try:
            check_not_future(occurred_at, field="occurred_at", now=now)
        except CaseRefused as refused:
            raise refuse(refused.code, refused.message, field="occurred_at") from refused
    floor = case.last_transition_at or case.opened_at
    if at < floor:
        raise refuse(
            ErrorCode.OCCURRED_BEFORE_PREVIOUS,
            _(
                "The time %(at)s is before the case's last change (%(floor)s); transitions "
                "are recorded in the order they happened."
            )
            % {"at": at.isoformat(), "floor": floor.isoformat()},
            field="occurred_at",
        )
    # django-fsm types the user as a Django user; it only calls ``has_perm``, which Actor has.
    if not has_transition_perm(method, actor):  # type: ignore[arg-type]
        raise refuse(
            ErrorCode.PERMISSION_DENIED,
            _("'%(label)s' needs a supervisor; %(actor)s may not do it.")
            % {"label": spec.label, "actor": actor.name},
        )
    if spec.requires_reason and not reason.strip():
        raise refuse(
            ErrorCode.REASON_REQUIRED,
            _("'%(label)s' needs a reason.") % {"label": spec.label},
            field="reason",
        )
    problem = spec.refusal(case, at)
    if problem is not None:
        raise refuse(ErrorCode.CONDITION_FAILED, problem)
    from_state = case.state
    first_of_effects = len(act._events)
    method(act, workflows.TransitionStep(name, at, note, reason, reason_code))
    workflows.entered_state(case, at)
    case.last_transition_at = at
    if case.first_responded_at is None and actor.type != ActorType.SYSTEM:
        # A person acting on the case answers the customer (the response clock stops).
        case.first_responded_at = at
    transitioned = PendingEvent(
        Transitioned(
            transition=name,
            from_state=from_state,
            to_state=case.state,
            reason_code=reason_code,
            evidence_request=evidence_request,
            source=source,
        ),
        at,
        note,
        reason,
    )
    # The history reads "moved, then what the move did": before its effects' events.
    act._events.insert(first_of_effects, transitioned)
