"""Cases with a chosen deadline, made through the services (no row written by hand)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.models import Case
from cases.services import case_record_first_response, deadline_status
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace
from tests.factories import open_case

SYSTEM = Actor.system("tests")


def case_with_resolution_due_in(
    business_days_left: int,
    *,
    kind: str = "cancellation",
    marketplace: str = "amazon_fr",
    **kwargs,
) -> Case:
    """An open case whose next deadline is its resolution, ``business_days_left`` business days
    from today (found by opening it at the right moment in the past)."""
    market = Marketplace.objects.get(code=marketplace)
    calendar = calendar_for(market)
    now = timezone.now()
    for hours in range(1, 24 * 50, 6):
        opened = now - dt.timedelta(hours=hours)
        due = calendar.deadline(opened, market.resolution_business_days)
        state = deadline_status(due, at=now, marketplace=market)
        if due > now and state.business_days_left == business_days_left:
            break
    else:  # pragma: no cover - a calendar always has such a moment within 50 days
        raise AssertionError(f"no opening gives {business_days_left} business days left")
    case = open_case(kind, actor=SYSTEM, marketplace=marketplace, opened_at=opened, **kwargs)
    return case_record_first_response(
        case=case, responded_at=opened + dt.timedelta(minutes=1), actor=SYSTEM, door=Door.COMMAND
    )


def case_due_in_minutes(minutes: int, *, kind: str = "cancellation", **kwargs) -> Case:
    """A Tmall case whose first-response clock (3 minutes) ends ``minutes`` from now; negative
    for an overdue one."""
    opened = timezone.now() - dt.timedelta(seconds=180 - 60 * minutes)
    return open_case(kind, actor=SYSTEM, marketplace="tmall", opened_at=opened, **kwargs)
