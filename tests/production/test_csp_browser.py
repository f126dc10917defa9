"""The Content-Security-Policy breaks nothing: the workspace's pages in a real Chromium with the
policy on, its scripts working (the admin's select-all, the language switch, the dashboard's
charts) and no violation reported."""

from __future__ import annotations

import os

import pytest

from cases.actors import Actor
from cases.choices import Door
from cases.services import case_transition
from tests.admin.conftest import make_staff
from tests.admin.test_browser import CHROMIUM_ARGS, claim_under_review, log_in

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        chromium.close()


def test_workspace_pages_work_under_the_policy(page, live_server, django_user_model):
    supervisor = make_staff(django_user_model, "wang", "Support supervisor")
    case = claim_under_review()
    case_transition(
        case=case, transition="escalate", actor=Actor.for_user(supervisor), door=Door.ADMIN
    )
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    policies: list[str] = []
    page.on(
        "response",
        lambda response: (
            policies.append(response.headers.get("content-security-policy", ""))
            if response.request.resource_type == "document"
            else None
        ),
    )

    log_in(page, live_server, "wang")
    page.goto(f"{live_server.url}/admin/cases/case/?status=all")
    # the admin's own script: select all rows
    page.click("#action-toggle")
    assert page.locator("#result_list tbody input.action-select:checked").count() >= 1
    page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
    page.wait_for_selector("#timeline")
    page.click("#user-tools >> text=Dashboard")
    page.wait_for_selector(".ws-dashboard svg.ws-line-chart")
    page.select_option("#ws-language", "fr")  # a script submits the language form
    page.wait_for_selector("text=Tableau de bord")

    assert policies and all("script-src 'self'" in policy for policy in policies), policies
    assert violations == []
