"""A calendar change recomputes the open cases' deadlines once it commits, through the signal
``marketplaces.signals.calendar_changed`` that ``cases`` listens to."""

import datetime as dt

import pytest
from django.db import transaction

from cases.models import Case
from marketplaces.calendars import calendar_for
from marketplaces.models import CalendarExceptionKind, Marketplace
from marketplaces.services import calendar_exception_set
from tests.factories import open_case

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_closure_day_moves_the_open_cases_deadline_after_the_commit(system_actor):
    amazon = Marketplace.objects.get(code="amazon_fr")
    case = open_case("cancellation", actor=system_actor, marketplace="amazon_fr")
    before = case.resolution_due_at
    # a working day inside the resolution window, declared closed
    opened = calendar_for(amazon).local_date(case.opened_at)
    day = next(
        opened + dt.timedelta(days=n)
        for n in range(1, 10)
        if calendar_for(amazon).is_working_day(opened + dt.timedelta(days=n))
    )

    with transaction.atomic():
        calendar_exception_set(marketplace=amazon, date=day, kind=CalendarExceptionKind.CLOSED)
        inside = Case.objects.get(pk=case.pk).resolution_due_at

    after = Case.objects.get(pk=case.pk).resolution_due_at
    changed = calendar_for(Marketplace.objects.get(pk=amazon.pk))
    assert inside == before  # nothing moves before the commit
    assert after == changed.deadline(case.opened_at, amazon.resolution_business_days)
    # one working day later: the closed day no longer counts
    assert changed.business_days_between(changed.local_date(before), changed.local_date(after)) == 1
