"""Answer templates: placeholders filled from the conversation's order and case.

A placeholder is written ``{{ name }}`` with a name of ``PLACEHOLDERS``. Filling never guesses:
a placeholder with no value (an order without tracking number, a conversation on no case...) is
left in the text as written and reported as missing, and a reply that still contains one cannot
be sent (``messaging.services.composer``): the agent fills it in or removes it.

Dates are written in the customer's language and time zone (the destination country's zone,
else the marketplace's). The upload link is made by the caller (``upload_link``): messaging
does not build links itself (the intake app does; the layer above passes its function).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Case, Order
from marketplaces.models import Marketplace

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
PLACEHOLDERS: dict[str, Any] = {
    "customer_name": gettext_lazy("the customer's name on the order"),
    "order_id": gettext_lazy("the order id on the marketplace"),
    "tracking_number": gettext_lazy("the order's tracking number"),
    "carrier": gettext_lazy("the order's carrier"),
    "case_reference": gettext_lazy("the case reference"),
    "upload_link": gettext_lazy("a link where the customer sends photos or videos"),
    "resolution_date": gettext_lazy(
        "the date the case will be resolved by, in the customer's language and time zone"
    ),
    "marketplace": gettext_lazy("the marketplace's name"),
    "agent_name": gettext_lazy("the name of the agent who sends the reply"),
}
# The customer's time zone, from the order's destination (the marketplace's otherwise).
COUNTRY_TIME_ZONES = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "TW": "Asia/Taipei",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "PT": "Europe/Lisbon",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "LU": "Europe/Luxembourg",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "AU": "Australia/Sydney",
}
UploadLink = Callable[[Case], "str | None"]


@dataclass(frozen=True)
class TemplateContext:
    """What a template is filled from."""

    marketplace: Marketplace
    order: Order | None = None
    case: Case | None = None
    language: str = ""
    agent_name: str = ""
    upload_link: UploadLink | None = None


@dataclass(frozen=True)
class Filled:
    text: str
    missing: tuple[str, ...]


def customer_time_zone(order: Order | None, marketplace: Marketplace) -> zoneinfo.ZoneInfo:
    name = COUNTRY_TIME_ZONES.get((order.destination_country or "").upper()) if order else None
    return zoneinfo.ZoneInfo(name or marketplace.time_zone)


def customer_date(moment: dt.datetime, *, language: str, tz: zoneinfo.ZoneInfo) -> str:
    """A date as the customer reads it: in their language, on their calendar day."""
    with translation.override(language or "en"):
        return date_format(moment.astimezone(tz).date(), "DATE_FORMAT")


def _values(context: TemplateContext, used: set[str]) -> dict[str, str]:
    order, case = context.order, context.case
    language = context.language or (order.customer_language if order else "") or "en"
    values: dict[str, str] = {"marketplace": context.marketplace.name}
    if context.agent_name:
        values["agent_name"] = context.agent_name
    if order is not None:
        for name, attribute in (
            ("customer_name", "customer_name"),
            ("order_id", "external_id"),
            ("tracking_number", "tracking_number"),
            ("carrier", "carrier"),
        ):
            if getattr(order, attribute):
                values[name] = getattr(order, attribute)
    if case is not None:
        values["case_reference"] = case.reference
        if case.resolution_due_at is not None:
            values["resolution_date"] = customer_date(
                case.resolution_due_at,
                language=language,
                tz=customer_time_zone(order, context.marketplace),
            )
        # Made only when the template asks for it (it may create an evidence request).
        if "upload_link" in used and context.upload_link is not None:
            link = context.upload_link(case)
            if link:
                values["upload_link"] = link
    return values


def placeholders_in(text: str) -> set[str]:
    return {match.group(1) for match in PLACEHOLDER.finditer(text or "")}


def fill(text: str, context: TemplateContext, *, html: bool = False) -> Filled:
    """``text`` with its placeholders filled; those with no value are left as written and
    listed in ``missing`` (in order of appearance)."""
    used = placeholders_in(text)
    values = _values(context, used)
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return escape(values[name]) if html else values[name]
        if name not in missing:
            missing.append(name)
        return match.group(0)

    return Filled(PLACEHOLDER.sub(replace, text or ""), tuple(missing))


def unfilled(text: str) -> list[str]:
    """Placeholders still written in ``text`` (a reply with any cannot be sent)."""
    seen: list[str] = []
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def template_errors(*, subject: str, body: str) -> dict[str, str]:
    """Field-keyed problems of a template's texts: unknown placeholders, nothing written."""
    errors: dict[str, str] = {}
    for name, text in (("subject", subject), ("body", body)):
        unknown = sorted(placeholders_in(text) - set(PLACEHOLDERS))
        if unknown:
            errors[name] = _("Unknown placeholder(s): %(names)s. Known: %(known)s.") % {
                "names": ", ".join(unknown),
                "known": ", ".join(PLACEHOLDERS),
            }
    if not (body or "").strip():
        errors["body"] = _("Write the template's text.")
    return errors
