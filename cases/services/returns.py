"""Return requests, created or updated from marketplace data (Amazon's Return Dissatisfaction
Rate reads them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplaces.models import Marketplace

from ..errors import CaseRefused, ErrorCode
from ..models import Case, Order, ReturnRequest

RETURN_FIELDS = (
    "requested_at",
    "is_valid",
    "responded_at",
    "decision",
    "rejection_overturned_at",
    "negative_feedback_at",
)
_MOMENTS = ("requested_at", "responded_at", "rejection_overturned_at", "negative_feedback_at")


def return_request_upsert(
    *,
    marketplace: Marketplace,
    external_id: str,
    order: Order,
    case: Case | None = None,
    **fields: Any,
) -> tuple[ReturnRequest, bool]:
    """Create the return request, or update the fields given; returns (request, created).

    Raises ``CaseRefused`` when the order or case belongs to another marketplace or a time is
    in the future, and ``django.core.exceptions.ValidationError`` (field-keyed) for other
    invalid values. Nothing is written on refusal.
    """
    unknown = set(fields) - set(RETURN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown return request fields: {', '.join(sorted(unknown))}")
    if order.marketplace_id != marketplace.pk or (
        case is not None and case.marketplace_id != marketplace.pk
    ):
        raise CaseRefused(
            ErrorCode.ORDER_OF_OTHER_MARKETPLACE,
            _("Order %(order)s belongs to another marketplace.") % {"order": order.external_id},
            field="order",
        )
    now = timezone.now()
    for name in _MOMENTS:
        moment: dt.datetime | None = fields.get(name)
        if moment is not None and (timezone.is_naive(moment) or moment > now):
            raise CaseRefused(
                ErrorCode.OCCURRED_IN_FUTURE if moment.tzinfo else ErrorCode.INVALID_VALUE,
                _("%(field)s must be a past time with a time zone offset.") % {"field": name},
                field=name,
            )
    with transaction.atomic():
        existing = (
            ReturnRequest.objects.select_for_update()
            .filter(marketplace=marketplace, external_id=external_id)
            .first()
        )
        if existing is None:
            created = ReturnRequest(
                marketplace=marketplace, external_id=external_id, order=order, case=case, **fields
            )
            created.full_clean(validate_unique=False)
            created.save()
            return created, True
        changes = {
            name: value for name, value in fields.items() if getattr(existing, name) != value
        }
        if case is not None and existing.case_id != case.pk:
            changes["case"] = case
        if changes:
            for name, value in changes.items():
                setattr(existing, name, value)
            existing.full_clean(exclude=["marketplace", "order"], validate_unique=False)
            existing.save(update_fields=[*changes, "updated_at"])
    return existing, False
