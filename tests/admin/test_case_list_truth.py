"""The case list tells the truth and offers what agents of other helpdesks have: totals worded as
they were counted, priority (column, filter, sort), opened between two days, filters taking
several values, a page-size choice, and saved lists shared with the team."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import Door, Priority
from cases.services import case_assign
from tests.factories import make_order, open_case
from workspace.changelist import ListTotal
from workspace.models import SavedView

from .conftest import logged_in
from .helpers import SYSTEM
from .test_changelist import URL, references

pytestmark = pytest.mark.django_db


# -- totals --------------------------------------------------------------------------------


def test_a_total_is_worded_as_it_was_counted():
    assert ListTotal(1001, False, False, 1000).text == "1,001"
    assert ListTotal(150_000, True, False, 1000).text == "about 150,000"
    assert ListTotal(1001, False, True, 1000).text == "more than 1,000"


def test_an_estimate_is_shown_as_an_estimate_everywhere_on_the_list(
    agent_client, settings, monkeypatch
):
    # given: more cases than the exact-count limit, and the database's estimate of 150,000
    # (PostgreSQL's planner gives it; SQLite has none, so it stands in here).
    settings.WORKSPACE_EXACT_COUNT_LIMIT = 3
    for _ in range(5):
        open_case("cancellation", actor=SYSTEM)
    monkeypatch.setattr("workspace.counting.planner_estimate", lambda queryset: 150_000)

    # when
    html = agent_client.get(URL).content.decode()

    # then
    assert "about 150,000 results" in html
    assert "Select all about 150,000 cases" in html
    assert "0 of about 150,000 selected" in html
    assert "about 150,000 cases" in html  # the paginator
    assert "5 results" not in html and "4 results" not in html


@pytest.mark.postgres
def test_postgresql_estimates_a_long_list(agent_client, settings):
    from django.db import connection

    settings.WORKSPACE_EXACT_COUNT_LIMIT = 3
    for _ in range(30):
        open_case("cancellation", actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")

    html = agent_client.get(URL, {"status": "all", "per_page": "25"}).content.decode()

    # the planner's figure, shown as an estimate (ANALYZE makes it 30 here)
    assert re.search(r"about \d+ results", html), html[:200]
    assert re.search(r"Select all about \d+ cases", html)


# -- priority ------------------------------------------------------------------------------


def test_priority_column_filter_and_sort(agent_client):
    low = open_case("cancellation", actor=SYSTEM, priority=Priority.LOW)
    urgent = open_case("cancellation", actor=SYSTEM, priority=Priority.URGENT)
    high = open_case("cancellation", actor=SYSTEM, priority=Priority.HIGH)
    normal = open_case("cancellation", actor=SYSTEM)

    html = agent_client.get(URL).content.decode()
    assert 'class="ws-priority ws-priority-40">Urgent<' in html

    picked = references(agent_client.get(URL, {"priority": "40,30"}))
    assert set(picked) == {urgent.reference, high.reference}

    # The column sorts most urgent first.
    changelist = agent_client.get(URL).context["cl"]
    column = changelist.list_display.index("priority_column")
    ordered = references(agent_client.get(URL, {"o": str(column)}))
    assert ordered == [urgent.reference, high.reference, normal.reference, low.reference]


# -- several values ------------------------------------------------------------------------


def test_assignee_filter_takes_unassigned_and_named_agents(
    agent_client, agent_user, other_agent, django_user_model
):
    from .conftest import make_staff

    third = make_staff(django_user_model, "zoe", "Support agent")
    theirs = open_case("cancellation", actor=SYSTEM)
    case_assign(case=theirs, assignee=other_agent, actor=SYSTEM, door=Door.COMMAND)
    nobody = open_case("cancellation", actor=SYSTEM)
    zoe = open_case("cancellation", actor=SYSTEM)
    case_assign(case=zoe, assignee=third, actor=SYSTEM, door=Door.COMMAND)
    mine = open_case("cancellation", actor=SYSTEM)
    case_assign(case=mine, assignee=agent_user, actor=SYSTEM, door=Door.COMMAND)

    response = agent_client.get(URL, {"assignee": f"unassigned,{other_agent.pk}"})

    assert set(references(response)) == {theirs.reference, nobody.reference}
    html = response.content.decode()
    # Each choice adds itself to the values chosen, or takes itself out.
    assert f"assignee=unassigned%2C{other_agent.pk}%2C{third.pk}" in html
    assert f'href="?assignee={other_agent.pk}"' in html
    mine_or_zoe = references(agent_client.get(URL, {"assignee": f"mine,{third.pk}"}))
    assert set(mine_or_zoe) == {mine.reference, zoe.reference}


def test_several_marketplaces_kinds_and_states(agent_client):
    tmall = open_case("cancellation", actor=SYSTEM, marketplace="tmall")
    amazon = open_case("damaged_item", actor=SYSTEM, marketplace="amazon_fr")
    jd = open_case("cancellation", actor=SYSTEM, marketplace="jd")

    assert set(references(agent_client.get(URL, {"marketplace": "tmall,amazon_fr"}))) == {
        tmall.reference,
        amazon.reference,
    }
    assert set(references(agent_client.get(URL, {"kind": "damaged_item,cancellation"}))) == {
        tmall.reference,
        amazon.reference,
        jd.reference,
    }
    assert set(references(agent_client.get(URL, {"state": "new,under_review"}))) == {
        tmall.reference,
        amazon.reference,
        jd.reference,
    }
    # A value that is none of the filter's is ignored, the others still apply.
    assert references(agent_client.get(URL, {"marketplace": "jd,nowhere"})) == [jd.reference]


# -- opened between ------------------------------------------------------------------------


def test_opened_between_reads_each_day_in_the_marketplaces_time_zone(agent_client):
    # given: day D began at 00:00 in Shanghai (Tmall) and 00:00 in Paris (Amazon).
    day = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date() - dt.timedelta(10)
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    # 00:30 on D in Shanghai is still D-1 in UTC; 23:30 on D-1 in Paris is D-1 everywhere
    # west of Asia.
    tmall_d = open_case(
        "cancellation",
        actor=SYSTEM,
        marketplace="tmall",
        opened_at=dt.datetime.combine(day, dt.time(0, 30), tzinfo=shanghai),
    )
    amazon_d_minus_1 = open_case(
        "cancellation",
        actor=SYSTEM,
        marketplace="amazon_fr",
        opened_at=dt.datetime.combine(day - dt.timedelta(1), dt.time(23, 30), tzinfo=paris),
    )
    later = open_case(
        "cancellation",
        actor=SYSTEM,
        marketplace="amazon_fr",
        opened_at=dt.datetime.combine(day + dt.timedelta(3), dt.time(12), tzinfo=paris),
    )

    def listed(**params):
        return set(references(agent_client.get(URL, params)))

    # then
    assert listed(opened_from=day.isoformat(), opened_to=day.isoformat()) == {tmall_d.reference}
    before = (day - dt.timedelta(1)).isoformat()
    assert listed(opened_from=before, opened_to=before) == {amazon_d_minus_1.reference}
    assert listed(opened_from=(day + dt.timedelta(1)).isoformat()) == {later.reference}
    assert listed(opened_to=day.isoformat()) == {tmall_d.reference, amazon_d_minus_1.reference}
    # A day that does not exist filters nothing and is no error.
    response = agent_client.get(URL, {"opened_from": "2026-02-30"})
    assert response.status_code == 200 and len(references(response)) == 3


def test_the_date_form_keeps_the_other_filters(agent_client):
    open_case("cancellation", actor=SYSTEM)
    html = agent_client.get(URL, {"marketplace": "tmall", "per_page": "25"}).content.decode()
    form = html[html.index('class="ws-date-range"') :]
    form = form[: form.index("</form>")]
    assert 'name="marketplace" value="tmall"' in form
    assert 'name="per_page" value="25"' in form


# -- page size -----------------------------------------------------------------------------


def test_page_size_choice(agent_client):
    for _ in range(30):
        open_case("cancellation", actor=SYSTEM, order=make_order("tmall"))

    assert len(references(agent_client.get(URL, {"per_page": "25"}))) == 25
    assert len(references(agent_client.get(URL))) == 30  # 50 a page by default
    html = agent_client.get(URL, {"per_page": "25"}).content.decode()
    assert 'aria-current="true">25<' in html
    assert "per_page=25&amp;p=2" in html or "p=2&amp;per_page=25" in html
    # A size that is not offered falls back to the default, without an error.
    assert len(references(agent_client.get(URL, {"per_page": "100000"}))) == 30


# -- saved lists ---------------------------------------------------------------------------


def test_a_list_shared_with_the_team_is_on_a_colleagues_home_page(
    agent_client, agent_user, other_agent
):
    agent_client.post(
        reverse("admin:cases_case_save_view"),
        {"name": "Tmall urgent", "query": "marketplace=tmall&priority=40", "shared": "1"},
    )
    agent_client.post(
        reverse("admin:cases_case_save_view"), {"name": "My own", "query": "assignee=mine"}
    )
    assert SavedView.objects.get(name="Tmall urgent").shared

    colleague = logged_in(other_agent)
    home = colleague.get("/admin/").content.decode()

    assert "Tmall urgent" in home and "shared by Léa Martin" in home
    assert "My own" not in home
    shared = SavedView.objects.get(name="Tmall urgent")
    # The colleague sees it but cannot change or delete it.
    change = reverse("admin:workspace_savedview_change", args=[shared.pk])
    delete = reverse("admin:workspace_savedview_delete", args=[shared.pk])
    assert colleague.post(change, {"name": "Renamed", "query": ""}).status_code in {302, 403}
    assert colleague.post(delete, {"post": "yes"}).status_code in {302, 403}
    shared.refresh_from_db()
    assert shared.name == "Tmall urgent"
