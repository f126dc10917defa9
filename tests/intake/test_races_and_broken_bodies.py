"""What can happen between a link being opened and its file being stored (the case closes, the
link is revoked, the completion step fails), and bodies the parser cannot read: each answered
in words, with nothing left behind."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.db import OperationalError
from django.test import RequestFactory

from cases.choices import CaseState, Door
from cases.demo_media import make_photo
from cases.errors import EvidenceRefused
from cases.models import Evidence
from cases.services import case_transition, evidence_request_revoke
from cases.services.evidence_requests import answers as evidence_requests_module
from cases.services.evidence_requests import evidence_request_receive
from intake import views
from intake.links import resolve_token
from tests.intake.conftest import files_under, link, multipart, token_of

pytestmark = pytest.mark.django_db


def photo(name: str, seed: str = "a") -> ContentFile:
    return ContentFile(make_photo(seed), name=name)


def test_a_case_closed_after_the_link_was_opened_takes_no_file(
    customer_request, supervisor_actor, private_media
):
    opened = resolve_token(token_of(customer_request))  # the visitor's page, still open
    case_transition(
        case=customer_request.case,
        transition="withdraw",
        actor=supervisor_actor,
        door=Door.ADMIN,
        reason="Duplicate claim",
    )

    with pytest.raises(EvidenceRefused, match="closed"):
        evidence_request_receive(
            evidence_request=opened, upload=photo("box.jpg"), checklist_item="outer_box"
        )

    assert not Evidence.objects.exists()
    assert files_under(private_media, "evidence") == []


def test_a_link_revoked_while_its_file_was_checked_takes_no_file(
    customer_request, supervisor_actor, private_media, monkeypatch
):
    opened = resolve_token(token_of(customer_request))
    real_inspect = evidence_requests_module.evidence_add.__globals__["inspect_media"]

    def revoke_meanwhile(raw):
        evidence_request_revoke(
            evidence_request=customer_request, actor=supervisor_actor, door=Door.ADMIN
        )
        return real_inspect(raw)

    monkeypatch.setitem(
        evidence_requests_module.evidence_add.__globals__, "inspect_media", revoke_meanwhile
    )

    with pytest.raises(EvidenceRefused, match="withdrawn"):
        evidence_request_receive(
            evidence_request=opened, upload=photo("box.jpg"), checklist_item="outer_box"
        )

    assert not Evidence.objects.exists()
    assert files_under(private_media, "evidence") == []


def test_a_failure_completing_the_request_keeps_neither_row_nor_file(
    customer_request, private_media, monkeypatch
):
    def broken(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(evidence_requests_module, "_fulfil", broken)

    with pytest.raises(OperationalError):
        evidence_request_receive(
            evidence_request=customer_request, upload=photo("box.jpg"), checklist_item="outer_box"
        )

    assert not Evidence.objects.exists()
    assert files_under(private_media, "evidence") == []
    customer_request.case.refresh_from_db()
    assert customer_request.case.state == CaseState.AWAITING_EVIDENCE


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"abc", "multipart/form-data"),  # no boundary
        (b"abc", "multipart/form-data; boundary="),
        ("&".join(f"f{i}=1" for i in range(2000)), "application/x-www-form-urlencoded"),
    ],
)
def test_an_unreadable_body_gets_the_intake_page_in_the_visitors_language(
    client, customer_request, body, content_type
):
    response = client.generic("POST", link(customer_request, "fr"), body, content_type=content_type)

    assert response.status_code == 400
    assert response["Content-Language"] == "fr"
    assert "L’envoi n’est pas arrivé complet" in response.content.decode()


def test_a_visitor_who_goes_away_mid_upload_leaves_no_temporary_file(
    customer_request, private_media
):
    body, content_type = multipart(
        {}, [("files:outer_box", "box.jpg", make_photo("a", size=(2000, 2000)) * 5, "image/jpeg")]
    )

    class CutConnection(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 100_000:
                raise ConnectionResetError("client went away")
            return super().read(size)

    request = RequestFactory().generic(
        "POST", link(customer_request), body, content_type=content_type
    )
    request._stream = CutConnection(body)
    request._dont_enforce_csrf_checks = True

    response = views.upload(request, token_of(customer_request))

    assert response.status_code == 400
    assert files_under(private_media, "tmp") == []
    assert not Evidence.objects.exists()
