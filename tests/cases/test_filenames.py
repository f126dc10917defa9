"""One file-name rule for every door (``cases.filenames``): the hostile names of the issue sent
as raw multipart bodies (as a hostile client sends them, not cut down by a test client) to the
API, the upload form and the admin give the same stored name, or the same refusal, and what is
stored, served and shown is safe."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.choices import Door
from cases.demo_media import make_photo
from cases.errors import ErrorCode, EvidenceRefused
from cases.filenames import MAX_LENGTH, clean_name, evidence_file_name
from cases.models import CaseEvent, Evidence
from cases.services import case_transition
from intake.links import upload_url
from tests.api.conftest import make_client
from tests.factories import open_case
from tests.intake.conftest import files_under, multipart

pytestmark = pytest.mark.django_db

RLO = "\u202e"
LONG_BUT_READABLE = "a" * 300 + ".jpg"
SHORTENED = "a" * (MAX_LENGTH - 5) + "….jpg"

# (name as sent, name stored)
MADE_SAFE = [
    ("../../../../etc/cron.d/x.jpg", "x.jpg"),
    ("..\\..\\windows\\x.jpg", "x.jpg"),
    ("C:\\Users\\li\\Pictures\\box.jpg", "box.jpg"),
    ("photo\x00.php.jpg", "photo.php.jpg"),
    (f"invoice{RLO}exe.jpg", "invoiceexe.jpg"),
    ("\u2066evil\u2069\u200f\u200e\u202a\u202b\u202c\u202d.jpg", "evil.jpg"),
    ("tab\tnew\nline\x7f\x1b.jpg", "tabnewline.jpg"),
    ("  ...hidden.jpg. ", "hidden.jpg"),
    ("e\u0301te\u0301.jpg", "été.jpg"),  # NFC: one letter, not a letter and an accent
    ("照片 1.jpg", "照片 1.jpg"),
    (LONG_BUT_READABLE, SHORTENED),
]


# -- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "stored"), MADE_SAFE)
def test_each_hostile_name_is_made_safe(raw, stored):
    assert evidence_file_name(raw) == stored
    assert clean_name(stored) == stored  # cleaning is stable: a second door changes nothing
    assert all(char.isprintable() for char in stored)
    assert "/" not in stored and "\\" not in stored and len(stored) <= MAX_LENGTH


@pytest.mark.parametrize("raw", ["", "..", "../..", "\\", f"{RLO}\u200b\x00", " . ", "/etc/"])
def test_a_name_with_nothing_usable_is_refused_in_words(raw):
    with pytest.raises(EvidenceRefused) as refused:
        evidence_file_name(raw)
    assert refused.value.code == ErrorCode.BAD_FILE_NAME
    assert "give the file a plain name, such as photo.jpg" in refused.value.message
    assert "\x00" not in refused.value.message and RLO not in refused.value.message


def test_shortening_keeps_the_extension_and_whole_letters():
    name = evidence_file_name("é" * 200 + ".jpeg")
    assert name.endswith("….jpeg") and len(name) == MAX_LENGTH
    decomposed = evidence_file_name("x" * 114 + "e\u0301" * 10 + ".png")
    assert decomposed.endswith("….png") and len(decomposed) <= MAX_LENGTH
    no_extension = evidence_file_name("n" * 500)
    assert no_extension == "n" * (MAX_LENGTH - 1) + "…"


# -- the three doors ----------------------------------------------------------------------------


@pytest.fixture
def claim(system_actor):
    case = open_case("damaged_item", actor=system_actor)
    return case_transition(
        case=case, transition="request_evidence", actor=system_actor, door=Door.COMMAND
    )


@pytest.fixture
def api_key(db):
    return make_client("names-erp", ["tmall"])[1]


@pytest.fixture
def staff_client(db, django_user_model):
    from django.contrib.auth.models import Group

    from workspace.roles import SUPPORT_AGENT

    user = django_user_model.objects.create_user("lea", password="pw-lea-1", is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    client = Client()
    client.force_login(user)
    return client


def send(door: str, claim, name: str, data: bytes, *, api_key: str, staff_client: Client):
    """POST one file named ``name`` through ``door``; returns the response."""
    if door == "api":
        body, content_type = multipart({}, [("file", name, data, "image/jpeg")])
        return Client().generic(
            "POST",
            f"/api/v1/cases/{claim.reference}/evidence/",
            body,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Token {api_key}",
        )
    if door == "form":
        request = claim.evidence_requests.get(audience="customer")
        body, content_type = multipart({"item": "item"}, [("file", name, data, "image/jpeg")])
        return Client().generic(
            "POST",
            upload_url(request),
            body,
            content_type=content_type,
            HTTP_ACCEPT="application/json",
        )
    body, content_type = multipart({}, [("files", name, data, "image/jpeg")])
    return staff_client.generic(
        "POST", f"/admin/cases/case/{claim.pk}/evidence/", body, content_type=content_type
    )


DOORS = ["api", "form", "admin"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("raw", "stored"), MADE_SAFE, ids=[repr(r)[:40] for r, _ in MADE_SAFE])
def test_every_door_stores_the_same_safe_name_and_serves_it_safely(
    door, raw, stored, claim, api_key, staff_client, private_media
):
    response = send(
        door, claim, raw, make_photo(raw, size=(40, 30)), api_key=api_key, staff_client=staff_client
    )
    assert response.status_code in {200, 201, 302}, response.content[:500]
    evidence = Evidence.objects.get(case=claim)
    assert evidence.original_name == stored
    # stored on disk under a random name inside the evidence folder, nowhere else
    on_disk = files_under(private_media, "evidence")
    assert [p.name for p in on_disk] == [evidence.file.name.rsplit("/", 1)[-1]]
    assert files_under(private_media, "tmp") == []
    # the event renders the clean name
    event = CaseEvent.objects.get(case=claim, event_type="evidence_added")
    from cases.events import RenderContext, render_event

    context = RenderContext(evidence_names={evidence.pk: evidence.original_name})
    assert render_event(event, context).detail == stored
    # served with a safe name: the API's download and the case page
    download = Client().get(
        f"/api/v1/cases/{claim.reference}/evidence/{evidence.pk}/file/",
        HTTP_AUTHORIZATION=f"Token {api_key}",
    )
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert RLO not in disposition and "\x00" not in disposition and "/" not in disposition
    assert disposition.startswith("inline; filename")
    page = staff_client.get(f"/admin/cases/case/{claim.pk}/change/").content.decode()
    assert RLO not in page and "\x00" not in page


@pytest.mark.parametrize("door", DOORS)
def test_every_door_says_a_name_too_long_to_read_is_too_long(
    door, claim, api_key, staff_client, private_media
):
    response = send(
        door,
        claim,
        "a" * 1000 + ".jpg",
        make_photo("long", size=(40, 30)),
        api_key=api_key,
        staff_client=staff_client,
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "A file name is too long to be read" in text
    assert "Rename the file to something shorter" in text
    if door == "api":
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "file_name_too_long"
        assert response.json()["errors"][0]["field"] == "file"
    assert not Evidence.objects.exists()
    assert files_under(private_media, "evidence") == [] and files_under(private_media, "tmp") == []


@pytest.mark.parametrize("door", ["api", "form"])
def test_a_name_with_nothing_usable_is_refused_at_the_api_and_the_form(
    door, claim, api_key, staff_client
):
    response = send(
        door,
        claim,
        f"..\\{RLO}..",
        make_photo("x", size=(40, 30)),
        api_key=api_key,
        staff_client=staff_client,
    )
    assert response.status_code in {400, 422}
    assert "cannot be used: give the file a plain name" in response.content.decode()
    assert not Evidence.objects.exists()


def test_names_stored_before_the_rule_are_served_and_shown_clean(claim, api_key, system_actor):
    # a row stored by an earlier version (the migration cleans them; a restored backup may not)
    from tests.factories import add_photo

    evidence = add_photo(claim, system_actor)
    Evidence.objects.filter(pk=evidence.pk).update(original_name=f"invoice{RLO}exe.jpg")
    download = Client().get(
        f"/api/v1/cases/{claim.reference}/evidence/{evidence.pk}/file/",
        HTTP_AUTHORIZATION=f"Token {api_key}",
    )
    assert download["Content-Disposition"] == 'inline; filename="invoiceexe.jpg"'
