"""Rate limits per link and per client address (Django's cache)."""

from __future__ import annotations

import pytest

from cases.demo_media import make_photo
from cases.models import Evidence
from tests.intake.conftest import link, post_files

pytestmark = pytest.mark.django_db


def send(client, evidence_request, seed, **extra):
    return post_files(
        client,
        link(evidence_request),
        [("file", f"{seed}.jpg", make_photo(str(seed), seed=seed, size=(64, 48)), "image/jpeg")],
        fields={"item": "item"},
        HTTP_ACCEPT="application/json",
        **extra,
    )


def test_files_per_link_are_limited(client, customer_request, settings):
    settings.INTAKE_RATE_LIMITS = {"upload_link": (2, 3600)}

    statuses = [send(client, customer_request, seed).status_code for seed in range(3)]

    assert statuses == [200, 200, 429]
    refused = send(client, customer_request, 9).json()["files"][0]
    assert refused["status"] == "limited"
    assert refused["message"].startswith("Too many attempts from here. Please try again in ")
    assert Evidence.objects.count() == 2


def test_files_per_address_are_limited_across_links(
    client, customer_request, partner_request, settings
):
    settings.INTAKE_RATE_LIMITS = {"upload_address": (2, 3600)}

    first = send(client, customer_request, 1)
    second = post_files(
        client,
        link(partner_request),
        [("file", "p.jpg", make_photo("p", seed=7, size=(64, 48)), "image/jpeg")],
        fields={"item": "proof"},
        HTTP_ACCEPT="application/json",
    )
    third = send(client, customer_request, 3)
    elsewhere = send(client, customer_request, 4, REMOTE_ADDR="198.51.100.7")

    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert elsewhere.status_code == 200


def test_guessing_links_is_stopped(client, customer_request, settings):
    settings.INTAKE_RATE_LIMITS = {"invalid_address": (3, 600)}

    statuses = [client.get(f"/e/WzEsMSwiYWJjIl0:guess{n}/").status_code for n in range(4)]
    real = client.get(link(customer_request))

    assert statuses == [404, 404, 404, 429]
    assert real.status_code == 429  # the address is blocked, whatever it tries now
    assert "Retry-After" in real
    assert "Too many attempts" in real.content.decode()
    other = client.get(link(customer_request), REMOTE_ADDR="198.51.100.8")
    assert other.status_code == 200


def test_visits_per_address_are_limited(client, customer_request, settings):
    settings.INTAKE_RATE_LIMITS = {"visit_address": (2, 600)}

    statuses = [client.get(link(customer_request)).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_the_address_behind_trusted_proxies(client, customer_request, settings):
    settings.INTAKE_RATE_LIMITS = {"visit_address": (1, 600)}
    settings.INTAKE_TRUSTED_PROXIES = 1

    a = client.get(link(customer_request), HTTP_X_FORWARDED_FOR="203.0.113.1")
    b = client.get(link(customer_request), HTTP_X_FORWARDED_FOR="203.0.113.2")
    a_again = client.get(link(customer_request), HTTP_X_FORWARDED_FOR="203.0.113.1")

    assert [a.status_code, b.status_code, a_again.status_code] == [200, 200, 429]
