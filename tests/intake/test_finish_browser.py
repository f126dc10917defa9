""" "I have sent everything I can" with a required item missing, in a real Chromium on a phone:
the page says truthfully what is still missing (never a green "everything arrived"), and the
deadline is on the customer's clock with the zone named."""

# ruff: noqa: F811 - the fixtures imported from test_browser are parameters here

from __future__ import annotations

import pytest

from cases.actors import Actor
from cases.choices import CaseState, Door
from cases.services import case_transition
from intake.links import upload_url
from tests.conftest import ARTIFACTS
from tests.factories import make_order, open_case

from .test_browser import browser, files, phone  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finishing_with_a_required_item_missing_says_what_is_missing(live_server, phone, files):
    # given: a Tmall order shipped to a customer in France
    actor = Actor.system("browser test")
    order = make_order("tmall", customer_language="en", destination_country="FR")
    case = open_case("damaged_item", actor=actor, order=order)
    case = case_transition(case=case, transition="request_evidence", actor=actor, door=Door.ADMIN)
    request = case.evidence_requests.get()
    page = phone
    page.goto(live_server.url + upload_url(request))

    # the deadline on the customer's clock, the zone named
    facts = page.locator(".facts").inner_text()
    assert "(Europe/Paris time)" in facts
    # the script writes the time on the customer's clock too (the browser's is UTC here)
    shown = page.locator("time[data-local-time]").inner_text()
    assert "GMT+1" in shown or "CET" in shown or "GMT+2" in shown or "CEST" in shown, shown

    # when: one photo of the damaged item only, then "I have sent everything I can"
    page.locator('input[name="files:item"]').set_input_files(files["item.jpg"])
    page.locator("li.file.accepted").first.wait_for(timeout=30_000)
    page.locator("#finish-form button").click()
    page.wait_for_load_state()

    # then
    status = page.locator("#status")
    status.wait_for(state="visible")
    text = status.inner_text()
    assert "You told us you have sent everything you can." in text
    missing = page.locator("#status ul.missing li").all_inner_texts()
    assert missing == ["The outer box", "The shipping label"]
    assert "everything we asked for has arrived" not in page.content()
    assert page.locator("#status .ok").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "intake-finish-with-missing-items.png", full_page=True)
    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW  # the team reviews what arrived
