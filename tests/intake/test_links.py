"""Upload links: signed, bound to one case and one request, expiring, revocable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from cases.choices import Door
from cases.services import evidence_request_create, evidence_request_revoke
from intake import links
from intake.links import LinkCaseClosed, LinkExpired, LinkInvalid, LinkRevoked


@pytest.fixture
def evidence_request(make_case, system_actor):
    case = make_case("damaged_item")
    return evidence_request_create(case=case, actor=system_actor, door=Door.COMMAND)


def token_of(evidence_request) -> str:
    return links.upload_url(evidence_request).removeprefix("/e/").rstrip("/")


def test_upload_url_resolves_to_its_request(evidence_request):
    url = links.upload_url(evidence_request)

    assert url.startswith("/e/") and url.endswith("/")
    resolved = links.resolve_token(token_of(evidence_request))
    assert resolved.pk == evidence_request.pk
    assert resolved.case_id == evidence_request.case_id


def test_tampered_signature_is_invalid(evidence_request):
    token = token_of(evidence_request)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")

    with pytest.raises(LinkInvalid) as caught:
        links.resolve_token(forged)
    assert caught.value.status == 404


@pytest.mark.parametrize("token", ["", "x", "a:b", "W10:zzzz", "../../etc/passwd"])
def test_garbage_is_invalid(db, token):
    with pytest.raises(LinkInvalid):
        links.resolve_token(token)


def test_link_of_case_a_never_reaches_case_b(make_case, system_actor):
    request_a = evidence_request_create(
        case=make_case("damaged_item"), actor=system_actor, door=Door.COMMAND
    )
    request_b = evidence_request_create(
        case=make_case("damaged_item"), actor=system_actor, door=Door.COMMAND
    )
    # A token claiming A's request on B's case, or B's request with A's nonce, signed with the
    # right key (as an insider could), still opens nothing.
    signer = signing.Signer(salt=links.SALT)
    mixed = [
        [request_a.pk, request_b.case_id, request_a.token_nonce],
        [request_b.pk, request_b.case_id, request_a.token_nonce],
    ]
    for payload in mixed:
        with pytest.raises(LinkInvalid):
            links.resolve_token(signer.sign_object(payload))
    # A's real token opens A only.
    assert links.resolve_token(token_of(request_a)).case_id == request_a.case_id


def test_token_signed_with_another_salt_is_invalid(evidence_request):
    payload = [evidence_request.pk, evidence_request.case_id, evidence_request.token_nonce]
    token = signing.Signer(salt="something-else").sign_object(payload)

    with pytest.raises(LinkInvalid):
        links.resolve_token(token)


def test_revoked_link_is_gone(evidence_request, system_actor):
    token = token_of(evidence_request)
    evidence_request_revoke(evidence_request=evidence_request, actor=system_actor, door=Door.ADMIN)

    with pytest.raises(LinkRevoked) as caught:
        links.resolve_token(token)
    assert caught.value.status == 410


def test_link_expires_after_the_deadline_and_its_grace(evidence_request, settings):
    settings.INTAKE_LINK_GRACE = dt.timedelta(days=2)
    token = token_of(evidence_request)
    expires = evidence_request.due_at + dt.timedelta(days=2)

    assert links.link_expires_at(evidence_request) == expires
    assert links.resolve_token(token, at=expires).pk == evidence_request.pk
    with pytest.raises(LinkExpired) as caught:
        links.resolve_token(token, at=expires + dt.timedelta(seconds=1))
    assert caught.value.status == 410


def test_expired_by_wall_clock(evidence_request, settings):
    settings.INTAKE_LINK_GRACE = dt.timedelta(0)
    token = token_of(evidence_request)
    type(evidence_request).objects.filter(pk=evidence_request.pk).update(
        due_at=timezone.now() - dt.timedelta(minutes=1)
    )

    with pytest.raises(LinkExpired):
        links.resolve_token(token)


def test_link_of_a_closed_case_is_gone(evidence_request, supervisor_actor):
    from cases.services import case_transition

    token = token_of(evidence_request)
    case_transition(
        case=evidence_request.case,
        transition="withdraw",
        actor=supervisor_actor,
        door=Door.ADMIN,
        reason="Duplicate",
    )

    with pytest.raises(LinkCaseClosed):
        links.resolve_token(token)


# -- the pages a visitor sees ----------------------------------------------------------------


def test_a_tampered_link_shows_404_without_the_case(client, evidence_request):
    url = links.upload_url(evidence_request)
    forged = url[:-3] + ("x" if url[-3] != "x" else "y") + url[-2:]

    response = client.get(forged)

    assert response.status_code == 404
    page = response.content.decode()
    assert "This link is not valid" in page
    assert evidence_request.case.reference not in page
    assert evidence_request.case.order.external_id not in page


def test_a_revoked_link_shows_410_in_the_customer_language(client, make_case, system_actor):
    from tests.factories import make_order

    case = make_case("damaged_item", order=make_order("cdiscount", customer_language="fr"))
    evidence_request = evidence_request_create(case=case, actor=system_actor, door=Door.ADMIN)
    evidence_request_revoke(evidence_request=evidence_request, actor=system_actor, door=Door.ADMIN)

    response = client.get(links.upload_url(evidence_request))

    assert response.status_code == 410
    page = response.content.decode()
    assert "Ce lien a été retiré par notre service client" in page
    assert case.reference not in page
    assert response["Content-Language"] == "fr"


def test_an_expired_link_shows_410_in_the_chosen_language(client, evidence_request, settings):
    settings.INTAKE_LINK_GRACE = dt.timedelta(0)
    type(evidence_request).objects.filter(pk=evidence_request.pk).update(
        due_at=timezone.now() - dt.timedelta(hours=1)
    )

    response = client.get(links.upload_url(evidence_request) + "?lang=zh-hans")

    assert response.status_code == 410
    assert "此链接已过期" in response.content.decode()


def test_an_unknown_link_speaks_the_browser_language(client, db):
    response = client.get("/e/WzEsMSwiYWJjIl0:abcdefghijk/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")

    assert response.status_code == 404
    assert "Ce lien n’est pas valide" in response.content.decode()


def test_an_upload_through_a_revoked_link_is_refused_and_keeps_nothing(
    client, evidence_request, system_actor, private_media
):
    from cases.demo_media import make_photo
    from cases.models import Evidence
    from tests.intake.conftest import files_under, post_files

    url = links.upload_url(evidence_request)
    evidence_request_revoke(evidence_request=evidence_request, actor=system_actor, door=Door.ADMIN)

    response = post_files(client, url, [("files:item", "a.jpg", make_photo("a"), "image/jpeg")])

    assert response.status_code == 410
    assert Evidence.objects.count() == 0
    assert files_under(private_media, "tmp") == []
