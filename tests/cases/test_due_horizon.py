"""One cut-off for "due within N business days": the deadline badge, the sweep, the lists'
deadline filter and the dashboard's at-risk count agree on a deadline that falls on the weekend
(found in review: the lists and the dashboard left it out while the badge said "at risk")."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases.models import Case
from cases.services import deadline_status
from cases.services.deadlines import DeadlineStatus, due_horizon
from jobs.sweep import at_risk_horizon
from marketplaces.models import Marketplace
from workspace.dashboard import open_counts
from workspace.urgency import DueWindow, due_window_q

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = dt.datetime(2026, 9, 23, 10, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("due", "at_risk"),
    [
        (dt.datetime(2026, 9, 25, 23, 59, 59, tzinfo=PARIS), True),  # Friday
        (dt.datetime(2026, 9, 26, 23, 59, 59, tzinfo=PARIS), True),  # Saturday
        (dt.datetime(2026, 9, 27, 23, 59, 59, tzinfo=PARIS), True),  # Sunday
        (dt.datetime(2026, 9, 28, 9, 0, tzinfo=PARIS), False),  # Monday: 3 working days on
    ],
)
def test_every_door_cuts_at_risk_at_the_same_moment(system_actor, due, at_risk):
    from tests.factories import open_case

    amazon = Marketplace.objects.get(code="amazon_fr")
    assert amazon.at_risk_business_days == 2
    case = open_case("cancellation", actor=system_actor, marketplace="amazon_fr")
    Case.objects.filter(pk=case.pk).update(next_due_at=due)

    badge = deadline_status(due, at=WEDNESDAY, marketplace=amazon).status
    horizon = due_horizon(amazon, at=WEDNESDAY, business_days=2)
    in_list = (
        Case.objects.filter(pk=case.pk)
        .filter(due_window_q(DueWindow.SOON, at=WEDNESDAY, marketplaces=[amazon]))
        .exists()
    )
    on_dashboard = open_counts([amazon], at=WEDNESDAY)[amazon.pk]["at_risk"] == 1

    assert (badge == DeadlineStatus.AT_RISK) is at_risk
    assert at_risk_horizon(amazon, WEDNESDAY) == horizon
    assert (due < horizon) is at_risk
    assert in_list is at_risk
    assert on_dashboard is at_risk
