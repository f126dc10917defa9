"""Dispute packs: the ZIP, its manifest's hashes, the PDF's text (pdftotext), the pack's SHA-256
in the audit trail, and pack_verify on a changed byte."""

import datetime as dt
import hashlib
import io
import json
import shutil
import subprocess
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cases.choices import Door, EventType
from cases.demo_media import make_video
from cases.models import CaseEvent, Evidence
from cases.services import case_note_add, evidence_add, refund_request_create
from marketplaces.models import Marketplace
from packs.build import pack_build
from packs.verify import pack_verify
from tests.factories import make_order, open_case, run

pytestmark = pytest.mark.django_db

PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(data: bytes, tmp_path) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    path = tmp_path / "summary.pdf"
    path.write_bytes(data)
    return subprocess.run(
        [PDFTOTEXT, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def claim(system_actor, supervisor_actor):
    """A damaged-item claim under review with a photo, a note, a refund request."""
    order = make_order(
        "tmall", customer_name="王芳", customer_email="wangfang@example.com", external_id="TM-88"
    )
    case = open_case("damaged_item", actor=system_actor, order=order)
    case = run(case, ["request_evidence", "start_review"], system_actor)
    case_note_add(
        case=case,
        text="Supplier admits the packing was thin.",
        actor=supervisor_actor,
        door=Door.ADMIN,
    )
    refund_request_create(
        case=case,
        actor=system_actor,
        door=Door.API,
        amount="60.00",
        currency="CNY",
        requested_at=timezone.now() - dt.timedelta(hours=2),
    )
    return case


def open_pack(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive, json.loads(archive.read("manifest.json"))


def test_the_pack_holds_the_pdf_the_evidence_and_a_manifest_of_every_hash(
    claim, system_actor, tmp_path
):
    pack = pack_build(case=claim, language="en", actor=system_actor, door=Door.ADMIN)

    archive, manifest = open_pack(pack.data)
    assert manifest["case"] == claim.reference
    names = set(archive.namelist())
    listed = {entry["path"] for entry in manifest["files"]}
    assert names == listed | {"manifest.json"}
    for entry in manifest["files"]:  # every file is the one the manifest names
        data = archive.read(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
    [photo] = Evidence.objects.filter(case=claim)
    [evidence] = manifest["evidence"]
    assert evidence["sha256_original"] == photo.sha256  # the original upload's hash
    assert evidence["path"] in names
    stored = photo.file.open("rb").read()
    assert evidence["sha256_stored"] == hashlib.sha256(stored).hexdigest()

    # the pack's own hash is in the case's audit trail, written through the kernel
    event = CaseEvent.objects.get(case=claim, event_type=EventType.PACK_PRODUCED)
    assert event.data["sha256"] == pack.sha256 == hashlib.sha256(pack.data).hexdigest()
    assert (
        event.data["manifest_sha256"] == hashlib.sha256(archive.read("manifest.json")).hexdigest()
    )

    text = pdf_text(archive.read("summary.pdf"), tmp_path)
    assert claim.reference in text
    assert "Request evidence" in text and "Start review" in text  # the transitions
    assert "New → Awaiting evidence" in text
    assert photo.sha256 in text
    assert "60.00 CNY" in text
    # internal notes are left out unless asked for
    assert "packing was thin" not in text


def test_the_chinese_pack_renders_the_customer_name_in_a_cjk_font(claim, system_actor, tmp_path):
    pack = pack_build(case=claim, language="zh-hans", actor=system_actor, door=Door.ADMIN)
    archive, manifest = open_pack(pack.data)
    assert manifest["language"] == "zh-hans"
    pdf = archive.read("summary.pdf")
    text = pdf_text(pdf, tmp_path)
    assert "王芳" in text
    assert claim.reference in text
    assert "请求证据" in text  # the transitions, in Chinese
    assert "新建 → 等待证据" in text
    assert "Request evidence" not in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "summary.pdf")], capture_output=True, text=True
    ).stdout
    assert "WenQuanYi" in fonts or "PackCJK" in fonts


def test_internal_notes_are_in_the_pack_only_when_asked_for(claim, system_actor, tmp_path):
    pack = pack_build(
        case=claim,
        language="fr",
        actor=system_actor,
        door=Door.ADMIN,
        include_internal_notes=True,
    )
    archive, manifest = open_pack(pack.data)
    assert manifest["internal_notes"] is True
    text = pdf_text(archive.read("summary.pdf"), tmp_path)
    assert "packing was thin" in text
    assert "NOTE INTERNE" in text and "Dossier de litige" in text  # in French


def test_a_video_above_the_marketplace_limit_is_linked_by_hash(system_actor, tmp_path):
    Marketplace.objects.filter(code="tmall").update(pack_max_embedded_video_mb=0)
    case = open_case("damaged_item", actor=system_actor)
    video = evidence_add(
        case=case,
        upload=SimpleUploadedFile("unboxing.mp4", make_video(seconds=1.0)),
        source="customer",
        actor=system_actor,
        door=Door.FORM,
    ).evidence

    pack = pack_build(case=case, language="en", actor=system_actor, door=Door.ADMIN)

    archive, manifest = open_pack(pack.data)
    [entry] = manifest["evidence"]
    assert entry["path"] is None and entry["linked_by_hash"] is True
    assert entry["sha256_original"] == video.sha256
    assert not [name for name in archive.namelist() if name.startswith("evidence/")]
    assert video.sha256 in pdf_text(archive.read("summary.pdf"), tmp_path)


def test_pack_verify_knows_the_pack_and_names_a_changed_file(claim, system_actor, tmp_path):
    pack = pack_build(case=claim, language="en", actor=system_actor, door=Door.ADMIN)
    assert pack_verify(pack.data).produced is True

    # when: one byte of the PDF changes inside an otherwise identical ZIP
    archive, _manifest = open_pack(pack.data)
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == "summary.pdf":
                index = len(data) // 2
                data = data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]
            out.writestr(info, data)
    verdict = pack_verify(tampered.getvalue())

    assert verdict.produced is False
    assert verdict.changed == ["summary.pdf"]
    assert verdict.manifest_known is True

    # and the command says so, with a failing exit status
    path = tmp_path / "tampered.zip"
    path.write_bytes(tampered.getvalue())
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("pack_verify", str(path), stdout=out)
    assert exit_.value.code == 1
    assert "changed: summary.pdf" in out.getvalue()
    good = tmp_path / "good.zip"
    good.write_bytes(pack.data)
    out = io.StringIO()
    call_command("pack_verify", str(good), stdout=out)
    assert f"produced for case {claim.reference}" in out.getvalue()


def test_a_manifest_rewritten_to_match_is_caught(claim, system_actor):
    pack = pack_build(case=claim, language="en", actor=system_actor, door=Door.ADMIN)
    archive, manifest = open_pack(pack.data)
    pdf = archive.read("summary.pdf") + b"% appended"
    for entry in manifest["files"]:
        if entry["path"] == "summary.pdf":
            entry["sha256"], entry["size"] = hashlib.sha256(pdf).hexdigest(), len(pdf)
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "summary.pdf":
                data = pdf
            elif name == "manifest.json":
                data = json.dumps(manifest).encode()
            out.writestr(name, data)
    verdict = pack_verify(tampered.getvalue())
    assert verdict.produced is False and verdict.manifest_known is False
    assert "manifest.json" in verdict.summary
