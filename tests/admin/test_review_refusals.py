"""Refusals found in review: admin actions need the change permission, odd filter values and
invalid rows are answered on the page (never a 500), saved lists keep their ordering and
refuse a name their owner already used."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from api.models import ApiClient
from marketplaces.models import Marketplace
from scorecards.models import MetricPolicy
from scorecards.services import policies_install_defaults
from tests.api.conftest import make_client
from workspace.models import SavedView

pytestmark = pytest.mark.django_db


def viewer(django_user_model, *codenames):
    user = django_user_model.objects.create_user("auditor", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_a_view_only_user_cannot_rotate_or_revoke_api_keys(django_user_model):
    client = viewer(django_user_model, "view_apiclient")
    api_client, _key = make_client("erp", ["tmall"])
    key_hash = api_client.key_hash

    page = client.get("/admin/api/apiclient/")
    for action in ("rotate_keys", "revoke"):
        assert f'value="{action}"' not in page.content.decode()
        client.post(
            "/admin/api/apiclient/", {"action": action, "_selected_action": [api_client.pk]}
        )

    api_client.refresh_from_db()
    assert api_client.key_hash == key_hash and api_client.revoked_at is None
    assert ApiClient.objects.count() == 1


def policy_form_data(client, policy):
    url = f"/admin/scorecards/metricpolicy/{policy.pk}/change/"
    page = client.get(url)
    data = {}
    form = page.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = "on" if value is True else value
    formset = page.context["inline_admin_formsets"][0].formset
    for name in formset.management_form.fields:
        data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
    for index, row in enumerate(formset.forms):
        for name in row.fields:
            value = row[name].value()
            if value not in (None, False):
                data[f"{formset.prefix}-{index}-{name}"] = "on" if value is True else value
    return url, data, formset.prefix


@pytest.mark.parametrize(("field", "value"), [("position", "abc"), ("bound", "zz")])
def test_an_invalid_level_row_is_shown_on_the_page(admin_client, field, value):
    for marketplace in Marketplace.objects.all():
        policies_install_defaults(marketplace=marketplace)
    policy = MetricPolicy.objects.filter(bands__isnull=False).distinct().first()
    before = list(policy.bands.values_list("position", "bound"))
    url, data, prefix = policy_form_data(admin_client, policy)
    data[f"{prefix}-0-{field}"] = value

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0][field]
    assert list(policy.bands.values_list("position", "bound")) == before


@pytest.mark.parametrize("value", ["²", "99999999999999999999999"])
def test_an_odd_assignee_value_lists_nothing_rather_than_failing(admin_client, value):
    response = admin_client.get("/admin/cases/case/", {"assignee": value})
    assert response.status_code in {200, 302}


def test_a_saved_list_keeps_its_ordering(admin_client):
    response = admin_client.get("/admin/cases/case/?o=-9&kind=damaged_item")
    query = response.context["save_view_form"].initial["query"]
    assert "o=-9" in query and "kind=damaged_item" in query


def test_a_second_list_with_the_same_name_is_refused(admin_client, admin_user):
    SavedView.objects.create(owner=admin_user, name="mine", query="due=overdue")

    response = admin_client.post("/admin/workspace/savedview/add/", {"name": "mine", "query": "x"})

    assert response.status_code == 200
    assert "already have a list named" in response.content.decode()
    assert SavedView.objects.filter(owner=admin_user).count() == 1


def test_a_view_only_user_is_not_offered_the_webhook_replay(django_user_model, admin_client):
    client = viewer(django_user_model, "view_webhookdelivery")
    assert 'value="replay"' not in client.get("/admin/api/webhookdelivery/").content.decode()
    assert 'value="replay"' in admin_client.get("/admin/api/webhookdelivery/").content.decode()
