"""Give the demo data what the scorecards read: customer conversations for the demo cases,
Amazon return requests, and carrier data (tracking number, pickup, delivery) for the shipped
demo orders. Run after `load_demo`.

Idempotent: messages and return requests have fixed external ids, and an order that already has
a tracking number is left alone; a re-run changes nothing. Everything goes through the services
(`message_import`, `return_request_upsert`, `order_upsert`), as an integration would.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from cases.actors import Actor
from cases.choices import CLAIM_KINDS, Door
from cases.models import Case, Order
from cases.services import order_upsert
from cases.services.returns import return_request_upsert
from messaging.services import message_import

# How long the seller takes to answer, per marketplace family: (shortest, longest) in seconds.
REPLY_DELAYS = {
    "tmall": (5, 150),
    "tmall_global": (5, 150),
    "jd": (5, 150),
    "amazon_fr": (1800, 30 * 3600),
    "faire": (3 * 3600, 4 * 86400),
}
DEFAULT_DELAY = (1800, 60 * 3600)
CHANNELS = {"tmall": "chat", "tmall_global": "chat", "jd": "chat", "amazon_fr": "email"}


class Command(BaseCommand):
    help = (
        "Conversations, return requests and carrier data for the demo data, so the scorecards "
        "have figures (idempotent)."
    )

    def handle(self, *args, **options):
        # One "Enqueued" line per background task would bury the summary.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        actor = Actor.system("demo messages")
        now = timezone.now()
        tracked = self._carrier_data(now)
        batches: dict = defaultdict(list)
        returns = 0
        cases = (
            Case.objects.filter(external_id__startswith="DEMO-")
            .select_related("marketplace", "order")
            .order_by("pk")
        )
        for case in cases:
            marketplace = case.marketplace
            if marketplace.first_response_amount is None:
                continue  # the marketplace answers its customers itself
            rng = random.Random(case.pk)
            code = marketplace.code
            counterpart = "retailer" if code == "faire" else "customer"
            channel = CHANNELS.get(code, "portal")
            thread = f"demo-{case.reference}"
            asked = case.opened_at - dt.timedelta(minutes=rng.randint(1, 30))
            items = [self._item(f"{thread}-1", thread, case, "in", asked, counterpart, channel)]
            if rng.random() < 0.3:
                follow_up = asked + dt.timedelta(seconds=rng.randint(20, 600))
                items.append(
                    self._item(f"{thread}-2", thread, case, "in", follow_up, counterpart, channel)
                )
            if rng.random() < 0.85:
                low, high = REPLY_DELAYS.get(code, DEFAULT_DELAY)
                answer = asked + dt.timedelta(seconds=rng.randint(low, high))
                if answer < now:
                    items.append(
                        self._item(f"{thread}-3", thread, case, "out", answer, counterpart, channel)
                    )
            batches[marketplace].extend(items)
            if code.startswith("amazon") and case.kind in CLAIM_KINDS:
                returns += self._return_request(case, rng, now)
        created = 0
        for marketplace, items in batches.items():
            result = message_import(
                marketplace=marketplace, messages=items, actor=actor, door=Door.COMMAND
            )
            created += result.created
        self.stdout.write(
            f"Demo messages: {created} created, {sum(map(len, batches.values()))} in all; "
            f"{returns} return requests created; {tracked} orders given carrier data."
        )

    @staticmethod
    def _carrier_data(now: dt.datetime) -> int:
        """Tracking number, carrier pickup and delivery for shipped demo orders without them."""
        updated = 0
        orders = (
            Order.objects.filter(
                cases__external_id__startswith="DEMO-", shipped_at__isnull=False, tracking_number=""
            )
            .select_related("marketplace")
            .distinct()
        )
        for order in orders:
            if order.shipped_at is None:  # not reached: the query keeps shipped orders only
                continue
            rng = random.Random(order.pk)
            picked = order.shipped_at + dt.timedelta(minutes=rng.randint(30, 20 * 60))
            delivered = picked + dt.timedelta(hours=rng.randint(20, 60))
            fields: dict[str, Any] = {
                "carrier": "SF Express"
                if order.marketplace.calendar_country == "CN"
                else "Colissimo",
                "tracking_number": f"DEMO{order.pk:08d}",
                "picked_up_at": picked if picked < now else None,
            }
            if delivered < now and order.delivered_at is None:
                fields["delivered_at"] = delivered
            order_upsert(marketplace=order.marketplace, external_id=order.external_id, **fields)
            updated += 1
        return updated

    @staticmethod
    def _item(external_id, thread, case, direction, at, counterpart, channel):
        return {
            "external_id": external_id,
            "conversation_id": thread,
            "case": case.reference,
            "direction": direction,
            "counterpart": counterpart,
            "channel": channel,
            "sent_at": at,
        }

    @staticmethod
    def _return_request(case: Case, rng: random.Random, now: dt.datetime) -> int:
        requested = case.opened_at
        answered = requested + dt.timedelta(hours=rng.randint(2, 70))
        fields: dict[str, Any] = {"requested_at": requested}
        if answered < now:
            fields.update(
                responded_at=answered,
                decision="rejected" if rng.random() < 0.2 else "authorized",
            )
        _request, created = return_request_upsert(
            marketplace=case.marketplace,
            external_id=f"demo-return-{case.reference}",
            order=case.order,
            case=case,
            **fields,
        )
        return int(created)
