"""The two roles, made by migration: what each group may do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from workspace.roles import SUPPORT_AGENT, SUPPORT_SUPERVISOR

SUPERVISOR_ONLY = {
    "cases.reject_claim",
    "cases.reject_refund",
    "cases.withdraw_case",
    "cases.record_platform_ruling",
    "marketplaces.change_marketplace",
}


def codes(group: Group) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


@pytest.mark.django_db
def test_migration_creates_both_groups_with_their_permissions():
    agent = codes(Group.objects.get(name=SUPPORT_AGENT))
    supervisor = codes(Group.objects.get(name=SUPPORT_SUPERVISOR))

    assert {
        "cases.change_case",
        "cases.change_evidence",
        "cases.add_evidencerequest",
        "cases.change_refundrequest",
        "workspace.view_dashboard",
    } <= agent
    assert not agent & SUPERVISOR_ONLY
    assert supervisor >= SUPERVISOR_ONLY
    assert agent <= supervisor
    # nobody deletes a case, an order or an audit record
    assert not {c for c in supervisor if c.startswith("cases.delete_")}
    assert "cases.change_caseevent" not in supervisor


@pytest.mark.django_db
def test_user_permissions_follow_the_group(agent_user, supervisor_user):
    assert agent_user.has_perm("cases.change_case")
    assert not agent_user.has_perm("cases.reject_claim")
    assert not agent_user.has_perm("cases.reject_refund")
    assert supervisor_user.has_perm("cases.reject_claim")
    assert supervisor_user.has_perm("cases.record_platform_ruling")


@pytest.mark.django_db(transaction=True)
def test_groups_come_back_after_a_flush():
    """Transactional tests empty every table; the post_migrate hook restores the groups."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) >= {SUPPORT_AGENT, SUPPORT_SUPERVISOR}
    assert "cases.reject_claim" in codes(Group.objects.get(name=SUPPORT_SUPERVISOR))


@pytest.mark.django_db
def test_agent_cannot_edit_marketplaces_supervisor_can(agent_client, supervisor_client):
    from marketplaces.models import Marketplace

    tmall = Marketplace.objects.get(code="tmall")
    url = f"/admin/marketplaces/marketplace/{tmall.pk}/change/"
    assert 'name="resolution_business_days"' not in agent_client.get(url).content.decode()
    assert 'name="resolution_business_days"' in supervisor_client.get(url).content.decode()
