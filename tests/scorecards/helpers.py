"""Hand-built data for the scorecard tests, made through the services."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from decimal import Decimal

from cases.actors import Actor
from cases.choices import Door
from cases.services import order_upsert
from marketplaces.models import Marketplace
from messaging.services import message_import

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
_numbers = itertools.count(1)


def at(year, month, day, hour=0, minute=0, second=0, tz=PARIS) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)


def order(marketplace: Marketplace, **fields):
    """An order placed (by default) a day before its other moments; every field explicit."""
    external_id = fields.pop("external_id", f"T-{next(_numbers)}")
    fields.setdefault("placed_at", at(2025, 1, 1))
    fields.setdefault("promised_ship_date", None)
    fields.setdefault("total", Decimal("50.00"))
    made, _ = order_upsert(marketplace=marketplace, external_id=external_id, **fields)
    return made


def messages(marketplace: Marketplace, *items: dict):
    """Import messages; ``conversation_id`` and ``external_id`` default to unique values."""
    rows = []
    for item in items:
        row = {"channel": "chat", "counterpart": "customer", **item}
        row.setdefault("external_id", f"M-{next(_numbers)}")
        row.setdefault("conversation_id", f"C-{next(_numbers)}")
        rows.append(row)
    return message_import(
        marketplace=marketplace, messages=rows, actor=Actor.system("tests"), door=Door.API
    )


def conversation(marketplace: Marketplace, *items: tuple[str, dt.datetime], **common):
    """One conversation: ``("in"|"out", sent_at)`` pairs, in any order."""
    thread = f"C-{next(_numbers)}"
    return messages(
        marketplace,
        *[
            {"direction": direction, "sent_at": moment, "conversation_id": thread, **common}
            for direction, moment in items
        ],
    )
