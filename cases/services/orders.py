"""Orders, created or updated from marketplace data."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from marketplaces.models import Marketplace

from ..choices import TERMINAL_STATES
from ..models import Order
from .deadlines import apply_deadlines

ORDER_FIELDS = (
    "customer_name",
    "customer_email",
    "customer_language",
    "placed_at",
    "promised_ship_date",
    "shipped_at",
    "picked_up_at",
    "delivered_at",
    "destination_country",
    "shipping_scope",
    "total",
    "currency",
    # scorecard data (issue 6)
    "accepted_at",
    "fulfilled_by",
    "carrier",
    "tracking_number",
    "tracking_valid",
    "cancelled_at",
    "cancelled_by",
    "cancellation_reason",
    "cancellation_controllable",
    "a_to_z_claim_at",
    "a_to_z_claim_outcome",
    "chargeback_at",
    "negative_feedback_at",
    "parcel_lost",
)
# Deadlines of late-shipment cases are computed from these.
DEADLINE_INPUTS = {"promised_ship_date", "shipped_at"}


def order_upsert(
    *, marketplace: Marketplace, external_id: str, **fields: Any
) -> tuple[Order, bool]:
    """Create the order, or update the fields given; returns (order, created).

    Raises ``django.core.exceptions.ValidationError`` (field-keyed) for invalid values.
    """
    unknown = set(fields) - set(ORDER_FIELDS)
    if unknown:
        raise TypeError(f"Unknown order fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(marketplace=marketplace, external_id=external_id)
            .first()
        )
        if order is None:
            order = Order(marketplace=marketplace, external_id=external_id, **fields)
            order.full_clean(validate_unique=False)
            order.save()
            return order, True
        changed = [name for name, value in fields.items() if getattr(order, name) != value]
        if changed:
            for name in changed:
                setattr(order, name, fields[name])
            order.full_clean(exclude=["marketplace"], validate_unique=False)
            order.save(update_fields=[*changed, "updated_at"])
            if DEADLINE_INPUTS & set(changed):
                _recompute_open_cases(order)
    return order, False


def _recompute_open_cases(order: Order) -> None:
    for case in order.cases.select_for_update(of=("self",)).exclude(state__in=TERMINAL_STATES):
        case.order = order
        changed = apply_deadlines(case)
        if changed:
            case.save(update_fields=[*changed, "updated_at"])
