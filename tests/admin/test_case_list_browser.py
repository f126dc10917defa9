"""The case list in a real Chromium at 1440×900: how many cases an agent sees without scrolling,
and that no e-mail or order id is broken mid-word (long ones end in an ellipsis and carry the
whole value in their title). Screenshots in English and Chinese go to
``test-artifacts/admin/``."""

from __future__ import annotations

import pytest

from tests.factories import make_order, open_case

from .conftest import make_staff
from .helpers import SYSTEM
from .test_browser import CHROMIUM_ARGS, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1440, "height": 900}
MIN_ROWS_VISIBLE = 15
MARKETPLACES = ("tmall", "amazon_fr", "cdiscount", "jd", "faire", "rakuten")


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def forty_cases_with_long_identifiers() -> None:
    kinds = ("damaged_item", "late_shipment", "wrong_item", "customs_delay", "cancellation")
    for number in range(40):
        marketplace = MARKETPLACES[number % len(MARKETPLACES)]
        order = make_order(
            marketplace,
            external_id=f"{marketplace.upper()}-402-{1_000_000 + number}-8812345-{number:04d}",
            customer_name=f"Marie-Christine Dupont-Lefèvre {number}",
            customer_email=f"marie.christine.dupont.lefevre.{number}@example-marketplace.com",
        )
        open_case(kinds[number % len(kinds)], actor=SYSTEM, order=order)


# The rows whose whole box is inside the viewport, and the identifiers that wrap (an inline
# element broken over two lines has more than one client rect) or lost their full text.
MEASURE = """() => {
  const height = window.innerHeight;
  const rows = [...document.querySelectorAll('#result_list tbody tr')];
  const visible = rows.filter(row => {
    const box = row.getBoundingClientRect();
    return box.top >= 0 && box.bottom <= height;
  }).length;
  const broken = [];
  for (const cell of document.querySelectorAll(
      '#result_list td.field-order_column, #result_list td.field-customer_column')) {
    for (const el of cell.querySelectorAll('.ws-clip')) {
      if (el.getClientRects().length !== 1) broken.push(el.textContent);
      const clipped = el.scrollWidth > el.clientWidth;
      if (clipped && !(el.title || '').includes(el.textContent.trim())) broken.push(el.title);
    }
  }
  // A cell whose content is wider than the cell spills over its neighbour.
  const spilling = [...document.querySelectorAll('#result_list tbody td')]
    .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.className);
  const heights = rows.map(row => row.getBoundingClientRect().height);
  return {visible, total: rows.length, broken, spilling: [...new Set(spilling)],
          tallest: Math.max(...heights)};
}"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_at_least_15_cases_fit_on_a_1440x900_screen(
    chromium, live_server, django_user_model, language
):
    # given
    make_staff(django_user_model, "lea", "Support agent", first_name="Léa", last_name="Martin")
    forty_cases_with_long_identifiers()
    context = chromium.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "lea")
        page.fill("#id_password", "pw-lea-1")
        page.click("input[type=submit]")
        page.wait_for_selector("#ws-queues")

        # when
        page.goto(f"{live_server.url}/admin/cases/case/")
        if language != "en":
            with page.expect_navigation():
                page.select_option("#ws-language", language)
        page.wait_for_selector("#result_list")
        assert page.locator("html").get_attribute("lang") == language
        page.evaluate("document.fonts.ready")
        figures = page.evaluate(MEASURE)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"case-list-1440x900-{language}.png"))

        # then
        print(
            f"\n{language}: {figures['visible']} of {figures['total']} cases visible, "
            f"tallest row {figures['tallest']:.0f} px"
        )
        assert figures["total"] == 40
        assert figures["visible"] >= MIN_ROWS_VISIBLE, figures
        assert figures["broken"] == [], figures["broken"]
        assert figures["spilling"] == [], figures["spilling"]
        first = page.locator("#result_list tbody tr").first
        clipped = first.locator("td.field-customer_column .ws-clip").first
        assert "@example-marketplace.com" in (clipped.get_attribute("title") or "")
    finally:
        context.close()
