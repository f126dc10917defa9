"""``evidence_verify``: every stored evidence file read back against the SHA-256 recorded when
it was stored; missing, changed and unrecorded files reported; exit status 1 on a problem."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from cases.integrity import evidence_verify
from cases.models import Evidence, evidence_storage
from tests.factories import add_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(make_case, system_actor):
    case = make_case("damaged_item", marketplace="tmall")
    return [add_photo(case, system_actor) for _ in range(3)]


def run_command(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("evidence_verify", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_the_digest_of_the_stored_copy_is_recorded_when_it_is_stored(photos):
    for evidence in photos:
        with evidence_storage.open(evidence.file.name, "rb") as handle:
            assert evidence.stored_sha256 == hashlib.sha256(handle.read()).hexdigest()
        # the stored copy is not the original (metadata stripped): two digests
        assert evidence.stored_sha256 != evidence.sha256


def test_intact_files_pass(photos):
    assert run_command() == (0, "3 evidence files checked: 3 intact, 0 with problems.\n")


def test_a_changed_byte_and_a_missing_file_are_reported(photos):
    changed, missing, _intact = photos
    path = Path(evidence_storage.path(changed.file.name))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    evidence_storage.delete(missing.file.name)

    status, output = run_command()

    assert status == 1
    assert f"CHANGED: evidence {changed.pk} of case {changed.case.reference}" in output
    assert f"MISSING: evidence {missing.pk} of case {missing.case.reference}" in output
    assert "3 evidence files checked: 1 intact, 2 with problems." in output
    # nothing was written
    assert Evidence.objects.get(pk=changed.pk).stored_sha256 == changed.stored_sha256


def test_files_stored_before_digests_were_recorded_are_recorded_on_request(photos):
    Evidence.objects.filter(pk=photos[0].pk).update(stored_sha256="")
    status, output = run_command()
    assert status == 0
    assert "1 had no recorded digest (present; run with --record-missing" in output
    assert Evidence.objects.get(pk=photos[0].pk).stored_sha256 == ""

    status, output = run_command("--record-missing")
    assert status == 0 and "(1 recorded now)" in output
    assert Evidence.objects.get(pk=photos[0].pk).stored_sha256 == photos[0].stored_sha256
    assert evidence_verify().unrecorded == 0


def test_erased_evidence_is_not_expected_on_disk(photos):
    from django.utils import timezone

    evidence_storage.delete(photos[0].file.name)
    Evidence.objects.filter(pk=photos[0].pk).update(erased_at=timezone.now())
    result = evidence_verify()
    assert (result.checked, result.ok, result.problems) == (2, 2, [])
