"""Return requests answered from the inbox in a real browser (headless Chromium through
Playwright) against the live server: an agent sees the requests waiting beside the
conversations with their 48-hour clock, most urgent first; a rejection without a reason does
not leave the page, a rejection with one is recorded (in the case's history too), another
request is authorised, and the work list shows both answered. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import CaseEvent, ReturnRequest
from cases.services.returns import return_request_upsert
from marketplaces.models import Marketplace
from tests.factories import make_order, open_case

from .conftest import make_staff
from .helpers import SYSTEM
from .test_browser import browser, log_in, page, shot  # noqa: F401 (fixtures)
from .test_inbox_browser import received

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def requested(external_id: str, *, hours_ago: float, case=None) -> ReturnRequest:
    amazon = Marketplace.objects.get(code="amazon_fr")
    created, _ = return_request_upsert(
        marketplace=amazon,
        external_id=external_id,
        order=case.order if case else make_order(amazon),
        case=case,
        requested_at=timezone.now() - dt.timedelta(hours=hours_ago),
        customer_reason="Trop petit",
    )
    return created


def test_agent_answers_return_requests_from_the_inbox(
    page,  # noqa: F811
    live_server,
    django_user_model,
):
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa", last_name="Martin")
    case = open_case(
        "wrong_item",
        actor=SYSTEM,
        marketplace="amazon_fr",
        opened_at=timezone.now() - dt.timedelta(hours=41),
    )
    urgent = requested("RR-urgent", hours_ago=40, case=case)  # 8 h left of 48
    fresh = requested("RR-fresh", hours_ago=1)
    received("amazon_fr", "amz-ret-1", hours_ago=2, body="Where do I send it back?")

    log_in(page, live_server, "lea")
    page.click("#user-tools >> text=Inbox")
    page.wait_for_selector("#return-requests")
    # the queue links carry their counts, the return requests' too
    assert page.locator("a[data-queue=needs_answer] .ws-count-pill").inner_text() == "1"
    assert page.locator("a[data-queue=returns] .ws-count-pill").inner_text() == "2"
    rows = page.locator("#ws-return-list tbody tr.ws-return")
    assert [rows.nth(i).get_attribute("data-return") for i in range(rows.count())] == [
        str(urgent.pk),
        str(fresh.pk),
    ]
    badge = rows.first.locator(".ws-badge")
    assert "ws-badge-at-risk" in (badge.get_attribute("class") or "")
    assert badge.inner_text().startswith("7 h") and badge.inner_text().endswith("left")
    shot(page, "inbox-return-requests")

    # -- a rejection needs a reason: the browser keeps the agent on the page
    first = page.locator(f"tr.ws-return[data-return='{urgent.pk}']")
    first.locator("summary").click()
    first.locator("button.ws-danger").click()
    assert page.locator(f"#return-reason-{urgent.pk}").evaluate("e => !e.validity.valid")
    urgent.refresh_from_db()
    assert urgent.decision == ""

    # -- with a reason it is recorded, and the agent is back in the inbox
    page.fill(f"#return-reason-{urgent.pk}", "Article porté, étiquettes retirées.")
    first.locator("button.ws-danger").click()
    page.wait_for_selector("text=Return request RR-urgent: rejected.")
    assert "/admin/messaging/conversation/" in page.url
    urgent.refresh_from_db()
    assert (urgent.decision, urgent.rejection_reason, urgent.answered_by_name) == (
        "rejected",
        "Article porté, étiquettes retirées.",
        "lea",
    )
    assert CaseEvent.objects.filter(case=case, event_type="return_answered").count() == 1
    assert page.locator("a[data-queue=returns] .ws-count-pill").inner_text() == "1"

    # -- the other one is authorised in one click
    page.locator(f"tr.ws-return[data-return='{fresh.pk}'] button.ws-accept").click()
    page.wait_for_selector("text=Return request RR-fresh: authorised.")
    assert page.locator("#return-requests").count() == 0
    fresh.refresh_from_db()
    assert fresh.decision == "authorized"
    shot(page, "inbox-returns-answered")

    # -- the work list shows both answered, each answered in time
    page.click("a[data-queue=returns]")
    page.wait_for_selector("#changelist")
    page.click("#changelist-filter >> text=Answered")
    page.wait_for_url("**answered=yes")
    page.wait_for_selector("#result_list tbody tr")
    listing = page.locator("#result_list tbody")
    assert listing.locator("tr").count() == 2
    assert listing.inner_text().count("answered in time") == 2
    shot(page, "returns-answered")
