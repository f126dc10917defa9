"""Where the customer is: the time zone their deadlines are shown in.

An order carries the destination country, not a time zone: a parcel sent from a Chinese
marketplace to France is awaited by someone on Paris time. The zone of the destination country
is the customer's (the country's main zone where it has several); without a known country, the
marketplace's zone.
"""

from __future__ import annotations

import zoneinfo

from .models import Order

# The main zone of the countries the shipped marketplaces deliver to.
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


def customer_time_zone(order: Order) -> zoneinfo.ZoneInfo:
    """The customer's time zone: their destination country's, else the marketplace's."""
    name = COUNTRY_TIME_ZONES.get((order.destination_country or "").upper())
    return zoneinfo.ZoneInfo(name or order.marketplace.time_zone)
