"""What cases does when a lower app signals a change: queue work once the change commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

RECOMPUTE_TASK = "cases.tasks.recompute_marketplace_deadlines"


def recompute_deadlines_on_commit(
    *, marketplace_id: int, cause: str = "calendar_change", **kwargs: Any
) -> None:
    """A marketplace's calendar or rules changed (``marketplaces.signals.calendar_changed``):
    its open cases get their deadlines recomputed by a background job after the commit."""

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(
            RECOMPUTE_TASK,
            marketplace_id,
            cause,
            task_name=f"recompute-deadlines-{marketplace_id}",
        )

    transaction.on_commit(enqueue)
