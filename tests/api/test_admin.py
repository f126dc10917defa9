"""API clients in the admin: created with their key shown once, rotated, revoked."""

import re

import pytest

from api.models import ApiClient
from marketplaces.models import Marketplace
from tests.api.conftest import http, make_client

pytestmark = pytest.mark.django_db


def shown_key(response) -> str:
    found = re.search(r"<code>(as_[a-z0-9]{8}_[A-Za-z0-9_-]+)</code>", response.content.decode())
    assert found, "the key is shown once"
    return found.group(1)


def test_create_a_client_in_the_admin_and_use_its_key(admin_client):
    tmall = Marketplace.objects.get(code="tmall")
    response = admin_client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "warehouse",
            "marketplaces": [tmall.pk],
            "may_reject_refunds": "on",
            "throttle_rate": "600/min",
            "notes": "",
            "webhook_subscriptions-TOTAL_FORMS": "0",
            "webhook_subscriptions-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    key = shown_key(response)
    client = ApiClient.objects.get(name="warehouse")
    assert client.permissions == {"cases.reject_refund"}
    assert key not in (client.key_hash, client.key_prefix)
    assert http(key).get("/api/v1/marketplaces/").json()[0]["code"] == "tmall"
    # the list shows the client, never the key
    listing = admin_client.get("/admin/api/apiclient/")
    assert b"warehouse" in listing.content and key.encode() not in listing.content


def test_a_bad_rate_is_refused_in_the_form(admin_client):
    response = admin_client.post(
        "/admin/api/apiclient/add/",
        {
            "name": "x",
            "marketplaces": [Marketplace.objects.get(code="tmall").pk],
            "throttle_rate": "lots",
            "webhook_subscriptions-TOTAL_FORMS": "0",
            "webhook_subscriptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert b"is not a rate" in response.content
    assert not ApiClient.objects.exists()


def test_rotate_and_revoke_from_the_list(admin_client):
    client, old_key = make_client("erp", ["tmall"])
    response = admin_client.post(
        "/admin/api/apiclient/",
        {"action": "rotate_keys", "_selected_action": [client.pk]},
        follow=True,
    )
    new_key = shown_key(response)
    assert http(old_key).get("/api/v1/cases/").status_code == 401
    assert http(new_key).get("/api/v1/cases/").status_code == 200
    admin_client.post(
        "/admin/api/apiclient/", {"action": "revoke", "_selected_action": [client.pk]}
    )
    assert http(new_key).get("/api/v1/cases/").status_code == 401
    assert ApiClient.objects.get(pk=client.pk).revoked_at is not None
