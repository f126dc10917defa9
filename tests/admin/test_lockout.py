"""Failed staff sign-ins are throttled and locked out per (user, address) and per address
(django-axes, database handler): the right password is then refused with a clear page, a
success clears the count, a supervisor sees lockouts in the admin and lifts them."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from .conftest import logged_in

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


def sign_in(username: str, password: str, address: str = "10.0.0.1"):
    client = Client()
    response = client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )
    return client, response


def test_fifty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(agent_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    statuses = [sign_in("lea", f"wrong-{n}")[1].status_code for n in range(50)]
    # the first ones are ordinary failures, then every attempt is refused outright
    assert statuses[:9] == [200] * 9
    assert set(statuses[10:]) == {429}
    # the right password is refused too, with a page that says why and for how long
    client, response = sign_in("lea", "pw-lea-1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "even the right password is refused until then" in page
    assert "Sign-in is locked for 15 minutes" in page
    assert "_auth_user_id" not in client.session
    # another address can still sign this user in? no: the pair is locked, not the user
    client, response = sign_in("lea", "pw-lea-1", address="10.0.0.2")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_one_address_trying_many_user_names_is_locked_out(agent_user, other_agent):
    for n in range(10):
        sign_in(f"guess-{n}", "password123")
    _client, response = sign_in("hugo", "pw-hugo-1")
    assert response.status_code == 429
    client, response = sign_in("hugo", "pw-hugo-1", address="10.9.9.9")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_a_success_clears_the_count(agent_user):
    for n in range(9):
        assert sign_in("lea", f"wrong-{n}")[1].status_code == 200
    _client, response = sign_in("lea", "pw-lea-1")
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="lea").exists()
    for n in range(9):
        assert sign_in("lea", f"again-{n}")[1].status_code == 200
    assert sign_in("lea", "pw-lea-1")[1].status_code == 302


def test_the_lockout_lifts_after_the_cool_off(agent_user):
    for n in range(10):
        sign_in("lea", f"wrong-{n}")
    assert sign_in("lea", "pw-lea-1")[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert sign_in("lea", "pw-lea-1")[1].status_code == 302


def test_a_supervisor_sees_the_lockout_and_lifts_it(agent_user, supervisor_user):
    for n in range(12):
        sign_in("lea", f"wrong-{n}")
    supervisor = logged_in(supervisor_user)
    index = supervisor.get("/admin/").content.decode()
    assert "/admin/axes/accessattempt/" in index
    listing = supervisor.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "lea" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="lea")
    assert attempt.failures_since_start >= 10
    response = supervisor.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    client, response = sign_in("lea", "pw-lea-1")
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_an_agent_cannot_see_or_lift_lockouts(agent_user, other_agent):
    sign_in("hugo", "wrong")
    agent = logged_in(agent_user)
    assert agent.get("/admin/axes/accessattempt/").status_code == 403


def test_an_address_that_is_not_an_ip_is_kept_as_unknown(rf, settings):
    """PostgreSQL's inet column would refuse it and fail the sign-in itself."""
    from intake.ratelimit import client_ip

    settings.INTAKE_TRUSTED_PROXIES = 1
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address")) is None
    assert client_ip(rf.get("/", REMOTE_ADDR="")) is None
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9")) == "203.0.113.9"
