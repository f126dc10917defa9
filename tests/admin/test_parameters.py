"""Hostile list parameters: every filter, the search, the ordering, the page and the date
drill-down of every list of the admin, given NUL bytes, malformed and out-of-range values,
answer a clear page (the list with a message, or a 400 page that says what is wrong), never a
server error. Run on PostgreSQL too (it refuses NUL in text, and out-of-range integers)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from cases.actors import Actor
from tests.factories import add_photo, open_case, run

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "1,2,\x00",
    "abc",
    "99999999999999999999",
    "2024-13-45",
    "é" * 400,
]
# Parameters a hand-edited address may add to any list.
CRAFTED = ["id__exact", "pk__in", "nonexistent__exact", "o", "p"]
REGISTERED = sorted(
    admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower
)  # (model, model admin)


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")


@pytest.fixture
def some_rows():
    actor = Actor.system("tests")
    claim = run(open_case("damaged_item", actor=actor), ["request_evidence"], actor)
    add_photo(claim, actor)
    open_case("cancellation", actor=actor, refund_request={"amount": "12.00", "currency": "CNY"})


def list_parameters(model, model_admin, user) -> list[str]:
    """Every parameter the list's filters read, plus search, date drill-down and crafted ones."""
    if not model._meta.managed:  # a page, not a list (the dashboard)
        return ["marketplace", *CRAFTED]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    request = RequestFactory().get(url)
    request.user = user
    changelist = model_admin.get_changelist_instance(request)
    names: list[str] = []
    for spec in changelist.filter_specs:
        names.extend(spec.expected_parameters())
    if model_admin.search_fields or type(model_admin).get_search_results is not (
        admin.ModelAdmin.get_search_results
    ):
        names.append("q")
    if changelist.date_hierarchy:
        names.extend(f"{changelist.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return [*dict.fromkeys(names), *CRAFTED]


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label_lower for m, _ in REGISTERED]
)
def test_no_list_parameter_gives_a_server_error(model, model_admin, superuser, some_rows):
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    failures = []
    tried = 0
    for name in list_parameters(model, model_admin, superuser):
        for value in HOSTILE:
            tried += 1
            nul = "\x00" in value
            response = client.get(url, {name: value}, follow=nul)
            if response.status_code not in {200, 302, 400}:
                failures.append((name, value[:20], response.status_code))
            elif nul and "cannot be used" not in response.content.decode():
                # a NUL is never used: the list (or the 400 page) says why
                failures.append((name, value[:20], "no message"))
    assert failures == []
    assert tried >= len(HOSTILE) * len(CRAFTED)


def test_a_nul_in_the_case_list_state_filter_shows_the_list_with_a_message(superuser):
    # the probe: ?state__exact=%00 was a 500 on PostgreSQL
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/cases/case/?state__exact=%00&kind=damaged_item")
    assert response.status_code == 302
    assert response["Location"] == "/admin/cases/case/?kind=damaged_item"
    page = client.get(response["Location"]).content.decode()
    assert (
        "The filter “state” was not applied: its value has a character that cannot be used "
        "(a NUL byte)." in page
    )


def test_out_of_range_and_malformed_values_are_named(superuser):
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/cases/case/?id__exact=99999999999999999999", follow=True)
    assert "The filter “id__exact” was not applied: “99999999999999999999” is out of range" in (
        response.content.decode()
    )
    response = client.get("/admin/cases/order/?placed_at__gte=2024-13-45", follow=True)
    assert "“2024-13-45” is not a valid placed at." in response.content.decode()


def test_other_admin_pages_refuse_a_nul_with_a_400_page(superuser):
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/cases/case/add/?_changelist_filters=%00")
    assert response.status_code == 400
    assert "has a character that cannot be used (a NUL byte)" in response.content.decode()


def test_other_admin_pages_refuse_a_nul_in_any_value_of_a_repeated_parameter(superuser):
    # The check read only the last value of a repeated parameter (QueryDict.items()).
    client = Client()
    client.force_login(superuser)
    response = client.get("/admin/cases/case/add/?_changelist_filters=%00&_changelist_filters=a")
    assert response.status_code == 400
    assert "has a character that cannot be used (a NUL byte)" in response.content.decode()
