"""The upload form in a real headless Chromium on a phone-sized screen, against a live server:
a customer opens the link, sends two photos and a video, watches them go, sees each result, and
the case moves to review. Screenshots of the form in each language go to test-artifacts/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cases.choices import CaseState, Door
from cases.demo_media import make_photo
from cases.models import CaseEvent, Evidence
from cases.services import case_transition
from intake.links import upload_url
from tests.conftest import ARTIFACTS
from tests.factories import make_order, open_case

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Mobile Safari/537.36"
    ),
}


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
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    external = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if not request.url.startswith(
                ("http://localhost", "http://127.0.0.1", "blob:", "data:")
            )
            else None
        ),
    )
    yield page
    context.close()
    assert external == [], f"the page fetched from elsewhere: {external}"


def noisy_video(seconds: float = 2, size=(480, 360), fps: int = 12) -> bytes:
    """A real H.264 video of noise: it does not compress, so its upload takes a while."""
    import io
    import random

    import av
    from PIL import Image

    rng = random.Random(7)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(int(seconds * fps)):
            noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
            for packet in stream.encode(av.VideoFrame.from_image(noise)):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    made = {
        "box.jpg": make_photo("outer box", seed=1, size=(1600, 1200)),
        "item.jpg": make_photo("damaged item", seed=2, size=(1600, 1200), exif_gps=True),
        "unboxing.mp4": noisy_video(),
    }
    paths = {}
    for name, data in made.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def awaiting_case(language: str = "en"):
    from cases.actors import Actor

    actor = Actor.system("browser test")
    order = make_order("tmall", customer_language=language, customer_name="Li Wei")
    case = open_case("damaged_item", actor=actor, order=order)
    return case_transition(case=case, transition="request_evidence", actor=actor, door=Door.ADMIN)


def slow_uploads(page, bytes_per_second: int) -> None:
    """Throttle the page's uploads (Chromium DevTools), so progress is visible."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 20,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_a_customer_sends_two_photos_and_a_video_from_a_phone(live_server, phone, files):
    case = awaiting_case("en")
    request = case.evidence_requests.get()
    page = phone
    page.goto(live_server.url + upload_url(request))

    # The page: reference, checklist, deadline; the script took over the plain form.
    assert page.locator(".reference").inner_text() == case.reference
    assert page.locator("li.item").count() == 5
    assert page.locator("html.js").count() == 1
    assert not page.locator("button.nojs-only").is_visible()
    assert re.search(r"\d{4}", page.locator("time[data-local-time]").inner_text())

    slow_uploads(page, bytes_per_second=600_000)
    seen_progress: list[float] = []
    page.locator('input[name="files:outer_box"]').set_input_files(files["box.jpg"])
    page.locator('input[name="files:item"]').set_input_files(files["item.jpg"])
    page.locator('input[name="files:shipping_label"]').set_input_files(files["unboxing.mp4"])

    # Per-file progress bars, moving.
    video_row = page.locator('ul[data-files-for="shipping_label"] li.file')
    video_row.locator("progress").wait_for(state="attached", timeout=10_000)
    for _ in range(600):  # until the video's bar is gone (its result shown), at most a minute
        values = video_row.locator("progress").evaluate_all("bars => bars.map(b => b.value)")
        if not values:
            break
        seen_progress.extend(values)
        page.wait_for_timeout(100)
    assert any(0 < value < 100 for value in seen_progress), seen_progress

    # Each file's result, then the case in review.
    page.locator("li.file.accepted").nth(2).wait_for(timeout=60_000)
    results = page.locator("li.file .outcome").all_inner_texts()
    assert results == [
        "✓ Received for “The outer box”.",
        "✓ Received for “The damaged item”.",
        "✓ Received for “The shipping label”.",
    ]
    status = page.locator("#status")
    status.wait_for(state="visible")
    assert "Our team is now reviewing it" in status.inner_text()
    assert page.locator("li.item.done").count() == 3
    page.locator("#gallery img").nth(2).wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "intake-form-after-upload.png", full_page=True)

    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW
    assert Evidence.objects.filter(case=case).count() == 3
    moved = CaseEvent.objects.get(case=case, transition="start_review")
    assert (moved.actor_type, moved.door) == ("link", "form")


def test_a_refused_file_says_why_in_the_page(live_server, phone, tmp_path):
    case = awaiting_case("fr")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"this is not a photo\n" * 40)
    page = phone
    page.goto(live_server.url + upload_url(case.evidence_requests.get()))

    page.locator('input[name="files:item"]').set_input_files(fake)

    refused = page.locator("li.file.refused .outcome")
    refused.wait_for(timeout=20_000)
    assert refused.inner_text().startswith("✗ « photo.jpg » n’est ni une photo ni une vidéo")
    assert Evidence.objects.count() == 0


def test_the_form_works_without_javascript(live_server, browser, files):
    case = awaiting_case("en")
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + upload_url(case.evidence_requests.get()))
        assert page.locator("button.nojs-only").is_visible()
        page.locator('input[name="files:outer_box"]').set_input_files(files["box.jpg"])
        page.locator('input[name="files:item"]').set_input_files(files["item.jpg"])
        page.locator('input[name="files:shipping_label"]').set_input_files(files["unboxing.mp4"])
        page.locator("button.nojs-only").click()
        page.wait_for_load_state()

        assert page.locator("section.results li.file.accepted").count() == 3
        assert "Our team is now reviewing it" in page.locator("#status").inner_text()
    finally:
        context.close()
    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "Send your photos and videos"),
        ("fr", "Envoyez vos photos et vidéos"),
        ("zh-hans", "发送您的照片和视频"),
    ],
)
def test_screenshot_of_the_form_in_each_language(live_server, phone, language, title):
    case = awaiting_case(language)
    page = phone
    page.goto(live_server.url + upload_url(case.evidence_requests.get()))

    assert page.locator("h1").inner_text() == title
    assert page.locator("html").get_attribute("lang") == language
    # The layout fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"intake-form-{language}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000


def test_the_language_switch_on_the_page(live_server, phone):
    case = awaiting_case("en")
    page = phone
    page.goto(live_server.url + upload_url(case.evidence_requests.get()))

    page.get_by_role("link", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Envoyez vos photos et vidéos"
    page.get_by_role("link", name="简体中文").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "发送您的照片和视频"
