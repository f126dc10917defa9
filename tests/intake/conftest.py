"""Fixtures of the intake tests: cases awaiting evidence, their links, raw multipart bodies."""

from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

import pytest

from cases.choices import Door
from cases.services import case_transition, evidence_request_create
from intake.links import upload_url
from tests.conftest import stored_evidence

# Playwright's sync API runs an event loop in the test thread; Django's ORM must allow it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate-limit counters live in the cache: every test starts from zero."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"intake-tests-{uuid.uuid4().hex}",
        }
    }
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def awaiting_case(make_case, system_actor):
    """A damaged-item claim awaiting evidence (its customer request made by the workflow)."""
    case = make_case("damaged_item")
    return case_transition(
        case=case, transition="request_evidence", actor=system_actor, door=Door.ADMIN
    )


@pytest.fixture
def customer_request(awaiting_case):
    return awaiting_case.evidence_requests.get(audience="customer")


@pytest.fixture
def partner_request(awaiting_case, supervisor_actor):
    return evidence_request_create(
        case=awaiting_case,
        actor=supervisor_actor,
        door=Door.ADMIN,
        audience="carrier",
        checklist=[{"key": "proof", "label": "Proof of delivery", "required": True}],
        message="Please send the proof of delivery with the signature.",
    )


def link(evidence_request, lang: str | None = None) -> str:
    url = upload_url(evidence_request)
    return f"{url}?lang={lang}" if lang else url


def token_of(evidence_request) -> str:
    return upload_url(evidence_request).removeprefix("/e/").rstrip("/")


BOUNDARY = "----aftersales-test-boundary-7d2f"


def multipart(fields: dict[str, str] | None = None, files=()) -> tuple[bytes, str]:
    """A multipart body built by hand: the test client would cut file names to their last
    part, and hostile clients do not. ``files``: (field, name, bytes, content type)."""
    parts = []
    for name, value in (fields or {}).items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(head.encode() + value.encode() + b"\r\n")
    for field, name, data, content_type in files:
        head = (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; "
            f'name="{field}"; filename="{name}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={BOUNDARY}"


def post_files(client, url, files, fields=None, **extra):
    body, content_type = multipart(fields, files)
    return client.generic("POST", url, body, content_type=content_type, **extra)


def files_under(root: Path, folder: str) -> list[PurePosixPath] | list[Path]:
    """Files left in ``root/folder``; for "evidence", in the evidence storage (a folder or a
    bucket: ``--evidence-storage``)."""
    if folder == "evidence":
        return stored_evidence()
    base = root / folder
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []
