"""The outage page is in the reader's language wherever the failure was caught (before the
locale middleware ran, or after it finished)."""

from django.db import OperationalError
from django.test import RequestFactory
from django.utils import translation

from aftersales.outage import outage_response


def test_the_outage_page_speaks_the_readers_language_whatever_is_active():
    request = RequestFactory().get("/e/some-link/", HTTP_ACCEPT_LANGUAGE="fr")
    with translation.override("en"):
        response = outage_response(request, OperationalError("server closed the connection"))
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "Momentanément indisponible" in response.content.decode()
    assert translation.get_language() != "fr"  # nothing leaks into the rest of the process


def test_the_api_answers_a_problem_not_a_page():
    request = RequestFactory().get("/api/v1/cases/", HTTP_ACCEPT_LANGUAGE="fr")
    response = outage_response(request, OperationalError("gone"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
