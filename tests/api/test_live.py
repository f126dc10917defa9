"""An integration's first day, over real HTTP against a running server (``live_server``), with
the standard library's HTTP client; and the API docs in a real Chromium, loading nothing from
elsewhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.demo_media import make_photo

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Http:
    """What an integration engineer writes: JSON over HTTP with a key."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, str], bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Token {self.key}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: object = None, **kwargs) -> tuple[int, dict]:
        status, _headers, content = self.call(method, path, body, **kwargs)
        return status, json.loads(content) if content else {}


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, content, ctype) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_an_integration_first_day_over_http(live_server):
    # the administrator creates the client; the key is on the command's last line
    out = StringIO()
    call_command("create_api_client", "erp", "--marketplaces", "tmall", stdout=out)
    api = Http(live_server.url, out.getvalue().strip().splitlines()[-1])

    # import orders
    placed = (timezone.now() - dt.timedelta(days=20)).isoformat()
    status, body = api.json(
        "POST",
        "/api/v1/orders/",
        [
            {
                "marketplace": "tmall",
                "external_id": f"TM-{i}",
                "placed_at": placed,
                "total": "88.00",
            }
            for i in range(3)
        ],
    )
    assert (status, body["created"]) == (200, 3)

    # open a claim, retrying safely with an Idempotency-Key
    claim = {
        "marketplace": "tmall",
        "order": "TM-1",
        "kind": "damaged_item",
        "external_id": "CLAIM-1",
        "opened_at": (timezone.now() - dt.timedelta(days=2)).isoformat(),
        "refund_request": {"amount": "88.00", "currency": "CNY"},
    }
    status, case = api.json("POST", "/api/v1/cases/", claim, headers={"Idempotency-Key": "c-1"})
    assert status == 201
    status, again = api.json("POST", "/api/v1/cases/", claim, headers={"Idempotency-Key": "c-1"})
    assert status == 201 and again["reference"] == case["reference"]
    url = f"/api/v1/cases/{case['reference']}"

    # drive the workflow with the version it saw
    status, headers, _ = api.call("GET", f"{url}/")
    etag = headers["ETag"]
    status, moved = api.json(
        "POST",
        f"{url}/transitions/",
        {"transition": "request_evidence"},
        headers={"If-Match": etag},
    )
    assert (status, moved["state"]) == (200, "awaiting_evidence")
    status, problem = api.json(
        "POST", f"{url}/transitions/", {"transition": "start_review"}, headers={"If-Match": etag}
    )
    assert (status, problem["code"]) == (409, "case_changed")

    # upload the customer's photo, multipart; a text file renamed .jpg is refused
    photo = make_photo("dented", size=(400, 300))
    raw, ctype = multipart({"source": "customer"}, {"file": ("dent.jpg", photo, "image/jpeg")})
    status, evidence = api.json("POST", f"{url}/evidence/", raw=raw, content_type=ctype)
    assert status == 201 and evidence["width"] == 400
    raw, ctype = multipart({}, {"file": ("fake.jpg", b"just words\n" * 50, "image/jpeg")})
    status, problem = api.json("POST", f"{url}/evidence/", raw=raw, content_type=ctype)
    assert (status, problem["code"]) == (400, "unsupported_type")

    # the download link works with the key, streamed with safe headers
    status, headers, content = api.call(
        "GET", evidence["download_url"].removeprefix(live_server.url)
    )
    assert status == 200 and content[:2] == b"\xff\xd8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert Http(live_server.url, "as_nobodyxx_" + "x" * 43).call("GET", "/api/v1/cases/")[0] == 401

    # review, confirm, refund: the case ends in refund_pending through the decision
    for name in ("start_review", "confirm"):
        status, moved = api.json("POST", f"{url}/transitions/", {"transition": name})
        assert status == 200, moved
    status, decided = api.json(
        "POST",
        f"{url}/refund-decisions/",
        {"refund_request": case["refund_requests"][0]["id"], "decision": "approved"},
    )
    assert (status, decided["case"]["state"]) == (200, "refund_pending")

    # the list finds it; errors are problems, never HTML
    status, listed = api.json("GET", "/api/v1/cases/?state=refund_pending")
    assert [c["reference"] for c in listed["results"]] == [case["reference"]]
    status, headers, content = api.call("GET", "/api/v1/no/such/thing")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert json.loads(content)["code"] == "not_found"


@pytest.mark.browser
def test_swagger_ui_and_redoc_render_from_this_server_only(live_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = browser.new_page()
            requested: list[str] = []
            blocked: dict[str, str] = {}
            page.on("request", lambda request: requested.append(request.url))
            page.on("requestfailed", lambda r: blocked.__setitem__(r.url, r.failure or ""))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector("text=List cases", timeout=20_000)
            page.wait_for_selector("text=aftersales API", timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "api-swagger-ui.png"), full_page=False)
            page.goto(f"{live_server.url}/api/redoc/")
            page.wait_for_selector('h2:has-text("Open a case")', timeout=20_000)
            page.screenshot(path=str(ARTIFACTS / "api-redoc.png"), full_page=False)
        finally:
            browser.close()
    # Nothing is asked of another server, not even ReDoc's logo (its bundle is served with the
    # logo's CDN address replaced).
    foreign = [url for url in requested if not url.startswith((live_server.url, "data:", "blob:"))]
    assert foreign == [], (foreign, blocked)
    assert any("/static/drf_spectacular_sidecar/" in url for url in requested)
    assert any(url.endswith("/api/redoc/redoc.standalone.js") for url in requested)
