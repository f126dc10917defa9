"""Imports of what only the marketplace knows: the customers' answers to its customer-service
survey (Amazon's Customer Service Dissatisfaction Rate) and the feedback they left for the
seller. Create or update by (marketplace, external id), all or nothing, idempotent: the same
list sent again changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..models import CustomerServiceSurvey, SellerFeedback


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


class ImportRefused(Exception):
    """Nothing was written; ``errors`` lists (index, field, message) per bad item."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(_("Nothing was imported: fix the items listed and send them again."))
        self.message = str(self.args[0])
        self.errors = errors


def _upsert(model: Any, rows: list[dict[str, Any]], fields: tuple[str, ...], now: dt.datetime):
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for index, row in enumerate(rows):
        key = (row["marketplace"].pk, row["external_id"])
        if key in seen:
            errors.append(
                {
                    "index": index,
                    "field": "external_id",
                    "message": _("Same external_id as item %(index)s.") % {"index": seen[key]},
                }
            )
        seen[key] = index
        for name in fields:
            value = row.get(name)
            if isinstance(value, dt.datetime) and value > now:
                errors.append(
                    {
                        "index": index,
                        "field": name,
                        "message": _("%(moment)s is in the future; give the time it happened.")
                        % {"moment": value.isoformat()},
                    }
                )
    if errors:
        raise ImportRefused(errors)
    created = updated = unchanged = 0
    with transaction.atomic():
        by_market: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_market.setdefault(row["marketplace"].pk, []).append(row)
        for marketplace_id, items in by_market.items():
            existing = {
                obj.external_id: obj
                for obj in model.objects.filter(
                    marketplace_id=marketplace_id, external_id__in=[r["external_id"] for r in items]
                )
            }
            new = []
            for row in items:
                obj = existing.get(row["external_id"])
                values = {
                    name: row.get(name, model._meta.get_field(name).get_default())
                    for name in fields
                }
                if obj is None:
                    new.append(
                        model(
                            marketplace_id=marketplace_id, external_id=row["external_id"], **values
                        )
                    )
                elif all(getattr(obj, name) == value for name, value in values.items()):
                    unchanged += 1
                else:
                    for name, value in values.items():
                        setattr(obj, name, value)
                    obj.save(update_fields=list(fields))
                    updated += 1
            model.objects.bulk_create(new, batch_size=1000)
            created += len(new)
    return ImportResult(created, updated, unchanged)


SURVEY_FIELDS = ("order_external_id", "answered_at", "dissatisfied", "comment")
FEEDBACK_FIELDS = ("order_external_id", "left_at", "rating", "comment", "removed")


def survey_answers_import(
    *, answers: list[dict[str, Any]], now: dt.datetime | None = None
) -> ImportResult:
    """Each answer: ``marketplace`` (a Marketplace), ``external_id``, ``answered_at``,
    ``dissatisfied``, optional ``order_external_id`` and ``comment``."""
    return _upsert(CustomerServiceSurvey, answers, SURVEY_FIELDS, now or timezone.now())


def seller_feedback_import(
    *, feedback: list[dict[str, Any]], now: dt.datetime | None = None
) -> ImportResult:
    """Each feedback: ``marketplace``, ``external_id``, ``left_at``, ``rating`` (1 to 5),
    optional ``order_external_id``, ``comment`` and ``removed``."""
    for index, row in enumerate(feedback):
        if not 1 <= int(row.get("rating", 0)) <= 5:
            raise ImportRefused(
                [{"index": index, "field": "rating", "message": _("A rating is 1 to 5 stars.")}]
            )
    return _upsert(SellerFeedback, feedback, FEEDBACK_FIELDS, now or timezone.now())


__all__ = [
    "ImportRefused",
    "ImportResult",
    "Marketplace",
    "seller_feedback_import",
    "survey_answers_import",
]
