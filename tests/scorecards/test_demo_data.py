"""`load_demo_scorecard_data` gives demo cases conversations, returns and carrier data, once."""

import datetime as dt

import pytest
from django.core.management import call_command

from cases.models import ReturnRequest
from messaging.models import Message
from tests.factories import make_order, open_case

pytestmark = pytest.mark.django_db


def test_demo_scorecard_data_is_idempotent(system_actor):
    now = dt.datetime.now(dt.UTC)
    tmall_order = make_order(
        "tmall", placed_at=now - dt.timedelta(days=9), shipped_at=now - dt.timedelta(days=8)
    )
    open_case(
        "damaged_item",
        actor=system_actor,
        order=tmall_order,
        opened_at=now - dt.timedelta(days=5),
        external_id="DEMO-00001",
    )
    amazon_order = make_order("amazon_fr", placed_at=now - dt.timedelta(days=9))
    amazon = open_case(
        "wrong_item",
        actor=system_actor,
        marketplace="amazon_fr",
        order=amazon_order,
        opened_at=now - dt.timedelta(days=5),
        external_id="DEMO-00002",
    )
    spartoo = open_case(
        "damaged_item",
        actor=system_actor,
        marketplace="spartoo",
        opened_at=now - dt.timedelta(days=5),
        external_id="DEMO-00003",
    )

    call_command("load_demo_scorecard_data")
    counts = (Message.objects.count(), ReturnRequest.objects.count())
    call_command("load_demo_scorecard_data")

    assert (Message.objects.count(), ReturnRequest.objects.count()) == counts
    assert Message.objects.filter(case=amazon, direction="in").exists()
    assert not Message.objects.filter(case=spartoo).exists()  # Spartoo answers itself
    assert ReturnRequest.objects.get().case == amazon
    tmall_order.refresh_from_db()
    assert tmall_order.tracking_number == f"DEMO{tmall_order.pk:08d}"
    assert tmall_order.picked_up_at > tmall_order.shipped_at
