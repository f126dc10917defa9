"""A customer's personal data, exported or erased on request: the admin, ``manage.py
personal_data`` and the API (``/api/v1/personal-data/``) all call the functions here.

A customer is found by e-mail address (every order placed with it) or by an order id (that
order, and the other orders of its e-mail address), optionally on one marketplace, and only on
the marketplaces the caller may see. What is held about them:

* here, in ``cases``: their orders (name, e-mail), the cases of those orders (the description),
  the evidence files (their names, the files and thumbnails), the shipments of the orders and
  the carrier's scans of them (a scan's location and text can give the street or the name: the
  erasure pseudonymises both and keeps the status and time, which the scorecards count);
* in the apps above, which register a *part* here (``register_part``) in their ``ready()``: the
  messages exchanged (``messaging``), the addresses clearance reminders went to (``jobs``), the
  copies in webhook events and stored API answers (``api``).

The export is one JSON document of all of it, and a ZIP with that document and the evidence
files. The erasure pseudonymises the rows (names and addresses replaced, texts emptied, file
names reduced to their extension), deletes the files once the transaction commits, and marks the
evidence erased; it records a ``PersonalDataErasure`` (who, when, how many rows: never the data)
and a ``personal_data_erased`` event on each case through the kernel.

The audit trail stays whole and readable: its rows are append-only (a trigger refuses UPDATE), so
no personal data is copied into them any more (an evidence event points at the evidence row,
whose name it shows; a message event points at the request or reminder it was about). Events
recorded before that change still hold an old file name or address: they cannot be changed, and
the erasure says how many such events it left (``legacy_events``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from .actors import Actor
from .choices import Door, EventType
from .errors import CaseRefused, ErrorCode
from .events import PersonalDataErased
from .kernel import CaseAction, case_actions_batch
from .models import (
    Case,
    CaseEvent,
    Evidence,
    Order,
    PersonalDataErasure,
    Shipment,
    TrackingEvent,
    evidence_storage,
)
from .services.tracking import EVENT_FIELDS

ERASED = "[erased]"


@dataclass(frozen=True)
class Subject:
    """The customer a request is about, and the rows that hold their data."""

    query: str  # the e-mail address or order id asked for
    marketplace: Marketplace | None
    order_ids: tuple[int, ...]
    case_ids: tuple[int, ...]
    emails: tuple[str, ...]
    names: tuple[str, ...]


# A part's export: its rows, or its rows by kind (a thread's messages, replies, notes...).
PartExport = list[dict[str, Any]] | dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Part:
    """Personal data held by another app: ``export`` gives its rows as JSON values, ``erase``
    pseudonymises them and returns how many rows it changed."""

    export: Callable[[Subject], PartExport]
    erase: Callable[[Subject], int]


_PARTS: dict[str, Part] = {}


def register_part(
    name: str,
    *,
    export: Callable[[Subject], PartExport],
    erase: Callable[[Subject], int],
) -> None:
    """Called by an app's ``ready()`` for the personal data it keeps (idempotent)."""
    _PARTS[name] = Part(export=export, erase=erase)


def personal_data_subject(
    *,
    email: str = "",
    order: str = "",
    marketplace: str = "",
    marketplaces: Iterable[int] | None = None,
) -> Subject:
    """The customer with ``email`` (or the one of order ``order``), on ``marketplace`` if given,
    within ``marketplaces`` (ids) if given; raises ``CaseRefused`` (not_found, invalid_value)."""
    email, order = email.strip(), order.strip()
    if bool(email) == bool(order):
        raise CaseRefused(
            ErrorCode.INVALID_VALUE,
            _("Give the customer's e-mail address or an order id (one of them)."),
            field="email",
        )
    orders = Order.objects.all()
    chosen: Marketplace | None = None
    if marketplace:
        chosen = Marketplace.objects.filter(code=marketplace).first()
        if chosen is None or (marketplaces is not None and chosen.pk not in set(marketplaces)):
            raise CaseRefused(
                ErrorCode.NOT_FOUND,
                _("There is no marketplace %(code)s.") % {"code": marketplace},
                field="marketplace",
            )
        orders = orders.filter(marketplace=chosen)
    if marketplaces is not None:
        orders = orders.filter(marketplace_id__in=list(marketplaces))
    if order:
        found = list(orders.filter(external_id=order))
        addresses = {o.customer_email.lower() for o in found if o.customer_email}
        condition = Q(pk__in=[o.pk for o in found])
        for address in addresses:
            condition |= Q(customer_email__iexact=address)
        selected = orders.filter(condition) if found else orders.none()
    else:
        selected = orders.filter(customer_email__iexact=email)
    rows = list(selected.order_by("pk").values_list("pk", "customer_email", "customer_name"))
    if not rows:
        raise CaseRefused(
            ErrorCode.NOT_FOUND,
            _("No order of %(who)s was found.") % {"who": email or order},
            field="email" if email else "order",
        )
    order_ids = tuple(pk for pk, _email, _name in rows)
    case_ids = tuple(
        Case.objects.filter(order_id__in=order_ids).order_by("pk").values_list("pk", flat=True)
    )
    return Subject(
        query=email or order,
        marketplace=chosen,
        order_ids=order_ids,
        case_ids=case_ids,
        emails=tuple(sorted({e for _pk, e, _n in rows if e and e != ERASED})),
        names=tuple(sorted({n for _pk, _e, n in rows if n and n != ERASED})),
    )


def subject_hash(query: str) -> str:
    """A keyed hash of what was asked for: recognises a repeated request, reveals nothing."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, query.strip().lower().encode(), hashlib.sha256).hexdigest()


# -- export -------------------------------------------------------------------------------------

ORDER_FIELDS = (
    "marketplace__code",
    "external_id",
    "customer_name",
    "customer_email",
    "customer_language",
    "placed_at",
    "shipped_at",
    "delivered_at",
    "destination_country",
    "total",
    "currency",
    "carrier",
    "tracking_number",
)
CASE_FIELDS = ("reference", "order__external_id", "kind", "state", "opened_at", "description")
SHIPMENT_FIELDS = ("order__external_id", "carrier", "tracking_number", "lost_at", "created_at")
# What the carrier sent (the import's own fields), and when it arrived.
TRACKING_EVENT_FIELDS = (*EVENT_FIELDS, "received_at")
EVIDENCE_FIELDS = (
    "pk",
    "case__reference",
    "media_type",
    "original_name",
    "content_type",
    "sha256",
    "size_bytes",
    "uploaded_at",
    "source",
    "review_status",
    "erased_at",
)


def _rows(queryset: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {name.replace("__", "_") if name != "pk" else "id": value for name, value in row.items()}
        for row in queryset.values(*fields)
    ]


def personal_data_export(subject: Subject) -> dict[str, Any]:
    """Everything held about the customer, as JSON values."""
    evidence = Evidence.objects.filter(case_id__in=subject.case_ids).order_by("pk")
    document: dict[str, Any] = {
        "customer": {"query": subject.query, "emails": subject.emails, "names": subject.names},
        "marketplace": subject.marketplace.code if subject.marketplace else None,
        "exported_at": timezone.now(),
        "orders": _rows(
            Order.objects.filter(pk__in=subject.order_ids).order_by("pk"), ORDER_FIELDS
        ),
        "cases": _rows(Case.objects.filter(pk__in=subject.case_ids).order_by("pk"), CASE_FIELDS),
        "evidence": _rows(evidence, EVIDENCE_FIELDS),
        "shipments": _rows(
            Shipment.objects.filter(order_id__in=subject.order_ids).order_by("pk"),
            SHIPMENT_FIELDS,
        ),
        "tracking_events": _rows(
            TrackingEvent.objects.filter(shipment__order_id__in=subject.order_ids).order_by(
                "occurred_at", "pk"
            ),
            TRACKING_EVENT_FIELDS,
        ),
    }
    for name, part in sorted(_PARTS.items()):
        document[name] = part.export(subject)
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def export_file_name(evidence: dict[str, Any]) -> str:
    extension = str(evidence["original_name"]).rsplit(".", 1)[-1][:10] or "bin"
    return f"evidence/{evidence['id']}.{extension}"


def personal_data_export_zip(subject: Subject) -> bytes:
    """The export as a ZIP: ``personal-data.json`` and every evidence file still held."""
    document = personal_data_export(subject)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        stored = dict(
            Evidence.objects.filter(case_id__in=subject.case_ids, erased_at__isnull=True)
            .exclude(file="")
            .values_list("pk", "file")
        )
        for item in document["evidence"]:
            name = stored.get(item["id"])
            if name:
                item["file"] = export_file_name(item)
                with evidence_storage.open(name, "rb") as handle:
                    archive.writestr(item["file"], handle.read())
        archive.writestr("personal-data.json", json.dumps(document, ensure_ascii=False, indent=2))
    return buffer.getvalue()


# -- erasure ------------------------------------------------------------------------------------


def _erased_name(name: str) -> str:
    extension = name.rsplit(".", 1)[-1][:10] if "." in name else ""
    return f"erased.{extension}" if extension else "erased"


def personal_data_erase(*, subject: Subject, actor: Actor, door: Door) -> PersonalDataErasure:
    """Pseudonymise everything held about the customer, delete their files (after commit), and
    record it; returns the erasure record."""
    now = timezone.now()
    with transaction.atomic():
        erasure = PersonalDataErasure.objects.create(
            at=now,
            actor_type=actor.type,
            actor_name=actor.name[:150],
            door=door,
            marketplace=subject.marketplace,
            subject_hash=subject_hash(subject.query),
        )

        def record(act: CaseAction) -> None:
            if act.case.description:
                act.case.description = ""
            act.event(PersonalDataErased(erasure=erasure.pk))

        case_actions_batch(subject.case_ids, record, actor=actor, door=door, now=now)
        orders = Order.objects.filter(pk__in=subject.order_ids).update(
            customer_name=ERASED, customer_email=""
        )
        files: list[str] = []
        evidence = list(
            Evidence.objects.select_for_update()
            .filter(case_id__in=subject.case_ids)
            .only("pk", "original_name", "file", "thumbnail")
        )
        for item in evidence:
            files.extend(name for name in (item.file.name, item.thumbnail.name) if name)
            Evidence.objects.filter(pk=item.pk).update(
                original_name=_erased_name(item.original_name),
                file="",
                thumbnail="",
                erased_at=now,
            )
        parts = {name: part.erase(subject) for name, part in sorted(_PARTS.items())}
        parts["tracking_events"] = _erase_tracking_events(subject)
        parts["legacy_events"] = (
            CaseEvent.objects.filter(case_id__in=subject.case_ids)
            .filter(
                Q(event_type=EventType.EVIDENCE_ADDED, data__has_key="name")
                | Q(event_type=EventType.MESSAGE_SENT, data__has_key="to")
                | Q(event_type=EventType.TRACKING_EVENT, data__has_key="location")
            )
            .count()
        )
        erasure.orders, erasure.cases, erasure.evidence = (
            orders,
            len(subject.case_ids),
            len(evidence),
        )
        erasure.parts = parts
        erasure.save(update_fields=["orders", "cases", "evidence", "parts"])
        transaction.on_commit(lambda: _delete_files(files))
    return erasure


def _erase_tracking_events(subject: Subject) -> int:
    """Pseudonymise the location and text of the scans of the customer's parcels; the status
    and times stay (the pickup, delivery and abnormal-logistics metrics read them), and so does
    the key (carrier, tracking number, event id): a carrier replaying the scan later finds it
    recorded and brings nothing back. Returns how many scans changed."""
    scans = TrackingEvent.objects.filter(shipment__order_id__in=subject.order_ids)
    changed = scans.filter(~Q(location__in=("", ERASED)) | ~Q(raw_text__in=("", ERASED)))
    return changed.update(location=_erased_text("location"), raw_text=_erased_text("raw_text"))


def _erased_text(name: str) -> SqlCase:
    """``[erased]`` where the column held something, empty where it was empty."""
    return SqlCase(When(**{name: ""}, then=Value("")), default=Value(ERASED))


def _delete_files(names: list[str]) -> None:
    for name in names:
        evidence_storage.delete(name)
