"""What is due when: deadline windows for lists, and the badge of a case's next deadline.

Windows are counted in each marketplace's own business calendar, so "due within 2 business days"
means something different on a Chinese and a French marketplace on the same day. A window is a
range of ``next_due_at`` per marketplace; the list filters OR one range per marketplace, plus an
overall range the ``(next_due_at, opened_at)`` index serves.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases.events import CLOCK_LABELS
from cases.models import Case
from cases.selectors import overdue_q
from cases.services import active_deadlines, deadline_status
from cases.services.deadlines import DeadlineStatus, due_horizon
from marketplaces.calendars import calendar_for
from marketplaces.models import Marketplace

from .labels import choice_labels

# "Due within 2 business days" in the issue; the badge's "at risk" uses each marketplace's own
# ``at_risk_business_days`` (2 by default).
SOON_BUSINESS_DAYS = 2


class DueWindow(enum.StrEnum):
    OVERDUE = "overdue"
    TODAY = "today"
    SOON = "soon"
    LATER = "later"
    NONE = "none"


DUE_WINDOW_LABELS = {
    DueWindow.OVERDUE: _("Overdue"),
    DueWindow.TODAY: _("Due today"),
    DueWindow.SOON: _("Due within 2 business days"),
    DueWindow.LATER: _("Due later"),
    DueWindow.NONE: _("No deadline"),
}


def marketplaces_with_calendars(request: Any = None) -> list[Marketplace]:
    """Every marketplace, with its calendar built (two queries, once per request)."""
    cached = getattr(request, "_workspace_marketplaces", None)
    if cached is not None:
        return cached
    marketplaces = list(Marketplace.objects.prefetch_related("calendar_exceptions"))
    for marketplace in marketplaces:
        calendar_for(marketplace)  # built from the prefetched exceptions, then cached
    if request is not None:
        request._workspace_marketplaces = marketplaces
    return marketplaces


def window_end(marketplace: Marketplace, *, at: dt.datetime, business_days: int) -> dt.datetime:
    """Deadlines before this (exclusive) are due within ``business_days`` working days
    (today only, for 0): ``cases.services.deadlines.due_horizon``."""
    return due_horizon(marketplace, at=at, business_days=business_days)


def due_window_q(window: DueWindow | str, *, at: dt.datetime, marketplaces: list[Marketplace]) -> Q:
    """The cases whose next deadline falls in ``window``, seen at ``at``."""
    if window == DueWindow.OVERDUE:
        return overdue_q(at)
    if window == DueWindow.NONE:
        return Q(next_due_at__isnull=True)
    days = 0 if window == DueWindow.TODAY else SOON_BUSINESS_DAYS
    ends = {m.pk: window_end(m, at=at, business_days=days) for m in marketplaces}
    if not ends:
        return Q(pk__in=[])
    if window == DueWindow.LATER:
        per_marketplace = [
            Q(marketplace_id=pk, next_due_at__gte=end) for pk, end in sorted(ends.items())
        ]
        return Q(next_due_at__gte=min(ends.values())) & reduce(or_, per_marketplace)
    per_marketplace = [
        Q(marketplace_id=pk, next_due_at__lt=end) for pk, end in sorted(ends.items())
    ]
    # The overall range lets the database walk the next_due_at index; the per-marketplace
    # ranges then cut each marketplace at its own calendar's end of window.
    return Q(next_due_at__gte=at, next_due_at__lt=max(ends.values())) & reduce(or_, per_marketplace)


_STATUS_LABELS = (
    (DeadlineStatus.ON_TRACK, _("On track")),
    (DeadlineStatus.AT_RISK, _("At risk")),
    (DeadlineStatus.OVERDUE, _("Overdue")),
)


@dataclass(frozen=True)
class DeadlineBadge:
    """The state of one deadline, as shown on lists and on the case page."""

    clock: str
    due_at: dt.datetime
    status: DeadlineStatus
    business_days_left: int

    @property
    def clock_label(self) -> str:
        return choice_labels(CLOCK_LABELS).get(self.clock, self.clock)

    @property
    def css(self) -> str:
        return self.status.value.replace("_", "-")

    @property
    def text(self) -> str:
        left = self.business_days_left
        if self.status == DeadlineStatus.OVERDUE:
            if left >= 0:
                return str(_("Overdue"))
            return ngettext(
                "Overdue by %(days)d business day",
                "Overdue by %(days)d business days",
                -left,
            ) % {"days": -left}
        if left <= 0:
            return str(_("Due today"))
        return ngettext("%(days)d business day left", "%(days)d business days left", left) % {
            "days": left
        }

    @property
    def status_label(self) -> str:
        return choice_labels(_STATUS_LABELS)[self.status]


def badge_for(case: Case, clock: str, due_at: dt.datetime, *, at: dt.datetime) -> DeadlineBadge:
    state = deadline_status(due_at, at=at, marketplace=case.marketplace)
    return DeadlineBadge(clock, due_at, state.status, state.business_days_left)


def next_deadline_badge(case: Case, *, at: dt.datetime) -> DeadlineBadge | None:
    """The badge of the case's next deadline (``next_due_at``), or None when nothing is due."""
    if case.next_due_at is None:
        return None
    running = active_deadlines(case)
    clock = next(
        (name for name, due in sorted(running.items()) if due == case.next_due_at), "resolution"
    )
    return badge_for(case, clock, case.next_due_at, at=at)


def running_deadline_badges(case: Case, *, at: dt.datetime) -> list[DeadlineBadge]:
    """Every clock running on the case, soonest first."""
    running = active_deadlines(case)
    badges = [badge_for(case, name, due, at=at) for name, due in running.items()]
    return sorted(badges, key=lambda badge: badge.due_at)
