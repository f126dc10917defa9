"""The upload page after "I have sent everything I can": what is still missing, said truthfully
in the page and in the script's JSON; and times on the customer's clock, the zone named."""

from __future__ import annotations

import pytest
from django.utils import translation

from cases.actors import Actor
from cases.choices import CaseState, Door
from cases.customers import customer_time_zone
from cases.demo_media import make_photo
from cases.services import case_transition
from tests.factories import make_order, open_case
from tests.intake.conftest import link, post_files

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")


def request_for(**order_fields):
    order = make_order("tmall", **order_fields)
    case = open_case("damaged_item", actor=ACTOR, order=order)
    case = case_transition(case=case, transition="request_evidence", actor=ACTOR, door=Door.ADMIN)
    return case.evidence_requests.get(audience="customer")


def one_photo(client, url):
    post_files(client, url, [("files:item", "item.jpg", make_photo("x", seed=3), "image/jpeg")])


def test_finishing_with_required_items_missing_lists_them(client):
    request = request_for()
    url = link(request)
    one_photo(client, url)

    page = client.post(url, {"finish": "1"}).content.decode()

    assert "You told us you have sent everything you can." in page
    assert "<li>The outer box</li>" in page and "<li>The shipping label</li>" in page
    assert "<li>The damaged item</li>" not in page
    assert "everything we asked for has arrived" not in page
    assert "We have everything you could send" not in page
    request.case.refresh_from_db()
    assert request.case.state == CaseState.UNDER_REVIEW


def test_the_scripts_answer_says_what_is_missing_too(client):
    request = request_for()
    url = link(request)
    one_photo(client, url)

    body = client.post(url, {"finish": "1"}, HTTP_ACCEPT="application/json").json()

    assert body["fulfilled"] is True
    assert body["missing"] == ["The outer box", "The shipping label"]
    assert body["status_kind"] == "warning"
    assert "Still missing: “The outer box”, “The shipping label”" in body["status"]


def test_missing_items_in_french(client):
    request = request_for(customer_language="fr")
    url = link(request)
    one_photo(client, url)

    page = client.post(url, {"finish": "1"}).content.decode()

    with translation.override("fr"):
        expected = translation.gettext("You told us you have sent everything you can.")
    assert expected != "You told us you have sent everything you can."
    assert expected in page


def test_the_deadline_is_on_the_customers_clock_when_they_are_abroad(client):
    # A Tmall order delivered to France: the customer reads Paris time.
    request = request_for(destination_country="FR")
    assert customer_time_zone(request.case.order).key == "Europe/Paris"
    local = request.due_at.astimezone(customer_time_zone(request.case.order))

    page = client.get(link(request)).content.decode()

    assert "(Europe/Paris time)" in page
    assert 'data-time-zone="Europe/Paris"' in page
    assert local.strftime("%Y") in page
    assert local.tzname() in page  # CET or CEST


def test_an_unknown_country_falls_back_to_the_marketplace_zone():
    order = make_order("amazon_fr", destination_country="ZZ")
    assert customer_time_zone(order).key == "Europe/Paris"
    assert customer_time_zone(make_order("tmall")).key == "Asia/Shanghai"
