"""Changes to marketplaces and their calendars.

A calendar change moves deadlines: the version bump invalidates cached calendars everywhere, and
``calendar_changed`` is sent, on which ``cases`` queues the recomputation of the deadlines of the
marketplace's open cases (a background job, once the change commits).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction

from .models import CalendarException, CalendarExceptionKind, Marketplace
from .signals import calendar_changed

CALENDAR_CHANGE = "calendar_change"
POLICY_CHANGE = "policy_change"


def marketplace_calendar_changed(*, marketplace: Marketplace, cause: str = CALENDAR_CHANGE) -> None:
    """Record that the calendar (``cause`` calendar_change) or the deadline policy
    (policy_change) of ``marketplace`` changed: its open cases' deadlines are refreshed by a
    background job, each moved case recording why."""
    marketplace.calendar_version = uuid.uuid4()
    Marketplace.objects.filter(pk=marketplace.pk).update(
        calendar_version=marketplace.calendar_version
    )
    calendar_changed.send(sender=Marketplace, marketplace_id=marketplace.pk, cause=cause)


def calendar_exception_set(
    *, marketplace: Marketplace, date: dt.date, kind: CalendarExceptionKind | str, label: str = ""
) -> CalendarException:
    """Declare a closure or an extra working day (replacing any earlier one for that date)."""
    with transaction.atomic():
        exception, _ = CalendarException.objects.update_or_create(
            marketplace=marketplace, date=date, defaults={"kind": kind, "label": label}
        )
        marketplace_calendar_changed(marketplace=marketplace)
    return exception


def calendar_exception_remove(*, marketplace: Marketplace, date: dt.date) -> bool:
    with transaction.atomic():
        deleted, _ = CalendarException.objects.filter(marketplace=marketplace, date=date).delete()
        if deleted:
            marketplace_calendar_changed(marketplace=marketplace)
    return bool(deleted)
