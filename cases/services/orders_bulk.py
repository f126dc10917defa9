"""Importing many orders at once (the API's ``POST /api/v1/orders/``: up to 10,000 a request).

``order_bulk_upsert`` keeps the rules of ``order_upsert`` (same fields, same validation, the open
late-shipment cases of an order whose promised ship date or shipment time changes get their
deadlines recomputed) but works in sets: locking reads and ``INSERT ... ON CONFLICT`` statements
per thousand orders instead of two statements per order. Everything is checked before
anything is written; one bad item refuses the whole batch, with every problem listed by index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..errors import CaseRefused, ErrorCode
from ..models import Order
from .orders import DEADLINE_INPUTS, ORDER_FIELDS, order_cases_deadlines_refresh, order_derive

MAX_BATCH = 10_000
CHUNK = 1_000


@dataclass(frozen=True)
class OrderBatchResult:
    received: int
    created: int
    updated: int
    unchanged: int
    cases_recomputed: int


def _required_for_new() -> frozenset[str]:
    """Fields a new order must be given (no default, not optional)."""
    return frozenset(
        field.name
        for field in Order._meta.get_fields()
        if field.name in ORDER_FIELDS
        and isinstance(field, models.Field)
        and not field.null
        and not field.blank
        and not field.has_default()
    )


def _error(index: int, field: str | None, code: str, message: str) -> dict[str, Any]:
    pointer = f"/{index}/{field}" if field else f"/{index}"
    return {"index": index, "field": field, "pointer": pointer, "detail": message, "code": code}


def _validation_errors(index: int, exc: ValidationError) -> list[dict[str, Any]]:
    out = []
    for field, errors in exc.error_dict.items():
        name = None if field == "__all__" else field
        for error in errors:
            for message in error.messages:
                out.append(_error(index, name, error.code or "invalid", message))
    return out


def _lock_existing(keys: set[tuple[int, str]]) -> dict[tuple[int, str], Order]:
    """The existing orders among ``keys`` (marketplace id, external id), locked for update."""
    by_marketplace: dict[int, list[str]] = defaultdict(list)
    for marketplace_id, external_id in keys:
        by_marketplace[marketplace_id].append(external_id)
    found: dict[tuple[int, str], Order] = {}
    for marketplace_id, external_ids in by_marketplace.items():
        for start in range(0, len(external_ids), CHUNK):
            rows = Order.objects.select_for_update().filter(
                marketplace_id=marketplace_id, external_id__in=external_ids[start : start + CHUNK]
            )
            for order in rows:
                found[(marketplace_id, order.external_id)] = order
    return found


def order_bulk_upsert(*, items: Sequence[Mapping[str, Any]]) -> OrderBatchResult:  # noqa: C901, PLR0912, PLR0915
    """Create or update orders by (marketplace, external id), all or nothing.

    Each item holds ``marketplace`` (a ``Marketplace``), ``external_id`` and any of
    ``ORDER_FIELDS``; fields left out of an existing order keep their value. Raises
    ``CaseRefused`` (code ``invalid_value``) whose ``details["errors"]`` lists every problem as
    ``{index, field, pointer, detail, code}`` when any item is invalid: nothing is written then.
    """
    if len(items) > MAX_BATCH:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("Send at most %(max)s orders a request (this one has %(count)s); split the list.")
            % {"max": f"{MAX_BATCH:,}", "count": f"{len(items):,}"},
        )
    known = set(ORDER_FIELDS)
    required = _required_for_new()
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for index, item in enumerate(items):
        unknown = set(item) - known - {"marketplace", "external_id"}
        for name in sorted(unknown):
            errors.append(
                _error(
                    index,
                    name,
                    ErrorCode.UNKNOWN_FIELD.value,
                    _("Unknown field. Accepted: %(accepted)s.")
                    % {"accepted": ", ".join(("marketplace", "external_id", *ORDER_FIELDS))},
                )
            )
        marketplace = item.get("marketplace")
        external_id = item.get("external_id")
        if not isinstance(marketplace, Marketplace):
            errors.append(_error(index, "marketplace", "required", _("Give the marketplace.")))
            continue
        if not external_id or not isinstance(external_id, str):
            errors.append(
                _error(
                    index, "external_id", "required", _("Give the order's id on the marketplace.")
                )
            )
            continue
        key = (marketplace.pk, external_id)
        if key in seen:
            errors.append(
                _error(
                    index,
                    "external_id",
                    "duplicate",
                    _("Order %(id)s of %(marketplace)s is also item %(first)s of this list.")
                    % {"id": external_id, "marketplace": marketplace.code, "first": seen[key]},
                )
            )
        else:
            seen[key] = index

    with transaction.atomic():
        existing = _lock_existing(set(seen))
        to_write: list[Order] = []
        new_orders: list[tuple[Order, dict[str, Any]]] = []  # with the fields they were given
        recompute: dict[int, Order] = {}
        created = updated = unchanged = 0
        for index, item in enumerate(items):
            if errors and len(errors) > 1000:
                break  # enough to fix; the rest is not checked
            marketplace, external_id = item.get("marketplace"), item.get("external_id")
            if not isinstance(marketplace, Marketplace) or not external_id:
                continue
            given = {name: item[name] for name in ORDER_FIELDS if name in item}
            current = existing.get((marketplace.pk, external_id))
            missing: list[str] = []
            if current is None:
                missing = sorted(required - set(given))
                for name in missing:
                    errors.append(_error(index, name, "required", _("Required for a new order.")))
                order = Order(marketplace=marketplace, external_id=external_id, **given)
                order_derive(order, given, is_new=True)
                changed: list[str] = list(given)
            else:
                changed = [name for name, value in given.items() if getattr(current, name) != value]
                if not changed:
                    unchanged += 1
                    continue
                merged = {name: getattr(current, name) for name in ORDER_FIELDS}
                merged.update(given)
                order = Order(marketplace=marketplace, external_id=external_id, **merged)
                order_derive(order, given, is_new=False)
            try:
                order.full_clean(
                    exclude=["marketplace", *missing],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                errors.extend(_validation_errors(index, exc))
                continue
            if current is None:
                created += 1
                new_orders.append((order, given))
                continue
            updated += 1
            if DEADLINE_INPUTS & set(changed):
                order.pk = current.pk
                recompute[current.pk] = order
            to_write.append(order)
        if errors:
            errors.sort(key=lambda error: error["index"])
            raise CaseRefused(
                ErrorCode.INVALID_VALUE,
                _(
                    "%(bad)s of the %(count)s orders are invalid; nothing was imported. Fix the "
                    "items listed in errors and send the list again."
                )
                % {"bad": len({error["index"] for error in errors}), "count": len(items)},
                errors=errors,
            )
        # Existing orders are locked: writing every field of the merged copy is safe.
        for start in range(0, len(to_write), CHUNK):
            batch = [_without_pk(order) for order in to_write[start : start + CHUNK]]
            Order.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["marketplace", "external_id"],
                update_fields=[*ORDER_FIELDS, "updated_at"],
            )
        raced = _insert_new(new_orders, recompute)
        created -= raced
        updated += raced
        cases_recomputed = order_cases_deadlines_refresh(list(recompute))
    return OrderBatchResult(
        received=len(items),
        created=created,
        updated=updated,
        unchanged=unchanged,
        cases_recomputed=cases_recomputed,
    )


def _insert_new(new_orders: list[tuple[Order, dict[str, Any]]], recompute: dict[int, Order]) -> int:
    """Insert the orders that did not exist when the batch was read; returns how many another
    request created meanwhile. Those become updates of the fields this batch gave, as if they
    had existed: inserting with DO NOTHING, rather than overwriting every field with this
    batch's defaults, loses nothing the other request wrote."""
    raced = 0
    for start in range(0, len(new_orders), CHUNK):
        chunk = new_orders[start : start + CHUNK]
        Order.objects.bulk_create([order for order, _given in chunk], ignore_conflicts=True)
        stored = _lock_existing({(order.marketplace_id, order.external_id) for order, _ in chunk})
        to_update: dict[str, list[Order]] = defaultdict(list)
        for order, given in chunk:
            row = stored[(order.marketplace_id, order.external_id)]
            changed = [name for name, value in given.items() if getattr(row, name) != value]
            if not changed:
                continue  # ours, or identical to ours
            raced += 1
            for name in changed:
                setattr(row, name, given[name])
            row.updated_at = timezone.now()  # bulk_update does not apply auto_now
            to_update[",".join(sorted(changed))].append(row)
            if DEADLINE_INPUTS & set(changed):
                recompute[row.pk] = row
        for names, rows in to_update.items():
            Order.objects.bulk_update(rows, [*names.split(","), "updated_at"])
    return raced


def _without_pk(order: Order) -> Order:
    # Rows are written by their natural key; an INSERT carrying an existing id would collide
    # on the primary key before ON CONFLICT (marketplace, external_id) could apply.
    if order.pk is None:
        return order
    copy = Order(**{f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields})
    copy.pk = None
    copy.marketplace = order.marketplace
    return copy
