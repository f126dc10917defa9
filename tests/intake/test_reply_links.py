"""The upload link of a reply template: the customer's open request, or a new one."""

import pytest

from cases.choices import Door
from cases.models import EvidenceRequest
from intake.links import resolve_token
from intake.reply_links import upload_link_maker
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def test_link_reuses_the_open_request_and_resolves(system_actor, settings):
    settings.INTAKE_PUBLIC_URL = "https://support.example"
    case = open_case("damaged_item", actor=system_actor)
    make = upload_link_maker(actor=system_actor, door=Door.ADMIN)
    first, second = make(case), make(case)
    assert first == second and first.startswith("https://support.example/e/")
    request = EvidenceRequest.objects.get(case=case)
    token = first.removeprefix("https://support.example/e/").rstrip("/")
    assert resolve_token(token).pk == request.pk
