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
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from ..actors import Actor
from ..choices import (
    PAST_CUSTOMS_STATUSES,
    TERMINAL_STATES,
    CaseKind,
    CaseState,
    Door,
    EventType,
    TrackingStatus,
)
from ..errors import CaseRefused, DomainError, ErrorCode
from ..events import TrackingEventRecorded
from ..kernel import CaseAction, case_actions_batch, check_not_future
from ..models import PLAUSIBLE_DATES, Case, CaseEvent, Order, Shipment, TrackingEvent
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
        shipments = _shipment_marketplaces(
            {(row["carrier"], row["tracking_number"]) for row in new_rows}
        )
        if marketplace_ids is not None:
            errors.extend(_not_yours(new_rows, shipments, set(marketplace_ids), first_index))
        if errors:
            _refuse(errors, len(items), _("events"))
        linked = {key: pk for key, (pk, _marketplace) in shipments.items()}
        ours = _insert_events(new_rows, linked, now=now)
        matched = [scan for scan in ours if scan.shipment_id is not None]
        cases_changed = _apply(matched, now=now)
    return TrackingBatchResult(
        received=len(items),
        created=len(ours),
        unchanged=len(items) - len(ours),
        matched=len(matched),
        unmatched=len(ours) - len(matched),
        cases_changed=cases_changed,
    )


def _insert_events(
    rows: list[dict[str, Any]], shipments: dict[tuple[str, str], int], *, now: dt.datetime
) -> list[_Scan]:
    """INSERT the new scans, a concurrent import's copy of one winning (ON CONFLICT DO
    NOTHING); returns the scans this import wrote, as the rules read them. On PostgreSQL one
    statement a chunk reads the rows from one JSON parameter and RETURNING names the rows it
    wrote: no model instances, no per-value parameters, no second read."""
    batch = uuid.uuid4()
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
        return [
            _Scan(*values)
            for values in TrackingEvent.objects.filter(import_batch=batch).values_list(
                "pk", "shipment_id", "status", "occurred_at", "location"
            )
        ]
    table = TrackingEvent._meta.db_table
    sql = (
        f"INSERT INTO {table} (carrier, tracking_number, carrier_event_id, status, occurred_at, "
        "location, raw_text, shipment_id, received_at, import_batch) "
        "SELECT j.c, j.t, j.e, j.s, j.o, j.l, j.r, j.sh, %s, %s FROM json_to_recordset(%s::json) "
        "AS j(i int, c varchar, t varchar, e varchar, s varchar, o timestamptz, l varchar, "
        "r text, sh bigint) ORDER BY j.i "
        "ON CONFLICT (carrier, tracking_number, carrier_event_id) DO NOTHING "
        "RETURNING id, carrier, tracking_number, carrier_event_id"
    )
    written: list[_Scan] = []
    step = CHUNK * 5
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            by_key: dict[tuple[str, str, str], tuple[dict[str, Any], int | None]] = {}
            payload = []
            for index, row in enumerate(chunk):
                key = (row["carrier"], row["tracking_number"], row["carrier_event_id"])
                shipment = shipments.get(key[:2])
                by_key[key] = (row, shipment)
                payload.append(
                    {
                        "i": index,
                        "c": key[0],
                        "t": key[1],
                        "e": key[2],
                        "s": row["status"],
                        "o": row["occurred_at"].isoformat(),
                        "l": row["location"],
                        "r": row["raw_text"],
                        "sh": shipment,
                    }
                )
            cursor.execute(sql, [now, batch, json.dumps(payload, ensure_ascii=False)])
            for pk, *key in cursor.fetchall():
                row, shipment = by_key[(key[0], key[1], key[2])]
                written.append(
                    _Scan(
                        pk,
                        shipment,
                        row["status"],
                        row["occurred_at"].astimezone(dt.UTC),
                        row["location"],
                    )
                )
    return written


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
    shipments: dict[tuple[str, str], tuple[int, int]],
    allowed: set[int],
    first_index: dict[tuple[str, str, str], int],
) -> list[dict[str, Any]]:
    errors = []
    for row in rows:
        shipment = shipments.get((row["carrier"], row["tracking_number"]))
        if shipment is not None and shipment[1] not in allowed:
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
    """(status, occurred_at) of the scans among ``keys`` already recorded. On PostgreSQL one
    query a chunk looks the keys up in the unique index (a first import reads no row)."""
    found: dict[tuple[str, str, str], tuple] = {}
    if connection.vendor == "postgresql":
        table = TrackingEvent._meta.db_table
        sql = (
            f"SELECT e.carrier, e.tracking_number, e.carrier_event_id, e.status, e.occurred_at "
            f"FROM {table} e JOIN json_to_recordset(%s::json) AS k(c varchar, t varchar, "
            "i varchar) ON (e.carrier, e.tracking_number, e.carrier_event_id) = (k.c, k.t, k.i)"
        )
        ordered = list(keys)
        step = CHUNK * 5
        with connection.cursor() as cursor:
            for start in range(0, len(ordered), step):
                payload = [{"c": c, "t": t, "i": i} for c, t, i in ordered[start : start + step]]
                cursor.execute(sql, [json.dumps(payload, ensure_ascii=False)])
                for carrier, number, event_id, status, occurred_at in cursor.fetchall():
                    found[(carrier, number, event_id)] = (status, occurred_at)
        return found
    numbers = sorted({key[1] for key in keys})
    for start in range(0, len(numbers), CHUNK):
        rows = TrackingEvent.objects.filter(
            tracking_number__in=numbers[start : start + CHUNK]
        ).values_list("carrier", "tracking_number", "carrier_event_id", "status", "occurred_at")
        for carrier, number, event_id, status, occurred_at in rows:
            if (carrier, number, event_id) in keys:
                found[(carrier, number, event_id)] = (status, occurred_at)
    return found


def _shipment_marketplaces(keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(shipment id, its order's marketplace id) of the shipments among ``keys``."""
    numbers = sorted({number for _carrier, number in keys})
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for start in range(0, len(numbers), CHUNK):
        rows = Shipment.objects.filter(
            tracking_number__in=numbers[start : start + CHUNK]
        ).values_list("carrier", "tracking_number", "pk", "order__marketplace_id")
        for carrier, number, pk, marketplace_id in rows:
            if (carrier, number) in keys:
                found[(carrier, number)] = (pk, marketplace_id)
    return found


def _shipments_by_key(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return {key: pk for key, (pk, _marketplace) in _shipment_marketplaces(keys).items()}


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


def tracking_apply(*, event_ids: Iterable[int], now: dt.datetime | None = None) -> int:
    """Apply the rules of the scans ``event_ids`` (new to their shipment, matched); returns how
    many cases changed. Shipments are locked, so two imports about one parcel take turns."""
    ids = sorted(set(event_ids))
    scans: list[_Scan] = []
    for start in range(0, len(ids), CHUNK):
        scans.extend(
            _Scan(*values)
            for values in TrackingEvent.objects.filter(
                pk__in=ids[start : start + CHUNK], shipment__isnull=False
            ).values_list("pk", "shipment_id", "status", "occurred_at", "location")
        )
    return _apply(scans, now=now or timezone.now())


@dataclass
class _Parcel:
    """A locked shipment and what its order holds of the scans so far."""

    order_id: int
    marketplace_id: int
    lost_at: dt.datetime | None
    picked_up_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_scan_at: dt.datetime | None
    parcel_lost: bool


ORDER_TIMES = ("picked_up_at", "delivered_at", "last_tracking_event_at", "parcel_lost")
# Statuses whose rule may act on a parcel whatever the cases of its order.
_RULE_STATUSES = frozenset({TrackingStatus.CUSTOMS_HOLD, TrackingStatus.LOST})


def _apply(scans: list[_Scan], *, now: dt.datetime) -> int:
    """The rules of the new matched ``scans``, set-based: the shipments locked and read in one
    query a chunk, the order times folded in one UPDATE, and only the parcels a rule can act on
    (an open case on the order, a customs hold, a loss) planned scan by scan, each case changed
    through the kernel."""
    if not scans:
        return 0
    changed = 0
    with transaction.atomic():
        by_shipment: dict[int, list[_Scan]] = defaultdict(list)
        for scan in sorted(scans, key=lambda e: (e.occurred_at, e.pk)):
            if scan.shipment_id is not None:
                by_shipment[scan.shipment_id].append(scan)
        parcels = _lock_parcels(sorted(by_shipment))
        by_shipment = {pk: events for pk, events in by_shipment.items() if pk in parcels}
        open_cases = _open_cases({parcel.order_id for parcel in parcels.values()})
        planned = sorted(
            pk
            for pk, events in by_shipment.items()
            if parcels[pk].order_id in open_cases
            or parcels[pk].lost_at is not None
            or any(event.status in _RULE_STATUSES for event in events)
        )
        steps: dict[int, list[_Step]] = defaultdict(list)
        shipments_changed, lost_orders = _plan_all(planned, by_shipment, open_cases, steps, now)
        _orders_update(parcels, by_shipment, lost_orders, now=now)
        if shipments_changed:
            Shipment.objects.bulk_update(
                shipments_changed, ["customs_case", "lost_at"], batch_size=CHUNK
            )
        if steps:

            def change(act: CaseAction) -> None:
                for step in sorted(steps[act.case.pk], key=lambda s: (s.at, s.order_key)):
                    step.run(act)

            changed = case_actions_batch(steps, change, actor=CARRIER, door=DOOR, now=now)
        matched = [event.pk for events in by_shipment.values() for event in events]
        if matched:
            tracking_events_recorded.send(sender=TrackingEvent, event_ids=matched)
    return changed


def _plan_all(
    planned: list[int],
    by_shipment: dict[int, list[_Scan]],
    open_cases: dict[int, list[Case]],
    steps: dict[int, list[_Step]],
    now: dt.datetime,
) -> tuple[list[Shipment], set[int]]:
    """Plan the rules of the shipments ``planned``; returns the shipments changed and the
    orders whose parcel is lost."""
    shipments_changed: list[Shipment] = []
    lost_orders: set[int] = set()
    if not planned:
        return shipments_changed, lost_orders
    history = _history(planned)
    for shipment in _shipments(planned):
        events = by_shipment[shipment.pk]
        if _plan(shipment, events, history[shipment.pk], open_cases, steps, now=now):
            shipments_changed.append(shipment)
        flags_losses = shipment.order.marketplace.tracking_flags_lost_parcels
        if shipment.lost_at is not None and flags_losses:
            lost_orders.add(shipment.order_id)
    return shipments_changed, lost_orders


def _lock_parcels(shipment_ids: list[int]) -> dict[int, _Parcel]:
    """Lock the shipments (in id order: two imports never deadlock on them) and read, in the
    same query, what the order holds of their scans."""
    parcels: dict[int, _Parcel] = {}
    for start in range(0, len(shipment_ids), CHUNK):
        rows = (
            Shipment.objects.select_for_update(of=("self",))
            .filter(pk__in=shipment_ids[start : start + CHUNK])
            .order_by("pk")
            .values_list(
                "pk",
                "order_id",
                "order__marketplace_id",
                "lost_at",
                "order__picked_up_at",
                "order__delivered_at",
                "order__last_tracking_event_at",
                "order__parcel_lost",
            )
        )
        for pk, order, marketplace, lost, picked, delivered, last, flagged in rows:
            parcels[pk] = _Parcel(order, marketplace, lost, picked, delivered, last, flagged)
    return parcels


def _history(shipment_ids: list[int]) -> dict[int, tuple[dt.datetime, dt.datetime | None]]:
    """(first scan, latest scan past customs) of each shipment, over all its scans."""
    found = {}
    for start in range(0, len(shipment_ids), CHUNK):
        rows = (
            TrackingEvent.objects.filter(shipment_id__in=shipment_ids[start : start + CHUNK])
            .order_by()
            .values("shipment_id")
            .annotate(
                first=Min("occurred_at"),
                past=Max("occurred_at", filter=Q(status__in=PAST_CUSTOMS_STATUSES)),
            )
            .values_list("shipment_id", "first", "past")
        )
        for pk, first, past in rows:
            found[pk] = (first, past)
    return found


def _shipments(shipment_ids: list[int]) -> list[Shipment]:
    found: list[Shipment] = []
    for start in range(0, len(shipment_ids), CHUNK):
        found.extend(
            Shipment.objects.select_related("order__marketplace")
            .filter(pk__in=shipment_ids[start : start + CHUNK])
            .order_by("pk")
        )
    return found


def _orders_update(
    parcels: dict[int, _Parcel],
    by_shipment: dict[int, list[_Scan]],
    lost_orders: set[int],
    *,
    now: dt.datetime,
) -> None:
    """Fold the new scans into their orders' times: the earliest pickup and delivery (only
    ever earlier), the latest scan (only ever later), the lost flag. Computed here from the new
    scans alone (earlier scans were folded when they came); only orders that change are
    written, on PostgreSQL in one UPDATE a chunk that takes LEAST/GREATEST with the row as it
    stands (an order import writing the same row meanwhile loses nothing)."""
    wanted: dict[int, dict[str, Any]] = {}
    for pk, events in by_shipment.items():
        parcel = parcels[pk]
        values = wanted.setdefault(
            parcel.order_id,
            {
                "picked_up_at": parcel.picked_up_at,
                "delivered_at": parcel.delivered_at,
                "last_tracking_event_at": parcel.last_scan_at,
                "parcel_lost": parcel.parcel_lost,
                "changed": False,
            },
        )
        for event in events:
            for name, status in (
                ("picked_up_at", TrackingStatus.PICKED_UP),
                ("delivered_at", TrackingStatus.DELIVERED),
            ):
                if event.status == status and (
                    values[name] is None or event.occurred_at < values[name]
                ):
                    values[name] = event.occurred_at
                    values["changed"] = True
            last = values["last_tracking_event_at"]
            if last is None or event.occurred_at > last:
                values["last_tracking_event_at"] = event.occurred_at
                values["changed"] = True
        if parcel.order_id in lost_orders and not values["parcel_lost"]:
            values["parcel_lost"] = True
            values["changed"] = True
    changes = sorted((pk, values) for pk, values in wanted.items() if values.pop("changed"))
    if not changes:
        return
    if connection.vendor != "postgresql":
        # SQLite: this transaction holds the database's write lock since the scans' INSERT, so
        # the values read are the row's; bulk_update writes them in one statement a chunk.
        Order.objects.bulk_update(
            [Order(pk=pk, updated_at=now, **values) for pk, values in changes],
            ["updated_at", *ORDER_TIMES],
            batch_size=CHUNK,
        )
        return
    table = Order._meta.db_table
    sql = (
        f"UPDATE {table} o SET updated_at = %s, "
        # PostgreSQL's LEAST and GREATEST pass over NULLs: the order's own time stands alone.
        "picked_up_at = LEAST(o.picked_up_at, v.p), delivered_at = LEAST(o.delivered_at, v.d), "
        "last_tracking_event_at = GREATEST(o.last_tracking_event_at, v.l), "
        "parcel_lost = o.parcel_lost OR v.lost "
        "FROM json_to_recordset(%s::json) AS v(id bigint, p timestamptz, d timestamptz, "
        "l timestamptz, lost boolean) WHERE o.id = v.id"
    )

    def moment(value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    with connection.cursor() as cursor:
        for start in range(0, len(changes), CHUNK):
            payload = [
                {
                    "id": pk,
                    "p": moment(values["picked_up_at"]),
                    "d": moment(values["delivered_at"]),
                    "l": moment(values["last_tracking_event_at"]),
                    "lost": values["parcel_lost"],
                }
                for pk, values in changes[start : start + CHUNK]
            ]
            cursor.execute(sql, [now, json.dumps(payload)])


def _open_cases(order_ids: set[int]) -> dict[int, list[Case]]:
    """The open cases of the orders ``order_ids``, by order (only what the rules read)."""
    ids = sorted(order_ids)
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


def _plan(  # noqa: C901
    shipment: Shipment,
    events: list[_Scan],
    history: tuple[dt.datetime, dt.datetime | None],
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
    first_scan, past_customs = history
    customs = _customs_case(shipment, cases)

    for event in events:
        status, at = event.status, event.occurred_at
        if status == TrackingStatus.CUSTOMS_HOLD and marketplace.tracking_opens_customs_cases:
            over = past_customs is not None and past_customs > at
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
            # The location stays on the scan's row (erasable), not in the append-only event.
            TrackingEventRecorded(tracking_event=event.pk, status=event.status),
            occurred_at=at,
        )

    return run


def tracking_locations(events: Iterable[CaseEvent]) -> dict[int, str]:
    """The locations of the scans the timeline events ``events`` point at, by tracking-event
    id (one query), for ``RenderContext.tracking_locations``."""
    ids = {
        int((event.data or {}).get("tracking_event") or 0)
        for event in events
        if event.event_type == EventType.TRACKING_EVENT
    }
    ids.discard(0)
    if not ids:
        return {}
    return dict(TrackingEvent.objects.filter(pk__in=ids).values_list("pk", "location"))
