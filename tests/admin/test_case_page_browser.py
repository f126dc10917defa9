"""The case page in a real Chromium: "next case" walks the list the agent came from (its filters
and order, even after an action on the page), and approving a refund asks for a confirmation
that shows the amount and the refund-rejection rate before and after."""

from __future__ import annotations

import re

import pytest

from cases.choices import Door, Priority
from cases.services import refund_decide, refund_request_create
from tests.factories import open_case, run

from .conftest import make_staff
from .helpers import SYSTEM
from .test_browser import CHROMIUM_ARGS, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#ws-queues")


def case_reference_on_page(page) -> str:
    return page.locator(".ws-case").get_attribute("data-case")


def test_next_case_follows_the_filtered_and_sorted_list(page, live_server, django_user_model):
    # given: three Tmall cases of different priorities, and an urgent Amazon case the agent's
    # list leaves out.
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa")
    normal = open_case("cancellation", actor=SYSTEM, marketplace="tmall")
    urgent = open_case("cancellation", actor=SYSTEM, marketplace="tmall", priority=Priority.URGENT)
    open_case("cancellation", actor=SYSTEM, marketplace="amazon_fr", priority=Priority.URGENT)
    high = open_case("cancellation", actor=SYSTEM, marketplace="tmall", priority=Priority.HIGH)

    log_in(page, live_server, "lea")
    page.goto(f"{live_server.url}/admin/cases/case/?marketplace=tmall")
    with page.expect_navigation():
        page.click("#result_list thead th.column-priority_column a")
    listed = page.locator("#result_list tbody th.field-reference a").all_inner_texts()
    assert listed == [urgent.reference, high.reference, normal.reference]

    # when: the agent opens the first case and goes from case to case
    page.click(f"text={urgent.reference}")
    page.wait_for_selector("#ws-next-case")
    assert case_reference_on_page(page) == urgent.reference
    page.click("#ws-next-case")
    page.wait_for_selector(f'.ws-case[data-case="{high.reference}"]')
    shot_path = SHOTS / "case-page-next-case.png"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot_path))

    # an action on the page redirects without the list's filters: "next" still knows the list
    page.click("text=Assign to me")
    page.wait_for_selector("text=Léa")
    page.click("#ws-next-case")
    page.wait_for_selector(f'.ws-case[data-case="{normal.reference}"]')

    # then: after the last case, back to the list, which says so
    page.click("#ws-next-case")
    page.wait_for_url(re.compile(r"/admin/cases/case/\?"))
    assert page.locator("text=That was the last case of the list.").count() == 1
    assert "marketplace=tmall" in page.url


def tmall_claim_with_refund(amount: str = "249.00"):
    """A confirmed Tmall claim with an undecided refund, on a marketplace where one refund was
    already rejected in the window (rate 1/1)."""
    earlier = run(
        open_case("damaged_item", actor=SYSTEM, marketplace="tmall"),
        ["request_evidence", "start_review", "confirm"],
        SYSTEM,
    )
    rejected = refund_request_create(
        case=earlier, amount="10.00", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    refund_decide(
        refund_request=rejected,
        decision="rejected",
        reason_code="duplicate",
        actor=SYSTEM,
        door=Door.COMMAND,
    )
    case = run(
        open_case("damaged_item", actor=SYSTEM, marketplace="tmall"),
        ["request_evidence", "start_review", "confirm"],
        SYSTEM,
    )
    refund = refund_request_create(
        case=case, amount=amount, currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )
    return case, refund


def test_approving_a_refund_asks_to_confirm_the_amount_and_shows_the_rate(
    page, live_server, django_user_model
):
    # given
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa")
    case, refund = tmall_claim_with_refund()

    log_in(page, live_server, "lea")
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    page.wait_for_selector("#refunds")

    # when: the first click only opens the confirmation
    page.click(f"#approve-{refund.pk} summary")
    form = page.locator(f"#approve-{refund.pk} form")
    text = form.inner_text()
    refund.refresh_from_db()
    assert refund.decision == ""  # nothing decided yet
    assert "Refund 249.00 CNY in full" in text
    assert "100.00 % now, 50.00 % if you approve" in text
    assert "(1/1 → 1/2)" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "case-page-approve-confirm.png"), full_page=True)
    form.locator("button[type=submit]").click()

    # then: decided through the same service as before
    page.wait_for_selector("text=Refund request of 249.00 CNY: approved.")
    refund.refresh_from_db()
    assert refund.decision == "approved" and refund.decided_by_name
    case.refresh_from_db()
    assert case.state == "refund_pending"
