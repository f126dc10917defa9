"""Keys, scoping to the client's marketplaces, rights, rate limits, create_api_client."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from api.models import ApiClient
from cases.models import Case, CaseEvent
from marketplaces.models import Marketplace
from tests.api.conftest import http, make_client, order
from tests.factories import open_case

pytestmark = pytest.mark.django_db


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/api/problems/{code}"
    assert body["title"] and body["detail"]
    return body


def test_no_key_is_401_with_a_challenge():
    response = http(None).get("/api/v1/cases/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize(
    "header",
    [
        "Token as_abcdefgh_wrongsecret",
        "Token not-a-key",
        "Token as_ABCDEFGH_x",
        "Token two parts",
        "Bearer as_zzzzzzzz_nothing",
    ],
)
def test_wrong_keys_are_401(tmall_client, header):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(api.get("/api/v1/cases/"), 401, "authentication_failed")


def test_a_key_differing_in_its_secret_is_refused(tmall_client):
    _client, key = tmall_client
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_problem(http(forged).get("/api/v1/cases/"), 401, "authentication_failed")
    assert http(key).get("/api/v1/cases/").status_code == 200


def test_key_is_stored_hashed_and_bearer_works_too(tmall_client):
    client, key = tmall_client
    stored = ApiClient.objects.get(pk=client.pk)
    assert key not in {stored.key_hash, stored.key_prefix}
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/marketplaces/").status_code == 200


def test_revoked_key_is_refused_with_the_date(tmall_client):
    client, key = tmall_client
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    body = assert_problem(http(key).get("/api/v1/cases/"), 401, "authentication_failed")
    assert "revoked" in body["detail"]


def test_last_used_is_recorded(tmall_client):
    client, key = tmall_client
    assert ApiClient.objects.get(pk=client.pk).last_used_at is None
    http(key).get("/api/v1/marketplaces/")
    assert ApiClient.objects.get(pk=client.pk).last_used_at is not None


def test_a_client_sees_and_touches_only_its_marketplaces(system_actor, jd_api, api):
    # given a Tmall case, and a client of JD only
    case = open_case("cancellation", actor=system_actor, marketplace="tmall")
    order("T-1")
    base = f"/api/v1/cases/{case.reference}"
    # then everything about it is 404 for the JD client...
    for response in (
        jd_api.get(f"{base}/"),
        jd_api.get(f"{base}/transitions/"),
        jd_api.post(f"{base}/transitions/", {"transition": "request_refund"}, format="json"),
        jd_api.get(f"{base}/evidence/"),
        jd_api.get(f"{base}/evidence/1/file"),
        jd_api.post(f"{base}/evidence-requests/", {}, format="json"),
        jd_api.post(f"{base}/refund-decisions/", {}, format="json"),
        jd_api.get("/api/v1/marketplaces/tmall/"),
        jd_api.get("/api/v1/marketplaces/tmall/scorecard/"),
    ):
        assert_problem(response, 404, "not_found")
    assert jd_api.get("/api/v1/cases/").json()["results"] == []
    assert jd_api.get("/api/v1/orders/").json()["results"] == []
    # ...it cannot open a case or import an order there...
    response = jd_api.post(
        "/api/v1/cases/",
        {"marketplace": "tmall", "order": "T-1", "kind": "cancellation"},
        format="json",
    )
    body = assert_problem(response, 400, "invalid")
    assert body["errors"][0]["field"] == "marketplace"
    assert "not one of your marketplaces" in body["errors"][0]["detail"]
    response = jd_api.post(
        "/api/v1/orders/",
        [{"marketplace": "tmall", "external_id": "X", "placed_at": "2026-01-01T00:00:00Z"}],
        format="json",
    )
    assert_problem(response, 400, "invalid")
    # ...and nothing changed, while the Tmall client sees the case.
    assert Case.objects.get(pk=case.pk).state == "new"
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert api.get(f"{base}/").status_code == 200


def test_filtering_on_another_marketplace_is_refused(jd_api):
    body = assert_problem(jd_api.get("/api/v1/cases/?marketplace=tmall"), 400, "invalid")
    assert body["errors"][0]["field"] == "marketplace"


def test_rate_limit_answers_429_with_retry_after(db):
    _, key = make_client("busy", ["tmall"], throttle_rate="3/min")
    api = http(key)
    for _ in range(3):
        assert api.get("/api/v1/marketplaces/").status_code == 200
    response = api.get("/api/v1/marketplaces/")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    # another client is not slowed down by it
    _, other = make_client("calm", ["tmall"])
    assert http(other).get("/api/v1/marketplaces/").status_code == 200


def test_create_api_client_prints_the_key_once_on_its_last_line(db):
    out = StringIO()
    call_command(
        "create_api_client",
        "erp-prod",
        "--marketplaces",
        "tmall,amazon_fr",
        "--right",
        "reject_refunds",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    client = ApiClient.objects.get(name="erp-prod")
    assert sorted(m.code for m in client.marketplaces.all()) == ["amazon_fr", "tmall"]
    assert client.permissions == {"cases.reject_refund"}
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    codes = [m["code"] for m in http(key).get("/api/v1/marketplaces/").json()]
    assert codes == ["amazon_fr", "tmall"]


def test_create_api_client_refuses_unknown_marketplaces_and_duplicates(db):
    with pytest.raises(CommandError, match="Unknown marketplace"):
        call_command("create_api_client", "x", "--marketplaces", "tmall,nowhere", stdout=StringIO())
    assert not ApiClient.objects.exists()
    call_command("create_api_client", "x", "--marketplaces", "jd", stdout=StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("create_api_client", "x", "--marketplaces", "jd", stdout=StringIO())
    assert ApiClient.objects.count() == 1


# -- invalid keys per address -------------------------------------------------------------------


def test_three_hundred_invalid_keys_from_one_address_are_throttled(tmall_client, settings):
    assert settings.API_INVALID_KEY_LIMIT == 30
    _client, key = tmall_client
    attacker = http(None)
    answers = [
        attacker.get(
            "/api/v1/cases/",
            HTTP_AUTHORIZATION=f"Token as_guess{n:04d}_{'x' * 32}",
            REMOTE_ADDR="203.0.113.7",
        )
        for n in range(300)
    ]
    statuses = [response.status_code for response in answers]
    assert statuses[:30] == [401] * 30
    assert set(statuses[30:]) == {429}
    throttled = assert_problem(answers[-1], 429, "throttled")
    assert "Too many invalid API keys were sent from your address" in throttled["detail"]
    assert 0 < int(answers[-1]["Retry-After"]) <= settings.API_INVALID_KEY_WINDOW_SECONDS
    # a valid key from another address still works; from the throttled one it waits too
    assert http(key).get("/api/v1/cases/", REMOTE_ADDR="198.51.100.20").status_code == 200
    blocked = http(key).get("/api/v1/cases/", REMOTE_ADDR="203.0.113.7")
    assert_problem(blocked, 429, "throttled")


def test_the_address_behind_trusted_proxies_is_the_one_counted(tmall_client, settings):
    settings.INTAKE_TRUSTED_PROXIES = 1
    settings.API_INVALID_KEY_LIMIT = 3
    _client, key = tmall_client
    for _ in range(5):
        http("as_nope_" + "y" * 32).get(
            "/api/v1/cases/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
        )
    same_proxy_other_client = http(key).get(
        "/api/v1/cases/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert same_proxy_other_client.status_code == 200
    again = http(key).get(
        "/api/v1/cases/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert_problem(again, 429, "throttled")


def test_a_key_and_its_marketplaces_are_read_in_one_query(tmall_client, django_assert_num_queries):
    # given a client of Tmall and Amazon whose "last used" is fresh
    client, key = tmall_client
    api = http(key)
    api.get("/api/v1/marketplaces/")
    # when it lists its orders: one query for the key, its client and marketplaces, one page
    with django_assert_num_queries(2):
        response = api.get("/api/v1/orders/?marketplace=tmall")
    assert response.status_code == 200
    # then the marketplaces are the client's, in their usual order (by name)
    found = ApiClient.objects.with_marketplaces(key_prefix=client.key_prefix)
    assert found is not None and found.pk == client.pk
    assert list(found.marketplaces_by_code()) == [
        m.code for m in client.marketplaces.order_by("name")
    ]


def test_a_client_with_no_marketplace_authenticates_and_sees_nothing(db):
    # given a client whose marketplaces were all taken away
    client, key = make_client("bare", [])
    # when it calls: its key still works, and it sees no case nor marketplace
    assert http(key).get("/api/v1/cases/").json()["results"] == []
    assert http(key).get("/api/v1/marketplaces/").json() == []
    found = ApiClient.objects.with_marketplaces(key_prefix=client.key_prefix)
    assert found is not None and found.marketplaces_by_code() == {}


def test_a_key_revoked_between_two_requests_is_refused_at_the_second(tmall_client):
    # given a key that just worked (nothing of it is kept between requests)
    client, key = tmall_client
    api = http(key)
    assert api.get("/api/v1/cases/").status_code == 200
    # when it is revoked, by another process (a plain UPDATE)
    ApiClient.objects.filter(pk=client.pk).update(revoked_at=timezone.now())
    # then its next request is refused, and an unknown prefix is refused too
    assert_problem(api.get("/api/v1/cases/"), 401, "authentication_failed")
    assert ApiClient.objects.with_marketplaces(key_prefix="zzzzzzzz") is None


def test_a_marketplace_taken_from_a_client_is_out_of_its_scope_at_the_next_request(
    system_actor, tmall_client
):
    client, key = tmall_client
    case = open_case("cancellation", actor=system_actor, marketplace="tmall")
    api = http(key)
    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    client.marketplaces.remove(Marketplace.objects.get(code="tmall"))
    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 404
