"""The workspace in a real browser (headless Chromium through Playwright) against the live
server: an agent works a damaged-item claim from the list to the reship, a supervisor rejects a
claim with a reason, an agent never sees a reject button. Screenshots of the list, a case page
and the dashboard go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from cases.actors import Actor
from cases.choices import Door
from cases.models import Case
from cases.services import case_transition, refund_request_create
from tests.conftest import ARTIFACTS
from tests.factories import add_photo, open_case

from .conftest import make_staff
from .helpers import SYSTEM, case_with_resolution_due_in

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = ARTIFACTS / "admin"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#ws-queues")


def claim_under_review(*, hours_old: float = 3, marketplace: str = "amazon_fr") -> Case:
    """A damaged-item claim with a customer photo, under review; its first answer (24 h on
    Amazon) is still due, so the case is due within 2 business days."""
    opened = timezone.now() - dt.timedelta(hours=hours_old)
    case = open_case("damaged_item", actor=SYSTEM, marketplace=marketplace, opened_at=opened)
    step = opened
    for name in ("request_evidence", "start_review"):
        step += dt.timedelta(minutes=20)
        if name == "start_review":
            add_photo(case, SYSTEM, at=step)
        case = case_transition(
            case=case, transition=name, actor=SYSTEM, door=Door.COMMAND, occurred_at=step
        )
    return case


def test_agent_works_a_damaged_item_claim_to_the_reship(page, live_server, django_user_model):
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa", last_name="Martin")
    claim = claim_under_review()
    later = case_with_resolution_due_in(6)  # not due within 2 business days
    for _ in range(3):
        case_with_resolution_due_in(1)

    log_in(page, live_server, "lea")
    page.click("text=Cases")
    page.click("#changelist-filter >> text=Due within 2 business days")
    page.wait_for_url(re.compile(r"due=soon"))
    rows = page.locator("#result_list tbody tr")
    listed = rows.locator("th.field-reference a").all_inner_texts()
    assert claim.reference in listed and later.reference not in listed
    assert rows.filter(has_text=claim.reference).locator(".ws-badge-at-risk").count() == 1
    shot(page, "case-list-due-soon")

    page.click(f"text={claim.reference}")
    page.wait_for_selector("#evidence")
    # the photo is shown from the access-checked thumbnail view once the task made it
    image = page.locator(".ws-gallery img").first
    # wait for it to load (checked at once, a busy machine saw it still loading)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    page.click(".ws-evidence >> text=Accept")
    page.wait_for_selector(".ws-review-label-accepted")

    page.click("#transition-confirm summary")
    page.fill("#note-confirm", "Box crushed on the photos: claim justified.")
    page.click("#transition-confirm button[type=submit]")
    page.wait_for_selector("text=the case is now Confirmed")

    page.click("#transition-start_reship summary")
    page.click("#transition-start_reship button[type=submit]")
    page.wait_for_selector("text=the case is now Reship pending")
    shot(page, "case-page-reship-pending")

    claim.refresh_from_db()
    assert claim.state == "reship_pending"
    assert claim.evidence.get().review_status == "accepted"
    doors = set(claim.events.filter(actor_user__username="lea").values_list("door", flat=True))
    assert doors == {Door.ADMIN}
    timeline = page.locator("#timeline").inner_text()
    assert timeline.index("Start reship") < timeline.index("Confirm claim")


def test_supervisor_rejects_a_claim_with_a_reason(page, live_server, django_user_model):
    make_staff(django_user_model, "wang", "Support supervisor", first_name="Wang Fang")
    claim = claim_under_review(marketplace="tmall")
    refund_request_create(
        case=claim, amount="249.00", currency="CNY", actor=SYSTEM, door=Door.COMMAND
    )

    log_in(page, live_server, "wang")
    page.goto(f"{live_server.url}/admin/cases/case/{claim.pk}/change/")
    page.click("#transition-reject summary")
    form = page.locator("#transition-reject form")
    assert "if you reject" in form.inner_text()  # the what-if before deciding
    form.locator("textarea[name=reason]").fill("The parcel in the photo belongs to another order.")
    form.locator("select[name=reason_code]").select_option("insufficient_evidence")
    shot(page, "case-page-supervisor-reject")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=the case is now Rejected")

    claim.refresh_from_db()
    assert claim.state == "rejected"
    refund = claim.refund_requests.get()
    assert (refund.decision, refund.rejection_reason) == ("rejected", "insufficient_evidence")
    assert (
        "The parcel in the photo belongs to another order."
        in page.locator("#timeline").inner_text()
    )


def test_agent_sees_no_reject_button(page, live_server, django_user_model):
    make_staff(django_user_model, "hugo", "Support agent")
    claim = claim_under_review()
    refund_request_create(
        case=claim, amount="30.00", currency="EUR", actor=SYSTEM, door=Door.COMMAND
    )

    log_in(page, live_server, "hugo")
    page.goto(f"{live_server.url}/admin/cases/case/{claim.pk}/change/")
    page.wait_for_selector("#actions")

    buttons = page.locator("#actions summary").all_inner_texts()
    assert "Confirm claim" in buttons
    assert not [b for b in buttons if "Reject" in b or "Withdraw" in b]
    assert page.locator('#refunds summary:text-is("Approve…")').count() == 1
    assert page.locator("#refunds >> text=Reject").count() == 0


def test_dashboard_and_languages(page, live_server, django_user_model):
    supervisor = make_staff(django_user_model, "wang", "Support supervisor")
    for marketplace in ("tmall", "jd", "amazon_fr"):
        for hours in (2, 30, 80):
            case = claim_under_review(hours_old=hours, marketplace=marketplace)
            case_transition(
                case=case, transition="escalate", actor=Actor.for_user(supervisor), door=Door.ADMIN
            )

    log_in(page, live_server, "wang")
    page.click("#user-tools >> text=Dashboard")
    page.wait_for_selector(".ws-dashboard svg.ws-line-chart")
    assert page.locator(".ws-dashboard svg.ws-bar-chart rect").count() > 0
    shot(page, "dashboard")

    page.select_option("#ws-language", "fr")
    page.wait_for_selector("text=Tableau de bord")
    shot(page, "dashboard-fr")
    page.goto(f"{live_server.url}/admin/cases/case/?status=all")
    assert "Échéance" in page.content() or "échéance" in page.content()
    shot(page, "case-list-fr")

    page.select_option("#ws-language", "zh-hans")
    page.wait_for_selector("text=仪表板")
    shot(page, "case-list-zh-hans")
