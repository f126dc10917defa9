"""Importing many orders at once (the API's ``POST /api/v1/orders/``: up to 10,000 a request).

``order_bulk_upsert`` keeps the rules of ``order_upsert`` (same fields, same validation, the open
late-shipment cases of an order whose promised ship date or shipment time changes get their
deadlines recomputed) but works in sets: locking reads and ``INSERT ... ON CONFLICT`` statements
per thousand orders instead of two statements per order. Everything is checked before
anything is written; one bad item refuses the whole batch, with every problem listed by index.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, MinValueValidator
from django.db import connection, models, transaction
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
    known = set(ORDER_FIELDS) | {"shipments"}
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
        now = timezone.now()
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
                if current is None:
                    _clean_new(order, given, missing, now=now)
                else:
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
        shipments = _shipment_items(items, existing)
        errors.extend(_shipment_errors(shipments))
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
        if shipments:
            _shipments_write(shipments)
    return OrderBatchResult(
        received=len(items),
        created=created,
        updated=updated,
        unchanged=unchanged,
        cases_recomputed=cases_recomputed,
    )


# -- checking a new order ------------------------------------------------------------------------
# ``Model.full_clean`` on 10,000 new orders was half of an import: it cleans all 30 fields of
# each, defaults included, value by value. A new order is checked here on what it was given
# (the defaults are the model's own, valid by construction), each value first by a test that
# recognises a plainly valid value of the field's Python type, else by ``Field.clean`` itself,
# whose errors are those ``full_clean`` gives; then by ``Order.rule_errors``, as ``clean()``
# does. ``tests/cases/test_orders_bulk_checks.py`` holds the errors equal to ``full_clean``'s.

_CENTS_EXPONENTS = frozenset({0, -1, -2})
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z"
)


def _plainly_valid(field: models.Field) -> Any:  # noqa: PLR0911 (one test per kind of field)
    """A test of ``field``'s values that says True only for values ``field.clean`` accepts
    unchanged; False means "ask ``field.clean``", not "invalid"."""
    if isinstance(field, models.DateTimeField):
        return lambda value: type(value) is dt.datetime and value.tzinfo is not None
    if isinstance(field, models.DateField):
        return lambda value: type(value) is dt.date
    if isinstance(field, models.BooleanField):
        return lambda value: value is True or value is False
    if isinstance(field, models.DecimalField) and field.decimal_places == 2:
        # At most 10 digits before the point, 2 after, never negative (MinValueValidator 0).
        limit = Decimal(10) ** (field.max_digits - 2)
        assert all(  # noqa: S101
            type(v) is MinValueValidator and v.limit_value == 0
            for v in field.validators
            if not isinstance(v, DecimalValidator)
        )
        return lambda value: (
            type(value) is Decimal
            and value.is_finite()
            and value.as_tuple().exponent in _CENTS_EXPONENTS
            and 0 <= value < limit
        )
    if type(field) is models.CharField:
        longest = field.max_length
        if field.choices:
            allowed = frozenset(value for value, _label in field.flatchoices)
            return lambda value: isinstance(value, str) and value in allowed  # enums too
        if longest is None:  # no length to hold a value to: ``field.clean`` decides
            return lambda value: False
        return lambda value: type(value) is str and len(value) <= longest and "\x00" not in value
    if type(field) is models.EmailField:
        # A strict subset of what EmailValidator accepts (dot-atom ASCII local part, ASCII
        # domain labels not starting or ending with "-"); anything else is validated by it.
        longest = field.max_length
        if longest is None:
            return lambda value: False
        return lambda value: (
            type(value) is str and len(value) <= longest and _PLAIN_EMAIL.match(value) is not None
        )
    return lambda value: False  # anything else: always ``field.clean``


_ORDER_FIELDS_BY_NAME: dict[str, models.Field] = {
    f.name: f for f in Order._meta.concrete_fields if f.name in ("external_id", *ORDER_FIELDS)
}
_ALWAYS_CHECKED = frozenset({"external_id", "shipping_scope"})  # the key; derived
_PLAINLY_VALID = {name: _plainly_valid(field) for name, field in _ORDER_FIELDS_BY_NAME.items()}


def _clean_new(
    order: Order, given: Mapping[str, Any], missing: list[str], *, now: dt.datetime
) -> None:
    """What ``full_clean(exclude=[marketplace, *missing])`` checks on a new order, on the
    fields it was given or derived (``external_id``, ``given``, the shipping scope)."""
    errors: dict[str, Any] = {}
    for name in _ORDER_FIELDS_BY_NAME:  # in the model's order, as full_clean reports them
        if name in missing or not (name in given or name in _ALWAYS_CHECKED):
            continue
        field = _ORDER_FIELDS_BY_NAME[name]
        raw = getattr(order, field.attname)
        if (field.blank and raw in field.empty_values) or _PLAINLY_VALID[name](raw):
            continue
        try:
            setattr(order, field.attname, field.clean(raw, order))
        except ValidationError as exc:
            errors[name] = exc.error_list
    for name, error in order.rule_errors(now=now).items():
        errors.setdefault(name, []).extend(ValidationError(error).error_list)
    if errors:
        raise ValidationError(errors)


# -- writing new orders ---------------------------------------------------------------------------

# The columns of a new order, as COPY writes them (every concrete column but the id).
_INSERT_COLUMNS = [f for f in Order._meta.concrete_fields if not f.primary_key]


def _insert_ignoring_existing(orders: list[Order]) -> set[tuple[int, str]] | None:
    """Insert ``orders``, skipping those another request created meanwhile; returns the keys
    (marketplace id, external id) inserted, or None where the database cannot say which.

    On PostgreSQL the rows go by COPY into a temporary table, then ``INSERT ... SELECT ... ON
    CONFLICT DO NOTHING RETURNING``: the values are sent as they are (psycopg adapts them),
    not prepared one by one as ``bulk_create`` does, and the answer names what was inserted.
    """
    if connection.vendor != "postgresql":
        Order.objects.bulk_create(orders, ignore_conflicts=True)
        return None
    table = Order._meta.db_table
    names = [f.column for f in _INSERT_COLUMNS if f.column is not None]  # concrete: all have one
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    attnames = [f.attname for f in _INSERT_COLUMNS]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            # The columns' types, none of their constraints: the INSERT below checks those.
            f"CREATE TEMPORARY TABLE IF NOT EXISTS new_orders ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY new_orders ({columns}) FROM STDIN") as copy:
            for order in orders:
                order.created_at = order.updated_at = now  # auto_now(_add), as save() does
                copy.write_row([getattr(order, name) for name in attnames])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM new_orders "
            "ON CONFLICT (marketplace_id, external_id) DO NOTHING "
            "RETURNING marketplace_id, external_id"
        )
        inserted = {(row[0], row[1]) for row in cursor.fetchall()}
        cursor.execute("TRUNCATE new_orders")
    return inserted


def _insert_new(new_orders: list[tuple[Order, dict[str, Any]]], recompute: dict[int, Order]) -> int:
    """Insert the orders that did not exist when the batch was read; returns how many another
    request created meanwhile. Those become updates of the fields this batch gave, as if they
    had existed: inserting with DO NOTHING, rather than overwriting every field with this
    batch's defaults, loses nothing the other request wrote."""
    raced = 0
    step = CHUNK if connection.vendor != "postgresql" else MAX_BATCH
    for start in range(0, len(new_orders), step):
        chunk = new_orders[start : start + step]
        inserted = _insert_ignoring_existing([order for order, _given in chunk])
        if inserted is not None:  # only the others can have been created meanwhile
            chunk = [
                (order, given)
                for order, given in chunk
                if (order.marketplace_id, order.external_id) not in inserted
            ]
            if not chunk:
                continue
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


# -- shipments given with their orders ------------------------------------------------------------

_ShipmentItem = tuple[int, int, tuple[int, str], Order | None, Mapping[str, Any]]


def _shipment_items(
    items: Sequence[Mapping[str, Any]], existing: dict[tuple[int, str], Order]
) -> list[_ShipmentItem]:
    """(order index, shipment index, order key, existing order or None, shipment) of the
    ``shipments`` lists of the items."""
    out: list[_ShipmentItem] = []
    for index, item in enumerate(items):
        marketplace, external_id = item.get("marketplace"), item.get("external_id")
        if not isinstance(marketplace, Marketplace) or not external_id:
            continue
        key = (marketplace.pk, external_id)
        for position, shipment in enumerate(item.get("shipments") or []):
            out.append((index, position, key, existing.get(key), shipment))
    return out


def _shipment_errors(shipments: list[_ShipmentItem]) -> list[dict[str, Any]]:
    from .tracking import shipments_check

    errors = []
    for order_index, position, _key, order, shipment in shipments:
        for error in shipments_check([(order_index, order, shipment)]):
            errors.append(
                {**error, "field": "shipments", "pointer": f"/{order_index}/shipments/{position}"}
            )
    # Across the list: the same tracking number given for two orders.
    seen: dict[tuple[str, str], tuple[int, tuple[int, str]]] = {}
    for order_index, _position, key, _order, shipment in shipments:
        number = (
            str(shipment.get("carrier", "")).strip(),
            str(shipment.get("tracking_number", "")).strip(),
        )
        if number in seen and seen[number][1] != key:
            errors.append(
                _error(
                    order_index,
                    "shipments",
                    ErrorCode.DUPLICATE.value,
                    _("Tracking number %(number)s is also given for item %(first)s.")
                    % {"number": number[1], "first": seen[number][0]},
                )
            )
        seen.setdefault(number, (order_index, key))
    return errors


def _shipments_write(shipments: list[_ShipmentItem]) -> None:
    from .tracking import shipments_add

    orders = _lock_existing({key for _i, _p, key, _o, _s in shipments})
    shipments_add(items=[(orders[key], shipment) for _i, _p, key, _o, shipment in shipments])
