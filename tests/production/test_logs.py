"""Structured logs: one JSON object per line, the request id on every line written while a
request is served, in the ``X-Request-ID`` header and in every problem answer."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from aftersales.logs import JsonFormatter, RequestIdFilter, request_id_from

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """What the production handler (filter + JSON formatter) writes, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_a_sane_request_id_is_kept_and_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a:2026.12.02-0001")
    assert response["X-Request-ID"] == "lb-7f3a:2026.12.02-0001"


@pytest.mark.parametrize(
    "sent", ["", "has spaces", "x" * 129, "new\nline", 'quote"d', "<script>", "é"]
)
def test_an_unusable_request_id_is_replaced(sent):
    assert GENERATED.fullmatch(request_id_from(sent))


def test_every_answer_has_its_own_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.django_db
def test_problem_answers_carry_the_request_id(client):
    # a DRF problem (no key), a Django-level problem (unknown endpoint)
    for path in ("/api/v1/cases/", "/api/v1/no-such-thing/"):
        response = client.get(path, HTTP_X_REQUEST_ID="trace-42")
        assert response["Content-Type"] == "application/problem+json", path
        assert response.json()["request_id"] == "trace-42", path
        assert response["X-Request-ID"] == "trace-42"
    generated = client.get("/api/v1/cases/")
    assert generated.json()["request_id"] == generated["X-Request-ID"]


@pytest.mark.django_db
def test_every_log_line_of_a_request_is_json_with_its_id(client, log_lines):
    # Django logs a warning for a 404 ("Not Found: ..."), from inside the request
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-404-1")
    assert response.status_code == 404
    logging.getLogger("aftersales.test").info("outside any request", extra={"case": "AS-1"})
    lines = log_lines()
    inside = [line for line in lines if line["logger"] == "django.request"]
    assert inside and all(line["request_id"] == "req-404-1" for line in inside)
    assert "Not Found" in inside[0]["message"]
    assert inside[0]["level"] == "WARNING"
    outside = [line for line in lines if line["logger"] == "aftersales.test"]
    assert outside == [
        {
            "time": outside[0]["time"],
            "level": "INFO",
            "logger": "aftersales.test",
            "message": "outside any request",
            "request_id": None,
            "case": "AS-1",
        }
    ]


def test_an_exception_is_one_line_with_its_traceback_inside():
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info()
        )
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert "ValueError: boom" in entry["exception"]
