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


def marketplace_calendar_changed(*, marketplace: Marketplace) -> None:
    """Record that the calendar or the deadline policy of ``marketplace`` changed."""
    marketplace.calendar_version = uuid.uuid4()
    Marketplace.objects.filter(pk=marketplace.pk).update(
        calendar_version=marketplace.calendar_version
    )
    calendar_changed.send(sender=Marketplace, marketplace_id=marketplace.pk)


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
