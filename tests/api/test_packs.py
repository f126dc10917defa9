"""GET /api/v1/cases/{reference}/pack/: the dispute pack as a ZIP, its SHA-256 recorded."""

import hashlib
import io
import json
import zipfile

import pytest

from cases.choices import EventType
from cases.models import CaseEvent
from packs.verify import pack_verify
from tests.api.test_auth import assert_problem
from tests.factories import add_photo, open_case

pytestmark = pytest.mark.django_db


def test_the_pack_downloads_as_a_zip_whose_hash_is_in_the_audit_trail(api, system_actor):
    case = open_case("damaged_item", actor=system_actor)
    add_photo(case, system_actor)

    response = api.get(f"/api/v1/cases/{case.reference}/pack/?language=fr")

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.reference}-pack-fr.zip"'
    )
    data = response.content
    assert response["X-Pack-SHA256"] == hashlib.sha256(data).hexdigest()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert (manifest["case"], manifest["language"]) == (case.reference, "fr")
    event = CaseEvent.objects.get(case=case, event_type=EventType.PACK_PRODUCED)
    assert (event.door, event.data["sha256"]) == ("api", hashlib.sha256(data).hexdigest())
    assert pack_verify(data).produced is True


def test_a_bad_language_is_a_problem_and_another_marketplace_s_case_is_not_found(
    api, jd_api, system_actor
):
    case = open_case("damaged_item", actor=system_actor)
    body = assert_problem(
        api.get(f"/api/v1/cases/{case.reference}/pack/?language=de"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "language"
    assert_problem(jd_api.get(f"/api/v1/cases/{case.reference}/pack/"), 404, "not_found")
    assert not CaseEvent.objects.filter(event_type=EventType.PACK_PRODUCED).exists()
