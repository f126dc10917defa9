"""Charts drawn on the server as inline SVG: no script, no CDN, readable without JavaScript.
Every chart has a title and a description for screen readers, and a tooltip on each point; the
dashboard also prints the numbers as a table next to it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe-Ito), then greys.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#999999",
)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    color: str = PALETTE[0]


def _nice_ceiling(value: float) -> float:
    """A round upper bound for an axis (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))


def _count_axis(highest: float, ticks: int = 4) -> tuple[float, int]:
    """An axis for counts: whole-number ticks, about ``ticks`` of them."""
    if highest <= 0:
        return 1.0, 1
    raw = highest / ticks
    exponent = math.floor(math.log10(raw)) if raw >= 1 else 0
    step = next(s * 10**exponent for s in (1, 2, 5, 10) if s * 10**exponent >= raw)
    step = max(1, int(step))
    count = math.ceil(highest / step)
    return float(step * count), count


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _svg_open(width: int, height: int, title: str, description: str, css: str) -> list[str]:
    return [
        f'<svg class="ws-chart {css}" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(description)}</desc>",
    ]


def _legend(series: Sequence[Series], x: int, y: int, width: int) -> list[str]:
    parts, cursor_x, cursor_y = [], x, y
    for item in series:
        text_width = 7 * len(item.label) + 26
        if cursor_x + text_width > x + width:
            cursor_x, cursor_y = x, cursor_y + 16
        parts.append(
            f'<rect x="{cursor_x}" y="{cursor_y - 9}" width="10" height="10" '
            f'fill="{item.color}"></rect>'
            f'<text x="{cursor_x + 14}" y="{cursor_y}" class="ws-chart-legend">'
            f"{escape(item.label)}</text>"
        )
        cursor_x += text_width
    return parts


def _y_axis(  # noqa: PLR0917 (the geometry of one axis)
    top: int, bottom: int, left: int, right: int, y_max: float, percent: bool, ticks: int = 4
) -> list[str]:
    parts = []
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = bottom - (bottom - top) * i / ticks
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="ws-chart-grid">'
            f"</line>"
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="ws-chart-tick">'
            f"{escape(_fmt(value, percent))}</text>"
        )
    return parts


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str = "",
    percent: bool = True,
    width: int = 640,
    height: int = 240,
) -> SafeString:
    """Lines over ``labels`` (x, evenly spaced); a None value leaves a gap."""
    left, right, top, bottom = 56, width - 16, 36, height - 30
    known = [v for s in series for v in s.values if v is not None]
    highest = max(known, default=0.0)
    # An empty or all-zero chart still gets an axis: 0 to 10 % (rates) or 0 to 1 (counts).
    y_max = _nice_ceiling(highest) if highest > 0 else (0.1 if percent else 1.0)
    count = max(len(labels), 1)
    step = (right - left) / max(count - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return left + step * index, bottom - (bottom - top) * (value / y_max)

    parts = _svg_open(width, height, title, description or title, "ws-line-chart")
    parts += _y_axis(top, bottom, left, right, y_max, percent)
    label_every = max(1, math.ceil(count / 8))
    for i, label in enumerate(labels):
        if i % label_every == 0 or i == count - 1:
            x = left + step * i
            parts.append(
                f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" '
                f'class="ws-chart-tick">{escape(label)}</text>'
            )
    for item in series:
        segment: list[str] = []
        segments = []
        for i, value in enumerate(item.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = xy(i, value)
            segment.append(f"{x:.1f},{y:.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{item.color}" '
                f'stroke-width="2.5" stroke-linejoin="round"></polyline>'
            )
        for i, value in enumerate(item.values):
            if value is None:
                continue
            x, y = xy(i, value)
            tip = f"{item.label} · {labels[i] if i < len(labels) else ''}: {_fmt(value, percent)}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{item.color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts += _legend(series, left, 16, right - left)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def stacked_bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str = "",
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """One bar per label, stacked by series (zero values take no space)."""
    visible = [s for s in series if any(v for v in s.values)]
    left, right, bottom = 48, width - 16, height - 30
    legend_rows = max(1, math.ceil(sum(7 * len(s.label) + 26 for s in visible) / (right - left)))
    top = 20 + 16 * legend_rows
    count = max(len(labels), 1)
    totals = [sum((s.values[i] or 0) for s in visible) for i in range(len(labels))]
    y_max, ticks = _count_axis(max(totals, default=0))
    slot = (right - left) / count
    bar = slot * 0.7
    parts = _svg_open(width, height, title, description or title, "ws-bar-chart")
    parts += _y_axis(top, bottom, left, right, y_max, percent=False, ticks=ticks)
    label_every = max(1, math.ceil(count / 8))
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        y: float = bottom
        for item in visible:
            value = item.values[i] or 0
            if not value:
                continue
            h = (bottom - top) * value / y_max
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{item.color}"><title>{escape(f"{item.label} · {label}: {value:,.0f}")}'
                f"</title></rect>"
            )
        if i % label_every == 0 or i == count - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{bottom + 18}" text-anchor="middle" '
                f'class="ws-chart-tick">{escape(label)}</text>'
            )
    parts += _legend(visible, left, 16, right - left)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
