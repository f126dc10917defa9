"""The metric policies shipped for each family of marketplaces (docs/domain.md §5 and §6).

Bands are listed best level first as (level, bound, inclusive); a bound of None takes every
remaining value. Published edges are marked as such; the others are configurable defaults
(assumptions) that staff adjust in the admin.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal

Band = tuple[str, Decimal | None, bool]

TMALL_NOTE = (
    "Tmall store-rating levels 3.8 / 4.2 / 4.6 / 5. The 5 and 3.8 edges are published; the "
    "4.6 / 4.2 edge is a configurable default halfway between them."
)
ASSUMED_NOTE = "Assumption: no published edges; set your own."
DELIVERY_NOTE = (
    "Tmall store-rating levels 3.8 / 4.2 / 4.6 / 5. Published: under 2 d 3 h scores 5, 2 d 17 h "
    "or more scores 3.8. Assumed (configurable): 4.6 up to 2 d 7 h, 4.2 below 2 d 17 h."
)
ABNORMAL_NOTE = (
    "Tmall store-rating levels 3.8 / 4.2 / 4.6 / 5. Tmall publishes the indicator (2024), not "
    "its edges: all four are assumptions, as are the 72 h without a scan and the 120 h "
    "delivery promise (parameters); the 24 h pickup rule is Tmall's."
)
SHIPPING_NOTE = (
    "Tmall store-rating levels 3.8 / 4.2 / 4.6 / 5. Tmall shows the label (2024) but publishes "
    "no edges: under 24 h / 36 h / 48 h are assumptions."
)

FAMILIES: dict[str, list[dict[str, Any]]] = {
    "tmall": [
        {
            "metric": "refund_rejection_rate",
            "bands": [
                ("5", D("0.005"), True),
                ("4.6", D("0.02"), True),
                ("4.2", D("0.05"), True),
                ("3.8", None, True),
            ],
            "notes": ASSUMED_NOTE,
        },
        {
            "metric": "platform_assistance_rate",
            "bands": [
                ("5", D("0.005"), True),
                ("4.6", D("0.01"), True),
                ("4.2", D("0.02"), True),
                ("3.8", None, True),
            ],
            "notes": ASSUMED_NOTE,
        },
        {
            # Published: 99.63 % -> 5, 74.43 % -> 3.8 (so exactly 74.43 % is 3.8).
            "metric": "carrier_pickup_24h_rate",
            "bands": [
                ("5", D("0.9963"), True),
                ("4.6", D("0.8703"), True),
                ("4.2", D("0.7443"), False),
                ("3.8", None, True),
            ],
            "notes": TMALL_NOTE,
        },
        {
            # Published: under 2 d 3 h (183,600 s) -> 5; 2 d 17 h (212,400 s) or more -> 3.8.
            "metric": "average_delivery_time",
            "bands": [
                ("5", D("183600"), False),
                ("4.6", D("198000"), True),
                ("4.2", D("212400"), False),
                ("3.8", None, True),
            ],
            "notes": DELIVERY_NOTE,
        },
        {
            # Published: 30 s or less -> 5; 3 min or more -> 3.8.
            "metric": "average_first_response_time",
            "bands": [
                ("5", D("30"), True),
                ("4.6", D("105"), True),
                ("4.2", D("180"), False),
                ("3.8", None, True),
            ],
            "notes": TMALL_NOTE,
        },
        {
            "metric": "abnormal_logistics_rate",
            "parameters": {"no_scan_hours": 72, "promised_delivery_hours": 120},
            "bands": [
                ("5", D("0.01"), True),
                ("4.6", D("0.03"), True),
                ("4.2", D("0.05"), True),
                ("3.8", None, True),
            ],
            "notes": ABNORMAL_NOTE,
        },
        {
            "metric": "average_shipping_time",
            "bands": [
                ("5", D("86400"), False),
                ("4.6", D("129600"), False),
                ("4.2", D("172800"), False),
                ("3.8", None, True),
            ],
            "notes": SHIPPING_NOTE,
        },
        {
            # Published: 30 s or less -> 5; 3 min or more -> 3.8.
            "metric": "average_service_response_time",
            "bands": [
                ("5", D("30"), True),
                ("4.6", D("105"), True),
                ("4.2", D("180"), False),
                ("3.8", None, True),
            ],
            "notes": TMALL_NOTE,
        },
    ],
    "amazon": [
        {
            "metric": "order_defect_rate",
            "window_days": 60,
            "bands": [("met", D("0.01"), False), ("missed", None, True)],
            "notes": "Target: under 1 %.",
        },
        {
            "metric": "late_shipment_rate_10d",
            "window_days": 10,
            "bands": [("met", D("0.04"), False), ("missed", None, True)],
            "notes": "Target: under 4 %.",
        },
        {
            "metric": "late_shipment_rate_30d",
            "window_days": 30,
            "bands": [("met", D("0.04"), False), ("missed", None, True)],
            "notes": "Target: under 4 %.",
        },
        {
            "metric": "pre_fulfilment_cancel_rate",
            "window_days": 7,
            "bands": [("met", D("0.025"), False), ("missed", None, True)],
            "notes": "Target: under 2.5 %.",
        },
        {
            "metric": "valid_tracking_rate",
            "window_days": 30,
            "bands": [("met", D("0.95"), False), ("missed", None, True)],
            "notes": "Target: above 95 %.",
        },
        {
            "metric": "return_dissatisfaction_rate",
            "window_days": 60,
            "bands": [("met", D("0.10"), False), ("missed", None, True)],
            "notes": "Target: under 10 %. 60-day window: an assumption (configurable).",
        },
        {
            "metric": "contact_response_24h_7d",
            "window_days": 7,
            "bands": [("met", D("0.90"), True), ("missed", None, True)],
            "notes": "Target: 90 % answered within 24 h.",
        },
        {
            "metric": "contact_response_24h_30d",
            "window_days": 30,
            "bands": [("met", D("0.90"), True), ("missed", None, True)],
            "notes": "Target: 90 % answered within 24 h.",
        },
        {
            "metric": "contact_response_24h_90d",
            "window_days": 90,
            "bands": [("met", D("0.90"), True), ("missed", None, True)],
            "notes": "Target: 90 % answered within 24 h.",
        },
        {
            "metric": "order_quality_score",
            "window_days": 365,
            "parameters": {"recency_weights": [[30, 3], [90, 2], [365, 1]]},
            "bands": [("met", D("95"), True), ("missed", None, True)],
            "notes": "Assumption: 95 as the minimum to aim for; recency weights assumed.",
        },
        {
            "metric": "perfect_order_percentage",
            "window_days": 90,
            "bands": [("met", D("0.95"), True), ("missed", None, True)],
            "notes": "Assumption: Amazon publishes no target here; 95 % and 90 days assumed.",
        },
        {
            "metric": "customer_service_dissatisfaction_rate",
            "window_days": 30,
            "bands": [("met", D("0.25"), False), ("missed", None, True)],
            "notes": "Assumption: under 25 % over 30 days (Amazon's usual target, not in the "
            "sources).",
        },
        {
            "metric": "seller_feedback_rating",
            "window_days": 365,
            "bands": [("met", D("4.5"), True), ("missed", None, True)],
            "notes": "Assumption: 4.5 stars over 12 months as the level to keep; Amazon publishes "
            "no edge.",
        },
    ],
    "faire": [
        {
            "metric": "faire_late_shipments",
            "window_days": 90,
            "bands": [("green", D("0.05"), True), ("yellow", D("0.10"), True), ("red", None, True)],
            "notes": ASSUMED_NOTE,
        },
        {
            "metric": "faire_cancelled_orders",
            "window_days": 90,
            "bands": [("green", D("0.02"), True), ("yellow", D("0.05"), True), ("red", None, True)],
            "notes": ASSUMED_NOTE,
        },
        {
            "metric": "faire_missing_damaged",
            "window_days": 90,
            "bands": [("green", D("0.02"), True), ("yellow", D("0.05"), True), ("red", None, True)],
            "notes": ASSUMED_NOTE,
        },
        {
            "metric": "faire_missed_messages",
            "window_days": 90,
            "parameters": {"business_days": 2},
            "bands": [("green", D("0.10"), True), ("yellow", D("0.25"), True), ("red", None, True)],
            "notes": ASSUMED_NOTE,
        },
    ],
    # Every other marketplace: the two rates every refund decision feeds, without levels.
    "other": [
        {"metric": "refund_rejection_rate", "bands": []},
        {"metric": "platform_assistance_rate", "bands": []},
    ],
}


def family_of(code: str) -> str:
    """Which family of default policies a marketplace code gets."""
    if code in {"tmall", "tmall_global", "jd"} or code.startswith("tmall"):
        return "tmall"
    if code.startswith("amazon"):
        return "amazon"
    if code.startswith("faire"):
        return "faire"
    return "other"


def default_policies(code: str) -> list[dict[str, Any]]:
    return FAMILIES[family_of(code)]
