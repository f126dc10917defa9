"""``/healthz`` (the process answers) and ``/readyz`` (database, broker, cache, storage)."""

from __future__ import annotations

import pytest

from cases.models import evidence_storage


def test_healthz_answers_without_the_database(client):
    # no django_db mark: any database access would fail the test
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_checks_every_part_with_one_cheap_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # SELECT 1, nothing else (no session, no migrations)
        response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    assert set(body["checks"]) == {"database", "broker", "cache", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_probes_answer_by_address_and_over_http_behind_the_https_redirect(client, settings):
    # a load balancer probes http://10.0.0.7:8000/readyz: no host check, no redirect to HTTPS
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["support.example.com"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.0.7:8000")
        assert response.status_code == 200, path
    # every other page still redirects
    assert client.get("/admin/", HTTP_HOST="support.example.com").status_code == 301


@pytest.mark.django_db
def test_readyz_names_the_storage_that_cannot_be_reached(client, settings, tmp_path):
    # given an evidence folder that cannot exist (its parent is a file)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": blocker / "evidence"},
        },
    }
    assert str(blocker) in str(evidence_storage.location)
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["storage"]
    assert body["checks"]["database"]["ok"] is True
    assert "not-a-folder" in body["checks"]["storage"]["error"]


def test_probes_accept_only_reads(client):
    assert client.post("/healthz").status_code != 200
