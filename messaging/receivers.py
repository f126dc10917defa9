"""What messaging does when a lower app signals a change: queue work once the change commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

REFRESH_TASK = "messaging.tasks.refresh_marketplace_clocks"


def refresh_clocks_on_commit(*, marketplace_id: int, **kwargs: Any) -> None:
    """A marketplace's calendar or rules changed: the clocks of its unanswered messages are
    recomputed by a background job after the commit."""

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(REFRESH_TASK, marketplace_id, task_name=f"refresh-clocks-{marketplace_id}")

    transaction.on_commit(enqueue)
