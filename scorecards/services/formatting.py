"""How a metric's value and its levels read: percentages, durations, points, band edges."""

from __future__ import annotations

from decimal import Decimal

from ..definitions import Unit
from ..models import MetricBand


def format_value(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == Unit.RATIO:
        return f"{value * 100:.2f} %"
    if unit == Unit.SECONDS:
        return format_duration(value)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_duration(seconds: Decimal | float | int) -> str:
    total = int(Decimal(seconds).to_integral_value())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    if not days:
        parts.append(f"{minutes} min" if minutes else "")
        if not hours:
            parts.append(f"{secs} s" if secs or not minutes else "")
    return " ".join(p for p in parts if p) or "0 s"


def band_text(band: MetricBand, unit: str, lower_is_better: bool) -> str:
    if band.bound is None:
        return "otherwise"
    sign = {(True, True): "≤", (True, False): "<", (False, True): "≥", (False, False): ">"}[
        (lower_is_better, band.inclusive)
    ]
    return f"{sign} {format_value(band.bound, unit)}"
