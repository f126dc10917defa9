"""Orders, created or updated from marketplace data, one at a time (the bulk import is in
``orders_bulk``; both check an order with ``Order.full_clean`` and so with the same rules)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..choices import TERMINAL_STATES
from ..errors import CaseRefused, ErrorCode
from ..models import Order
from .deadlines import DeadlineCause, case_deadlines_refresh

ORDER_FIELDS = (
    "customer_name",
    "customer_email",
    "customer_language",
    "placed_at",
    "promised_ship_date",
    "shipped_at",
    "picked_up_at",
    "delivered_at",
    "last_tracking_event_at",
    "destination_country",
    "shipping_scope",
    "total",
    "currency",
    # scorecard data
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


def order_fields_check(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(ORDER_FIELDS)
    if unknown:
        raise CaseRefused(
            ErrorCode.UNKNOWN_FIELD,
            _("Unknown order fields: %(fields)s. Accepted: %(accepted)s.")
            % {"fields": ", ".join(sorted(unknown)), "accepted": ", ".join(ORDER_FIELDS)},
            field=sorted(unknown)[0],
        )


def order_derive(order: Order, given: dict[str, Any], *, is_new: bool) -> None:
    """What an order's data implies when the marketplace did not say it: the shipping scope
    from the destination (when the scope is not given but the destination is, or the order is
    new)."""
    if "shipping_scope" not in given and ("destination_country" in given or is_new):
        order.derive_shipping_scope()


def order_upsert(
    *, marketplace: Marketplace, external_id: str, **fields: Any
) -> tuple[Order, bool]:
    """Create the order, or update the fields given; returns (order, created).

    Raises ``django.core.exceptions.ValidationError`` (field-keyed) for invalid values.
    Concurrent creations of the same order give one order: the later one updates it.
    ``shipments`` (a list of ``{carrier, tracking_number}``) gives the order its parcels
    (``cases.services.tracking.shipments_add``: scans received before are matched then).
    """
    shipments = fields.pop("shipments", None) or []
    order_fields_check(fields)
    try:
        with transaction.atomic():
            result = _upsert(marketplace, external_id, fields)
            _add_shipments(result[0], shipments)
            return result
    except IntegrityError:
        # Created by a concurrent request between our read and our insert: update it.
        with transaction.atomic():
            result = _upsert(marketplace, external_id, fields)
            _add_shipments(result[0], shipments)
            return result


def _add_shipments(order: Order, shipments: list[dict[str, Any]]) -> None:
    if shipments:
        from .tracking import shipments_add

        shipments_add(items=[(order, shipment) for shipment in shipments])


def _upsert(
    marketplace: Marketplace, external_id: str, fields: dict[str, Any]
) -> tuple[Order, bool]:
    order = (
        Order.objects.select_for_update()
        .filter(marketplace=marketplace, external_id=external_id)
        .first()
    )
    if order is None:
        order = Order(marketplace=marketplace, external_id=external_id, **fields)
        order_derive(order, fields, is_new=True)
        # Uniqueness is the database's to enforce: a concurrent creation becomes an update.
        order.full_clean(validate_unique=False, validate_constraints=False)
        with transaction.atomic():  # a savepoint: the caller retries on a lost race
            order.save(force_insert=True)
        return order, True
    before = {name: getattr(order, name) for name in ORDER_FIELDS}
    for name, value in fields.items():
        setattr(order, name, value)
    order_derive(order, fields, is_new=False)
    changed = [name for name in ORDER_FIELDS if getattr(order, name) != before[name]]
    if changed:
        try:
            order.full_clean(
                exclude=["marketplace"], validate_unique=False, validate_constraints=False
            )
        except ValidationError:
            for name, value in before.items():
                setattr(order, name, value)
            raise
        order.save(update_fields=[*changed, "updated_at"])
        if DEADLINE_INPUTS & set(changed):
            order_cases_deadlines_refresh([order.pk])
    return order, False


def order_cases_deadlines_refresh(order_ids: list[int]) -> int:
    """The open cases of these orders get their deadlines recomputed (cause: order change)."""
    from ..models import Case

    ids = list(
        Case.objects.filter(order_id__in=order_ids)
        .exclude(state__in=TERMINAL_STATES)
        .values_list("pk", flat=True)
    )
    return case_deadlines_refresh(ids, cause=DeadlineCause.ORDER_CHANGE)
