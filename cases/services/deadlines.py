"""Refreshing stored deadlines when what they are computed from changes outside the case.

A case's own changes recompute its deadlines in the kernel. A change of the marketplace's
calendar or deadline policy, or of an order, moves the deadlines of many cases at once:
``case_deadlines_refresh`` is the only code that writes deadline columns outside an action of the
case itself. It works in locked chunks through the kernel; each case whose deadlines moved gets
its version and ``updated_at`` bumped and one ``deadlines_recomputed`` event (before, after,
cause), which webhook subscribers receive as ``case.deadlines_changed``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from marketplaces.models import Marketplace

from ..actors import Actor
from ..choices import TERMINAL_STATES, Door
from ..kernel import CaseAction, case_actions_batch
from ..models import Case

REFRESH_ACTOR = Actor.system("system")


class DeadlineCause(enum.StrEnum):
    CALENDAR_CHANGE = "calendar_change"
    POLICY_CHANGE = "policy_change"
    ORDER_CHANGE = "order_change"
    REPAIR = "repair"


def case_deadlines_refresh(
    case_ids: Iterable[int],
    *,
    cause: DeadlineCause | str,
    actor: Actor = REFRESH_ACTOR,
    door: Door = Door.JOB,
) -> int:
    """Recompute the deadlines of the given cases; returns how many moved. Idempotent: a re-run
    after a crash changes only what is still stale."""
    cause = DeadlineCause(cause)

    def refresh(act: CaseAction) -> None:
        if act.case.is_open:
            act.refresh_deadlines(cause=cause)

    return case_actions_batch(case_ids, refresh, actor=actor, door=door)


def marketplace_deadlines_refresh(
    *, marketplace: Marketplace, cause: DeadlineCause | str = DeadlineCause.CALENDAR_CHANGE
) -> int:
    """Refresh every open case of ``marketplace`` (after a calendar or policy change)."""
    ids = (
        Case.objects.filter(marketplace=marketplace)
        .exclude(state__in=TERMINAL_STATES)
        .values_list("pk", flat=True)
    )
    return case_deadlines_refresh(ids, cause=cause)


# The read side lives in ``cases.deadlines``; these names are kept here for the doors that
# import them with the services.
from ..deadlines import (  # noqa: E402
    DeadlineState,
    DeadlineStatus,
    active_deadlines,
    compute_deadlines,
    deadline_status,
    due_horizon,
)

__all__ = [
    "DeadlineCause",
    "DeadlineState",
    "DeadlineStatus",
    "active_deadlines",
    "case_deadlines_refresh",
    "compute_deadlines",
    "deadline_status",
    "due_horizon",
    "marketplace_deadlines_refresh",
]
