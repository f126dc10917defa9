"""The dispute pack from the case page: one click, a language to choose (a real Chromium
downloads it), and the same form through Django's test client."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from cases.choices import EventType
from cases.models import CaseEvent
from packs.verify import pack_verify
from tests.factories import add_photo, make_order, open_case

from .helpers import SYSTEM


def _claim():
    order = make_order("tmall", customer_name="王芳", customer_language="zh-hans")
    case = open_case("damaged_item", actor=SYSTEM, order=order)
    add_photo(case, SYSTEM)
    return case


@pytest.mark.django_db
def test_the_case_page_offers_the_pack_in_the_customer_s_language(agent_client):
    case = _claim()
    page = agent_client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert 'id="dispute-pack"' in page
    assert '<option value="zh-hans" selected>' in page

    response = agent_client.post(
        f"/admin/cases/case/{case.pk}/pack/", {"language": "fr", "internal_notes": "1"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("manifest.json"))
    assert (manifest["language"], manifest["internal_notes"]) == ("fr", True)
    event = CaseEvent.objects.get(case=case, event_type=EventType.PACK_PRODUCED)
    assert (event.door, event.actor_name) == ("admin", "lea")
    # a GET does nothing (a pack is produced and recorded on purpose only)
    assert agent_client.get(f"/admin/cases/case/{case.pk}/pack/").status_code == 405


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_browser_downloads_the_pack_from_the_case_page(live_server, agent_user, tmp_path):
    from playwright.sync_api import sync_playwright

    from .test_browser import CHROMIUM_ARGS, log_in

    case = _claim()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(accept_downloads=True, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(20_000)
        log_in(page, live_server, agent_user.get_username())
        page.goto(f"{live_server.url}/admin/cases/case/{case.pk}/change/")
        page.select_option("#pack-language", "zh-hans")
        with page.expect_download() as download_info:
            page.click("#dispute-pack button[type=submit]")
        download = download_info.value
        path = tmp_path / download.suggested_filename
        download.save_as(str(path))
        browser.close()

    assert download.suggested_filename == f"{case.reference}-pack-zh-hans.zip"
    data = path.read_bytes()
    assert pack_verify(data).produced is True
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "summary.pdf" in names and any(name.startswith("evidence/") for name in names)
