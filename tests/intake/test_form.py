"""The upload form through HTTP: what it shows, plain multipart submits, the script's JSON path,
CSRF, languages, partners, and the case moving to review."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.choices import ActorType, CaseState, Door, EvidenceSource
from cases.demo_media import make_photo, make_video
from cases.events import render_event
from cases.models import CaseEvent, Evidence
from tests.intake.conftest import link, post_files

pytestmark = pytest.mark.django_db


def photo(seed: int) -> bytes:
    return make_photo(f"photo {seed}", seed=seed, size=(320, 240))


def test_the_form_shows_reference_checklist_and_deadline(client, customer_request):
    response = client.get(link(customer_request))

    assert response.status_code == 200
    page = response.content.decode()
    case = customer_request.case
    assert case.reference in page
    assert case.order.external_id in page
    for label in ("The outer box", "The damaged item", "The shipping label", "An unboxing video"):
        assert label in page
    assert customer_request.due_at.isoformat() in page  # <time datetime=...>
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # Nothing from elsewhere: every asset is served by this site.
    assert "http://" not in page and "https://" not in page


def test_plain_submit_of_two_photos_and_a_video_moves_the_case_to_review(client, customer_request):
    response = post_files(
        client,
        link(customer_request),
        [
            ("files:outer_box", "box.jpg", photo(1), "image/jpeg"),
            ("files:item", "item.jpg", photo(2), "image/jpeg"),
            ("files:shipping_label", "label.mp4", make_video(seconds=1), "video/mp4"),
        ],
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="file accepted"') == 3
    assert "Our team is now reviewing it" in page
    case = customer_request.case
    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW
    evidence = Evidence.objects.filter(case=case).order_by("pk")
    assert [(e.checklist_item, e.media_type) for e in evidence] == [
        ("outer_box", "photo"),
        ("item", "photo"),
        ("shipping_label", "video"),
    ]
    assert {e.source for e in evidence} == {EvidenceSource.CUSTOMER}
    assert {e.request_id for e in evidence} == {customer_request.pk}
    moved = CaseEvent.objects.get(case=case, transition="start_review")
    assert (moved.actor_type, moved.actor_ref, moved.door) == (
        ActorType.LINK,
        str(customer_request.pk),
        Door.FORM,
    )
    customer_request.refresh_from_db()
    assert customer_request.fulfilled_at is not None


def test_the_script_path_answers_json_per_file(client, customer_request):
    url = link(customer_request)

    first = post_files(
        client,
        url,
        [("file", "box.jpg", photo(1), "image/jpeg")],
        fields={"item": "outer_box"},
        HTTP_ACCEPT="application/json",
    )

    assert first.status_code == 200
    body = first.json()
    assert body["files"][0]["status"] == "accepted"
    assert body["files"][0]["preview_url"].startswith(url.split("?")[0])
    assert body["moved_to_review"] is False
    progress = {entry["key"]: entry for entry in body["checklist"]}
    assert progress["outer_box"] == {
        "key": "outer_box",
        "received": 1,
        "done": True,
        "required": True,
        "text": "✓ 1 file received",
    }
    assert progress["item"]["done"] is False
    customer_request.case.refresh_from_db()
    assert customer_request.case.state == CaseState.AWAITING_EVIDENCE

    again = post_files(
        client,
        url,
        [("file", "same-again.jpg", photo(1), "image/jpeg")],
        fields={"item": "item"},
        HTTP_ACCEPT="application/json",
    )
    assert again.json()["files"][0]["status"] == "duplicate"
    assert Evidence.objects.filter(case=customer_request.case).count() == 1

    for key, seed in (("item", 2), ("shipping_label", 3)):
        last = post_files(
            client,
            url,
            [("file", f"{key}.jpg", photo(seed), "image/jpeg")],
            fields={"item": key},
            HTTP_ACCEPT="application/json",
        )
    assert last.json()["moved_to_review"] is True
    assert last.json()["fulfilled"] is True
    assert "reviewing" in last.json()["status"]


def test_a_refused_file_answers_422_with_the_reason(client, customer_request):
    response = post_files(
        client,
        link(customer_request),
        [("file", "notes.jpg", b"just text\n" * 50, "image/jpeg")],
        fields={"item": "item"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 422
    result = response.json()["files"][0]
    assert result["status"] == "refused"
    assert "“notes.jpg” is not a photo or a video: it contains text" in result["message"]
    assert Evidence.objects.count() == 0


def test_an_item_the_request_does_not_ask_for_is_refused(client, customer_request):
    response = post_files(
        client,
        link(customer_request),
        [("file", "box.jpg", photo(1), "image/jpeg")],
        fields={"item": "passport"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 422
    assert "does not ask for “passport”" in response.json()["files"][0]["message"]
    assert Evidence.objects.count() == 0


def test_a_submit_without_files_says_so(client, customer_request):
    response = post_files(client, link(customer_request), [])

    assert response.status_code == 200
    assert "Choose at least one photo or video." in response.content.decode()


def test_csrf_is_required(customer_request):
    client = Client(enforce_csrf_checks=True)

    response = post_files(
        client, link(customer_request), [("files:item", "item.jpg", photo(1), "image/jpeg")]
    )

    assert response.status_code == 403
    assert "This page has expired" in response.content.decode()
    assert Evidence.objects.count() == 0


def test_csrf_token_from_the_page_is_accepted(customer_request):
    client = Client(enforce_csrf_checks=True)
    client.get(link(customer_request))
    token = client.cookies["csrftoken"].value

    response = post_files(
        client,
        link(customer_request),
        [("files:item", "item.jpg", photo(1), "image/jpeg")],
        fields={"csrfmiddlewaretoken": token},
    )

    assert response.status_code == 200
    assert Evidence.objects.count() == 1


def test_finishing_early_moves_the_case_with_what_arrived(client, customer_request):
    url = link(customer_request)
    post_files(client, url, [("files:item", "item.jpg", photo(1), "image/jpeg")])

    response = client.post(url, {"finish": "1"})

    assert response.status_code == 200
    case = customer_request.case
    case.refresh_from_db()
    assert case.state == CaseState.UNDER_REVIEW
    event = CaseEvent.objects.get(case=case, transition="start_review")
    assert event.data["source"] == "evidence_sent_all"
    assert "The customer said they sent everything they have." in render_event(event).detail


def test_finishing_before_sending_anything_is_refused(client, customer_request):
    response = client.post(link(customer_request), {"finish": "1"})

    assert "Send at least one photo or video first." in response.content.decode()
    customer_request.case.refresh_from_db()
    assert customer_request.case.state == CaseState.AWAITING_EVIDENCE


@pytest.mark.parametrize(
    ("customer_language", "expected"),
    [
        ("fr", "Envoyez vos photos et vidéos"),
        ("zh-hans", "发送您的照片和视频"),
        ("en", "Send your photos and videos"),
    ],
)
def test_the_page_speaks_the_customer_language(
    client, make_case, system_actor, customer_language, expected
):
    from cases.services import case_transition
    from tests.factories import make_order

    order = make_order("tmall", customer_language=customer_language)
    case = case_transition(
        case=make_case("damaged_item", order=order),
        transition="request_evidence",
        actor=system_actor,
        door=Door.ADMIN,
    )
    response = client.get(link(case.evidence_requests.get()))

    assert expected in response.content.decode()
    assert response["Content-Language"] == customer_language


def test_the_language_can_be_switched_and_is_remembered(client, customer_request):
    switched = client.get(link(customer_request, lang="fr"))

    assert "Envoyez vos photos et vidéos" in switched.content.decode()
    assert "Le carton extérieur" in switched.content.decode()
    again = client.get(link(customer_request))  # the cookie keeps the choice
    assert "Envoyez vos photos et vidéos" in again.content.decode()
    chinese = client.get(link(customer_request, lang="zh-hans"))
    assert "外包装箱" in chinese.content.decode()


def test_refusals_are_explained_in_the_visitor_language(client, customer_request):
    response = post_files(
        client,
        link(customer_request, lang="fr"),
        [("file", "notes.jpg", b"just text\n" * 50, "image/jpeg")],
        fields={"item": "item"},
        HTTP_ACCEPT="application/json",
    )

    message = response.json()["files"][0]["message"]
    assert message.startswith("« notes.jpg » n’est ni une photo ni une vidéo")


def test_a_partner_sees_only_its_own_request(client, customer_request, partner_request):
    # given: the customer already sent a photo
    post_files(client, link(customer_request), [("files:item", "mine.jpg", photo(1), "image/jpeg")])
    customer_file = Evidence.objects.get()
    order = customer_request.case.order

    # when: the carrier opens its own link and sends its proof
    page = client.get(link(partner_request)).content.decode()
    response = post_files(
        client, link(partner_request), [("files:proof", "pod.jpg", photo(9), "image/jpeg")]
    )

    # then: nothing of the customer's is shown, and the case stays where it is
    for private in (order.customer_name, order.customer_email, order.external_id, "mine.jpg"):
        assert private not in page
        assert private not in response.content.decode()
    assert "Proof of delivery" in page
    assert "Please send the proof of delivery with the signature." in page
    partner_file = Evidence.objects.exclude(pk=customer_file.pk).get()
    assert partner_file.source == EvidenceSource.PARTNER
    assert partner_file.request_id == partner_request.pk
    assert f"/files/{customer_file.pk}/" not in response.content.decode()
    partner_request.refresh_from_db()
    assert partner_request.fulfilled_at is not None
    customer_request.case.refresh_from_db()
    assert customer_request.case.state == CaseState.AWAITING_EVIDENCE


def test_the_page_query_count_does_not_grow_with_the_files_sent(
    client, customer_request, django_assert_max_num_queries
):
    url = link(customer_request)
    post_files(client, url, [("files:item", "a.jpg", photo(1), "image/jpeg")])
    with django_assert_max_num_queries(6) as few:
        client.get(url)
    baseline = len(few)  # before the next request resets the connection's query log
    post_files(
        client,
        url,
        [("files:item", f"{seed}.jpg", photo(seed), "image/jpeg") for seed in range(2, 8)],
    )
    with django_assert_max_num_queries(baseline):
        response = client.get(url)
    assert response.content.decode().count("data-preview") == 7


def test_the_deadline_is_shown_in_the_marketplace_time_zone(client, customer_request):
    # Tmall: Asia/Shanghai; evidence deadlines end at 23:59:59 local time.
    local = customer_request.due_at.astimezone(customer_request.case.marketplace.tz)
    assert (local.hour, local.minute) == (23, 59)

    page = client.get(link(customer_request)).content.decode()

    assert "11:59 p.m. CST" in page and "(Asia/Shanghai time)" in page
