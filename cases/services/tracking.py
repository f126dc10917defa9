"""Carrier tracking: shipments of orders, the carrier's scans, and what the scans do to cases.

``tracking_events_import`` takes a list of scans, all or nothing, idempotent by (carrier,
tracking number, carrier's event id): a replay writes nothing and moves nothing. A scan whose
tracking number no shipment has yet is kept; ``shipments_add`` (and the order import, which calls
it) matches it when the shipment arrives, and its rules apply then, at the scan's time.

The rules (``_plan``), each a case opening or a transition through the kernel, by the actor
"carrier" through the door "tracking", at the scan's time, each switched on or off per
marketplace (``Marketplace.tracking_*``):

* ``customs_hold`` opens a ``customs_delay`` case once per shipment (or takes the order's open
  one) and sends the clearance reminder (the transition queues the e-mail: ``jobs.customs``);
* ``customs_cleared`` moves that case to ``cleared``; ``delivered`` to ``delivered`` (through
  ``cleared`` when no clearance scan came: a delivered parcel was cleared);
* the shipment's first scan moves an open ``late_shipment`` case of the order to ``shipped``;
* ``returned_to_sender`` marks a requested interception ``intercepted``;
* ``lost`` marks the order's parcel lost (``Order.parcel_lost``): staff decide on a missing-item
  case.

The order's ``picked_up_at`` and ``delivered_at`` are the earliest pickup and delivery scans.
Scans may come in any order: a rule only moves a case forward (an older scan arriving after a
newer one finds the transition no longer available and does nothing), a customs hold older than
a clearance or delivery scan of the same parcel opens nothing, and an order time only moves
earlier. Every new scan is also written on the timeline of the order's open cases (a typed
``tracking_event``) and told to webhook subscribers (``tracking.event``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from ..actors import Actor
from ..choices import (
    PAST_CUSTOMS_STATUSES,
    TERMINAL_STATES,
    CaseKind,
    CaseState,
    Door,
    TrackingStatus,
)
from ..errors import CaseRefused, DomainError, ErrorCode
from ..events import TrackingEventRecorded
from ..kernel import CaseAction, case_actions_batch, check_not_future
from ..models import PLAUSIBLE_DATES, Case, Order, Shipment, TrackingEvent
from ..signals import tracking_events_recorded
from .orders_bulk import _error

CARRIER = Actor.system("carrier")
DOOR = Door.TRACKING
SOURCE = "tracking"
MAX_BATCH = 10_000
CHUNK = 1_000
EVENT_FIELDS = (
    "carrier",
    "tracking_number",
    "carrier_event_id",
    "status",
    "occurred_at",
    "location",
    "raw_text",
)
_MAX_LENGTHS: dict[str, int | None] = {
    name: getattr(TrackingEvent._meta.get_field(name), "max_length", None)
    for name in ("carrier", "tracking_number", "carrier_event_id", "location")
}
# Late-shipment states the first scan ships from (the workflow's own sources of mark_shipped).
_SHIPPABLE: set[str] = {CaseState.NEW, CaseState.SUPPLIER_CONTACTED, CaseState.SUPPLIER_SWITCHED}


@dataclass(frozen=True)
class TrackingBatchResult:
    received: int
    created: int
    unchanged: int
    matched: int  # new scans whose shipment is known
    unmatched: int  # new scans kept until their shipment arrives
    cases_changed: int


@dataclass(frozen=True)
class ShipmentBatchResult:
    received: int
    created: int
    unchanged: int
    events_matched: int
    cases_changed: int


def _refuse(errors: list[dict[str, Any]], count: int, what: str) -> None:
    errors.sort(key=lambda error: error["index"])
    raise CaseRefused(
        ErrorCode.INVALID_VALUE,
        _(
            "%(bad)s of the %(count)s %(what)s are invalid; nothing was imported. Fix the items "
            "listed in errors and send the list again."
        )
        % {"bad": len({error["index"] for error in errors}), "count": count, "what": what},
        errors=errors,
    )


def _text(
    item: Mapping[str, Any],
    name: str,
    index: int,
    errors: list,
    *,
    required: bool,
    prefix: str = "",
) -> str:
    value: Any = item.get(name, "")
    field = f"{prefix}{name}"
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(_error(index, field, ErrorCode.INVALID_VALUE.value, _("Give a text.")))
        return ""
    if "\x00" in value:  # PostgreSQL stores no NUL character
        errors.append(
            _error(
                index, field, ErrorCode.INVALID_VALUE.value, _("Null characters are not allowed.")
            )
        )
        value = value.replace("\x00", "")
    value = value.strip()
    if required and not value:
        errors.append(_error(index, field, ErrorCode.REQUIRED.value, _("This field is required.")))
    limit = _MAX_LENGTHS.get(name)
    if limit and len(value) > limit:
        errors.append(
            _error(
                index,
                field,
                ErrorCode.INVALID_VALUE.value,
                _("At most %(max)s characters.") % {"max": limit},
            )
        )
    return str(value)


# -- importing scans ------------------------------------------------------------------------------


def tracking_events_import(  # noqa: C901, PLR0912
    *, items: Sequence[Mapping[str, Any]], marketplace_ids: Iterable[int] | None = None
) -> TrackingBatchResult:
    """Record the carrier scans ``items`` (each with the fields of ``EVENT_FIELDS``), all or
    nothing, and apply the rules of those whose shipment is known. With ``marketplace_ids``
    (an API client's), a scan of a parcel of another marketplace's order is refused.

    Raises ``CaseRefused`` (``invalid_value``) listing every problem as ``{index, field,
    pointer, detail, code}`` when any item is invalid: nothing is written then."""
    if len(items) > MAX_BATCH:
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("Send at most %(max)s events a request (this one has %(count)s); split the list.")
            % {"max": f"{MAX_BATCH:,}", "count": f"{len(items):,}"},
        )
    now = timezone.now()
    errors: list[dict[str, Any]] = []
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    first_index: dict[tuple[str, str, str], int] = {}
    for index, item in enumerate(items):
        unknown = sorted(set(item) - set(EVENT_FIELDS))
        for name in unknown:
            errors.append(
                _error(
                    index,
                    name,
                    ErrorCode.UNKNOWN_FIELD.value,
                    _("Unknown field. Accepted: %(accepted)s.")
                    % {"accepted": ", ".join(EVENT_FIELDS)},
                )
            )
        row: dict[str, Any] = {
            "carrier": _text(item, "carrier", index, errors, required=True),
            "tracking_number": _text(item, "tracking_number", index, errors, required=True),
            "carrier_event_id": _text(item, "carrier_event_id", index, errors, required=True),
            "location": _text(item, "location", index, errors, required=False),
            "raw_text": _text(item, "raw_text", index, errors, required=False),
        }
        status = item.get("status")
        if status not in TrackingStatus.values:
            errors.append(
                _error(
                    index,
                    "status",
                    ErrorCode.INVALID_CHOICE.value,
                    _("Unknown status %(value)s. Accepted: %(accepted)s.")
                    % {"value": status, "accepted": ", ".join(TrackingStatus.values)},
                )
            )
        row["status"] = status
        occurred_at = item.get("occurred_at")
        if not isinstance(occurred_at, dt.datetime):
            errors.append(
                _error(
                    index,
                    "occurred_at",
                    ErrorCode.REQUIRED.value,
                    _("Give the time of the scan, with its time zone offset."),
                )
            )
        elif not _plausible(occurred_at):
            errors.append(
                _error(
                    index,
                    "occurred_at",
                    ErrorCode.INVALID_VALUE.value,
                    _("Give a time between %(first)s and %(last)s.")
                    % {"first": PLAUSIBLE_DATES[0], "last": PLAUSIBLE_DATES[1]},
                )
            )
        else:
            try:
                check_not_future(occurred_at, field="occurred_at", now=now)
            except DomainError as refused:
                errors.append(_error(index, "occurred_at", refused.code.value, refused.message))
        row["occurred_at"] = occurred_at
        key = (row["carrier"], row["tracking_number"], row["carrier_event_id"])
        if key in rows:
            earlier = rows[key]
            if (earlier["status"], earlier["occurred_at"]) != (status, occurred_at):
                errors.append(
                    _error(
                        index,
                        "carrier_event_id",
                        ErrorCode.DUPLICATE.value,
                        _("Event %(id)s of %(number)s is also item %(first)s, saying otherwise.")
                        % {"id": key[2], "number": key[1], "first": first_index[key]},
                    )
                )
            continue
        rows[key] = row
        first_index[key] = index
    if errors:
        _refuse(errors, len(items), _("events"))

    with transaction.atomic():
        stored = _stored_events(set(rows))
        new_rows = []
        unchanged = 0
        for key, row in rows.items():
            before = stored.get(key)
            if before is None:
                new_rows.append(row)
                continue
            if before != (row["status"], row["occurred_at"]):
                errors.append(
                    _error(
                        first_index[key],
                        "carrier_event_id",
                        ErrorCode.DUPLICATE.value,
                        _(
                            "Event %(id)s of %(number)s was received before as %(status)s at "
                            "%(at)s: a carrier's event id names one scan."
                        )
                        % {
                            "id": key[2],
                            "number": key[1],
                            "status": before[0],
                            "at": before[1].isoformat(),
                        },
                    )
                )
            unchanged += 1
        shipments = _shipments_by_key(
            {(row["carrier"], row["tracking_number"]) for row in new_rows}
        )
        if marketplace_ids is not None:
            errors.extend(_not_yours(new_rows, shipments, set(marketplace_ids), first_index))
        if errors:
            _refuse(errors, len(items), _("events"))
        batch = uuid.uuid4()
        _insert_events(new_rows, shipments, batch=batch, now=now)
        ours = list(TrackingEvent.objects.filter(import_batch=batch).values_list("pk", "shipment"))
        matched = [pk for pk, shipment in ours if shipment is not None]
        cases_changed = tracking_apply(event_ids=matched, now=now)
    return TrackingBatchResult(
        received=len(items),
        created=len(ours),
        unchanged=len(items) - len(ours),
        matched=len(matched),
        unmatched=len(ours) - len(matched),
        cases_changed=cases_changed,
    )


def _insert_events(
    rows: list[dict[str, Any]],
    shipments: dict[tuple[str, str], int],
    *,
    batch: uuid.UUID,
    now: dt.datetime,
) -> None:
    """INSERT the new scans, a concurrent import's copy of one winning (ON CONFLICT DO
    NOTHING). On PostgreSQL one statement a chunk reads the columns as arrays (``unnest``):
    building thousands of model instances and their parameters cost more than the insert."""
    if connection.vendor != "postgresql":
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    **row,
                    shipment_id=shipments.get((row["carrier"], row["tracking_number"])),
                    received_at=now,
                    import_batch=batch,
                )
                for row in rows
            ],
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        return
    table = TrackingEvent._meta.db_table
    sql = (
        f"INSERT INTO {table} (carrier, tracking_number, carrier_event_id, status, occurred_at, "
        "location, raw_text, shipment_id, received_at, import_batch) "
        "SELECT c, t, e, s, o, l, r, sh, %s, %s FROM unnest("
        "%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::timestamptz[], "
        "%s::varchar[], %s::text[], %s::bigint[]) AS u(c, t, e, s, o, l, r, sh) "
        "ON CONFLICT (carrier, tracking_number, carrier_event_id) DO NOTHING"
    )
    step = CHUNK * 5
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            columns = [
                [row[name] for row in chunk]
                for name in (
                    "carrier",
                    "tracking_number",
                    "carrier_event_id",
                    "status",
                    "occurred_at",
                    "location",
                    "raw_text",
                )
            ]
            linked = [shipments.get((row["carrier"], row["tracking_number"])) for row in chunk]
            cursor.execute(sql, [now, batch, *columns, linked])


def _plausible(moment: dt.datetime) -> bool:
    """Within ``PLAUSIBLE_DATES``, read in UTC (a time near year 1 or 9999 cannot be stored)."""
    if moment.tzinfo is None:
        return True  # refused by check_not_future, in its own words
    try:
        day = moment.astimezone(dt.UTC).date()
    except OverflowError:
        return False
    return PLAUSIBLE_DATES[0] <= day <= PLAUSIBLE_DATES[1]


def _not_yours(
    rows: list[dict[str, Any]],
    shipments: dict[tuple[str, str], int],
    allowed: set[int],
    first_index: dict[tuple[str, str, str], int],
) -> list[dict[str, Any]]:
    marketplaces = dict(
        Shipment.objects.filter(pk__in=set(shipments.values())).values_list(
            "pk", "order__marketplace_id"
        )
    )
    errors = []
    for row in rows:
        shipment = shipments.get((row["carrier"], row["tracking_number"]))
        if shipment is not None and marketplaces.get(shipment) not in allowed:
            key = (row["carrier"], row["tracking_number"], row["carrier_event_id"])
            errors.append(
                _error(
                    first_index[key],
                    "tracking_number",
                    ErrorCode.NOT_YOURS.value,
                    _("Tracking number %(number)s is a parcel of another marketplace's order.")
                    % {"number": row["tracking_number"]},
                )
            )
    return errors


def shipments_add_by_reference(
    *, items: Sequence[Mapping[str, Any]], now: dt.datetime | None = None
) -> ShipmentBatchResult:
    """``shipments_add`` for items naming their order by ``marketplace`` (a Marketplace) and
    ``order`` (its id on the marketplace); an unknown order is refused with the others."""
    keys = {(item["marketplace"].pk, item["order"]) for item in items}
    orders: dict[tuple[int, str], Order] = {}
    by_marketplace: dict[int, list[str]] = defaultdict(list)
    for marketplace_id, external_id in keys:
        by_marketplace[marketplace_id].append(external_id)
    for marketplace_id, external_ids in by_marketplace.items():
        for start in range(0, len(external_ids), CHUNK):
            for order in Order.objects.select_related("marketplace").filter(
                marketplace_id=marketplace_id, external_id__in=external_ids[start : start + CHUNK]
            ):
                orders[(marketplace_id, order.external_id)] = order
    errors = [
        _error(
            index,
            "order",
            ErrorCode.DOES_NOT_EXIST.value,
            _("There is no order %(order)s on %(marketplace)s; import it first.")
            % {"order": item["order"], "marketplace": item["marketplace"].code},
        )
        for index, item in enumerate(items)
        if (item["marketplace"].pk, item["order"]) not in orders
    ]
    if errors:
        _refuse(errors, len(items), _("shipments"))
    return shipments_add(
        items=[
            (
                orders[(item["marketplace"].pk, item["order"])],
                {"carrier": item["carrier"], "tracking_number": item["tracking_number"]},
            )
            for item in items
        ],
        now=now,
    )


def _stored_events(keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], tuple]:
    """(status, occurred_at) of the scans among ``keys`` already recorded."""
    numbers = sorted({key[1] for key in keys})
    found: dict[tuple[str, str, str], tuple] = {}
    for start in range(0, len(numbers), CHUNK):
        rows = TrackingEvent.objects.filter(
            tracking_number__in=numbers[start : start + CHUNK]
        ).values_list("carrier", "tracking_number", "carrier_event_id", "status", "occurred_at")
        for carrier, number, event_id, status, occurred_at in rows:
            if (carrier, number, event_id) in keys:
                found[(carrier, number, event_id)] = (status, occurred_at)
    return found


def _shipments_by_key(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    numbers = sorted({number for _carrier, number in keys})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(numbers), CHUNK):
        rows = Shipment.objects.filter(
            tracking_number__in=numbers[start : start + CHUNK]
        ).values_list("carrier", "tracking_number", "pk")
        for carrier, number, pk in rows:
            if (carrier, number) in keys:
                found[(carrier, number)] = pk
    return found


# -- shipments ------------------------------------------------------------------------------------


def shipments_check(
    items: Sequence[tuple[int, Order | None, Mapping[str, Any]]], *, prefix: str = ""
) -> list[dict[str, Any]]:
    """Problems of the shipments ``items`` ((index, order, {carrier, tracking_number})): blank or
    too long values, a tracking number given twice for different orders, or held by another
    order already. ``order`` may be None for an order not created yet (checked by value)."""
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[int, Any]] = {}
    for index, order, item in items:
        carrier = _text(item, "carrier", index, errors, required=True, prefix=prefix)
        number = _text(item, "tracking_number", index, errors, required=True, prefix=prefix)
        if not carrier or not number:
            continue
        owner = order.pk if order is not None and order.pk else ("new", index)
        key = (carrier, number)
        if key in seen and seen[key][1] != owner:
            errors.append(
                _error(
                    index,
                    f"{prefix}tracking_number",
                    ErrorCode.DUPLICATE.value,
                    _("Tracking number %(number)s of %(carrier)s is also given for item %(first)s.")
                    % {"number": number, "carrier": carrier, "first": seen[key][0]},
                )
            )
        seen.setdefault(key, (index, owner))
    existing = _shipment_owners(set(seen))
    for key, (index, owner) in seen.items():
        held_by = existing.get(key)
        if held_by is not None and held_by[0] != owner:
            errors.append(
                _error(
                    index,
                    f"{prefix}tracking_number",
                    ErrorCode.DUPLICATE.value,
                    _("Tracking number %(number)s of %(carrier)s belongs to order %(order)s.")
                    % {"number": key[1], "carrier": key[0], "order": held_by[1]},
                )
            )
    return errors


def _shipment_owners(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
    numbers = sorted({number for _carrier, number in keys})
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for start in range(0, len(numbers), CHUNK):
        rows = Shipment.objects.filter(
            tracking_number__in=numbers[start : start + CHUNK]
        ).values_list("carrier", "tracking_number", "order_id", "order__external_id")
        for carrier, number, order_id, external_id in rows:
            if (carrier, number) in keys:
                found[(carrier, number)] = (order_id, external_id)
    return found


def shipments_add(
    *, items: Sequence[tuple[Order, Mapping[str, Any]]], now: dt.datetime | None = None
) -> ShipmentBatchResult:
    """Give orders their shipments (``(order, {carrier, tracking_number})``), all or nothing;
    a shipment the order has already is unchanged. Scans received before for these tracking
    numbers are matched, and their rules applied at their own times."""
    now = now or timezone.now()
    errors = shipments_check([(index, order, item) for index, (order, item) in enumerate(items)])
    if errors:
        _refuse(errors, len(items), _("shipments"))
    wanted = {
        (str(item["carrier"]).strip(), str(item["tracking_number"]).strip()): order
        for order, item in items
    }
    with transaction.atomic():
        existing = _shipments_by_key(set(wanted))
        Shipment.objects.bulk_create(
            [
                Shipment(order=order, carrier=carrier, tracking_number=number, created_at=now)
                for (carrier, number), order in wanted.items()
                if (carrier, number) not in existing
            ],
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        stored = _shipments_by_key(set(wanted))
        created = len(stored) - len(existing)
        events = _match_waiting_events(stored)
        cases_changed = tracking_apply(event_ids=events, now=now)
    return ShipmentBatchResult(
        received=len(items),
        created=created,
        unchanged=len(items) - created,
        events_matched=len(events),
        cases_changed=cases_changed,
    )


def shipment_add(*, order: Order, carrier: str, tracking_number: str) -> Shipment:
    """One shipment of ``order`` (see ``shipments_add``); returns it."""
    shipments_add(items=[(order, {"carrier": carrier, "tracking_number": tracking_number})])
    return Shipment.objects.get(carrier=carrier.strip(), tracking_number=tracking_number.strip())


def _match_waiting_events(shipments: dict[tuple[str, str], int]) -> list[int]:
    """Attach the scans kept without a shipment to the shipments now known; returns their ids.
    One UPDATE a chunk, the shipment found by the database (set-based: no row per scan)."""
    numbers = sorted({number for _carrier, number in shipments})
    matched: list[int] = []
    for start in range(0, len(numbers), CHUNK):
        waiting = TrackingEvent.objects.filter(
            shipment__isnull=True, tracking_number__in=numbers[start : start + CHUNK]
        )
        ids = [
            pk
            for pk, carrier, number in waiting.values_list("pk", "carrier", "tracking_number")
            if (carrier, number) in shipments
        ]
        if not ids:
            continue
        TrackingEvent.objects.filter(pk__in=ids).update(
            shipment_id=Subquery(
                Shipment.objects.filter(
                    carrier=OuterRef("carrier"), tracking_number=OuterRef("tracking_number")
                ).values("pk")[:1]
            )
        )
        matched.extend(ids)
    return matched


# -- the rules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    """A new scan, as the rules read it."""

    pk: int
    shipment_id: int | None
    status: str
    occurred_at: dt.datetime
    location: str


@dataclass
class _Step:
    """Something to do on one case at one moment (run in time order inside its action)."""

    at: dt.datetime
    order_key: int
    run: Callable[[CaseAction], None]


def tracking_apply(*, event_ids: Iterable[int], now: dt.datetime | None = None) -> int:  # noqa: C901, PLR0912
    """Apply the rules of the scans ``event_ids`` (new to their shipment, matched); returns how
    many cases changed. Shipments are locked, so two imports about one parcel take turns."""
    event_ids = sorted(set(event_ids))
    if not event_ids:
        return 0
    now = now or timezone.now()
    changed = 0
    with transaction.atomic():
        new_events: list[_Scan] = []
        for start in range(0, len(event_ids), CHUNK):
            new_events.extend(
                _Scan(*values)
                for values in TrackingEvent.objects.filter(
                    pk__in=event_ids[start : start + CHUNK]
                ).values_list("pk", "shipment_id", "status", "occurred_at", "location")
            )
        shipment_ids = sorted({event.shipment_id for event in new_events if event.shipment_id})
        shipments: dict[int, Shipment] = {}
        for start in range(0, len(shipment_ids), CHUNK):
            for shipment in (
                Shipment.objects.select_for_update(of=("self",))
                .select_related("order__marketplace")
                .filter(pk__in=shipment_ids[start : start + CHUNK])
                .order_by("pk")
            ):
                shipments[shipment.pk] = shipment
        history: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
        for start in range(0, len(shipment_ids), CHUNK):
            for shipment_id, status, occurred_at in TrackingEvent.objects.filter(
                shipment_id__in=shipment_ids[start : start + CHUNK]
            ).values_list("shipment_id", "status", "occurred_at"):
                history[shipment_id].append((occurred_at, status))
        new_by_shipment: dict[int, list[_Scan]] = defaultdict(list)
        for event in sorted(new_events, key=lambda e: (e.occurred_at, e.pk)):
            if event.shipment_id in shipments:
                new_by_shipment[event.shipment_id].append(event)
        orders = {shipment.order_id: shipment.order for shipment in shipments.values()}
        open_cases = _open_cases(orders)
        steps: dict[int, list[_Step]] = defaultdict(list)
        orders_changed: set[int] = set()
        shipments_changed: set[int] = set()
        for shipment_id, events in new_by_shipment.items():
            shipment = shipments[shipment_id]
            order = shipment.order
            if _order_times(order, history[shipment_id]):
                orders_changed.add(order.pk)
            if _plan(shipment, events, history[shipment_id], open_cases, steps, now=now):
                shipments_changed.add(shipment_id)
            lost = shipment.lost_at is not None and not order.parcel_lost
            if lost and order.marketplace.tracking_flags_lost_parcels:
                order.parcel_lost = True
                orders_changed.add(order.pk)
        if orders_changed:
            _orders_update(orders, sorted(orders_changed), now=now)
        if shipments_changed:
            Shipment.objects.bulk_update(
                [shipments[pk] for pk in sorted(shipments_changed)],
                ["customs_case", "lost_at"],
                batch_size=CHUNK,
            )
        if steps:

            def change(act: CaseAction) -> None:
                for step in sorted(steps[act.case.pk], key=lambda s: (s.at, s.order_key)):
                    step.run(act)

            changed = case_actions_batch(steps, change, actor=CARRIER, door=DOOR, now=now)
        matched = [event.pk for events in new_by_shipment.values() for event in events]
        if matched:
            tracking_events_recorded.send(sender=TrackingEvent, event_ids=matched)
    return changed


def _orders_update(orders: dict[int, Order], ids: list[int], *, now: dt.datetime) -> None:
    """Write the order times the scans gave, set-based: one UPDATE a chunk computing each
    order's earliest pickup and delivery scan in the database (an UPDATE per order, or
    ``bulk_update``'s CASE over thousands of rows, is what made large imports slow)."""
    times = {
        name: _earliest_scan(status)
        for name, status in (
            ("picked_up_at", TrackingStatus.PICKED_UP),
            ("delivered_at", TrackingStatus.DELIVERED),
        )
    }
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        Order.objects.filter(pk__in=chunk).update(
            updated_at=now,
            **{
                # Only ever earlier: the order's own time stands when it is the earliest.
                name: Least(Coalesce(F(name), scan), Coalesce(scan, F(name)))
                for name, scan in times.items()
            },
        )
        lost = [pk for pk in chunk if orders[pk].parcel_lost]
        if lost:
            Order.objects.filter(pk__in=lost, parcel_lost=False).update(parcel_lost=True)


def _earliest_scan(status: str) -> Subquery:
    return Subquery(
        TrackingEvent.objects.filter(shipment__order_id=OuterRef("pk"), status=status)
        .order_by()
        .values("shipment__order_id")
        .annotate(first=Min("occurred_at"))
        .values("first")[:1]
    )


def _open_cases(orders: dict[int, Order]) -> dict[int, list[Case]]:
    """The open cases of ``orders``, by order (only what the rules read)."""
    ids = sorted(orders)
    by_order: dict[int, list[Case]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        for case in (
            Case.objects.filter(order_id__in=ids[start : start + CHUNK])
            .exclude(state__in=TERMINAL_STATES)
            .only("pk", "order_id", "kind", "state")
            .order_by("pk")
        ):
            by_order[case.order_id].append(case)
    return by_order


def _order_times(order: Order, history: list[tuple[dt.datetime, str]]) -> bool:
    """The earliest pickup and delivery scans become the order's times (only ever earlier)."""
    changed = False
    for name, status in (
        ("picked_up_at", TrackingStatus.PICKED_UP),
        ("delivered_at", TrackingStatus.DELIVERED),
    ):
        times = [at for at, scanned in history if scanned == status]
        if not times:
            continue
        current = getattr(order, name)
        if current is None or min(times) < current:
            setattr(order, name, min(times))
            changed = True
    return changed


def _plan(  # noqa: C901
    shipment: Shipment,
    events: list[_Scan],
    history: list[tuple[dt.datetime, str]],
    open_cases: dict[int, list[Case]],
    steps: dict[int, list[_Step]],
    *,
    now: dt.datetime,
) -> bool:
    """Queue the rules of the new scans ``events`` of ``shipment`` as steps on cases (opening
    the customs case now when a hold calls for one); returns whether the shipment changed."""
    order, marketplace = shipment.order, shipment.order.marketplace
    cases = open_cases.get(order.pk, [])
    shipment_changed = False
    first_scan = min(at for at, _status in history)
    customs = _customs_case(shipment, cases)

    for event in events:
        status, at = event.status, event.occurred_at
        if status == TrackingStatus.CUSTOMS_HOLD and marketplace.tracking_opens_customs_cases:
            over = any(later > at and s in PAST_CUSTOMS_STATUSES for later, s in history)
            if shipment.customs_case_id is None and not over:
                if customs is None:
                    customs = _open_customs_case(shipment, at)
                    if customs is not None:
                        cases.append(customs)
                        open_cases[order.pk] = cases
                if customs is not None:
                    shipment.customs_case = customs
                    shipment_changed = True
                    _step(steps, customs, at, event, _move("send_clearance_reminder", {"new"}))
        if customs is not None:
            if (
                status == TrackingStatus.CUSTOMS_CLEARED
                and marketplace.tracking_clears_customs_cases
            ):
                _step(steps, customs, at, event, _move("mark_cleared", {"reminder_sent"}))
            if status == TrackingStatus.DELIVERED and marketplace.tracking_delivers_customs_cases:
                # A delivered parcel was cleared: through cleared when no clearance scan came.
                _step(steps, customs, at, event, _move("mark_cleared", {"reminder_sent"}))
                _step(steps, customs, at, event, _move("mark_delivered", {"cleared"}))
        earliest_loss = shipment.lost_at is None or at < shipment.lost_at
        if (
            status == TrackingStatus.LOST
            and marketplace.tracking_flags_lost_parcels
            and earliest_loss
        ):
            shipment.lost_at = at
            shipment_changed = True
        for case in cases:
            if (
                case.kind == CaseKind.INTERCEPTION
                and status == TrackingStatus.RETURNED_TO_SENDER
                and marketplace.tracking_confirms_interceptions
            ):
                _step(steps, case, at, event, _move("mark_intercepted", {"interception_requested"}))
            _step(steps, case, at, event, _timeline(event))
    if marketplace.tracking_ships_late_cases:
        for case in cases:
            if case.kind == CaseKind.LATE_SHIPMENT:
                _step(steps, case, first_scan, events[0], _move("mark_shipped", _SHIPPABLE))
    return shipment_changed


def _customs_case(shipment: Shipment, cases: list[Case]) -> Case | None:
    """The parcel's customs-delay case: the one linked to it, else an open one of the order."""
    if shipment.customs_case_id is not None:
        return next((c for c in cases if c.pk == shipment.customs_case_id), None)
    return next((c for c in cases if c.kind == CaseKind.CUSTOMS_DELAY), None)


def _open_customs_case(shipment: Shipment, at: dt.datetime) -> Case | None:
    from .cases import case_open

    try:
        case, _created = case_open(
            marketplace=shipment.order.marketplace,
            order=shipment.order,
            kind=CaseKind.CUSTOMS_DELAY,
            actor=CARRIER,
            door=DOOR,
            opened_at=at,
        )
    except CaseRefused:  # a scan before the order was placed: nothing sensible to open
        return None
    return case


def _step(
    steps: dict[int, list[_Step]],
    case: Case,
    at: dt.datetime,
    event: _Scan,
    run: Callable[[CaseAction, dt.datetime], None],
) -> None:
    steps[case.pk].append(_Step(at, event.pk, lambda act: run(act, at)))


def _move(transition: str, sources: set[str]) -> Callable[[CaseAction, dt.datetime], None]:
    """A transition run if the case is (still) in one of ``sources`` when its turn comes: an
    older scan finding the case already further on does nothing."""

    def run(act: CaseAction, at: dt.datetime) -> None:
        case = act.case
        if case.state not in sources:
            return
        floor = case.last_transition_at or case.opened_at
        note = ""
        if at < floor:
            # Recorded in the order things were recorded: the scan came after the case's last
            # change had been recorded later than the scan itself.
            note = _("Carrier scan of %(at)s.") % {"at": at.isoformat()}
            at = floor
        try:
            act.transition(transition, occurred_at=at, note=note, source=SOURCE)
        except DomainError:
            return  # a guard or the graph says no: the scan changes nothing

    return run


def _timeline(event: _Scan) -> Callable[[CaseAction, dt.datetime], None]:
    def run(act: CaseAction, at: dt.datetime) -> None:
        act.event(
            TrackingEventRecorded(
                tracking_event=event.pk, status=event.status, location=event.location
            ),
            occurred_at=at,
        )

    return run
