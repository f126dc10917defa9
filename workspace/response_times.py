"""The dashboard's response times: per marketplace and per agent, the median time to answer and
the share answered within the marketplace's rule, over 7, 30 and 90 days side by side.

The figures are ``messaging.selectors.response_time_reports`` (the same columns the inbox clocks
read); this module only lays the three windows out as one row per marketplace or agent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from messaging.selectors import REPORT_WINDOWS, ResponseTimeRow, response_time_reports


@dataclass(frozen=True)
class ResponseTimeLine:
    label: str
    # One per window (7, 30, 90 days); None where nothing was timed in that window.
    windows: list[ResponseTimeRow | None]


@dataclass(frozen=True)
class ResponseTimes:
    days: tuple[int, ...]
    by_marketplace: list[ResponseTimeLine]
    by_agent: list[ResponseTimeLine]

    @property
    def tables(self) -> list[tuple[str, list[ResponseTimeLine]]]:
        from django.utils.translation import gettext as _

        return [(_("Per marketplace"), self.by_marketplace), (_("Per agent"), self.by_agent)]


def _lines(reports: list[list[ResponseTimeRow]]) -> list[ResponseTimeLine]:
    keys: dict[Any, str] = {}
    for rows in reports:
        for row in rows:
            keys.setdefault(row.key, row.label)
    by_window = [{row.key: row for row in rows} for rows in reports]
    lines = [
        ResponseTimeLine(label, [window.get(key) for window in by_window])
        for key, label in keys.items()
    ]
    return sorted(lines, key=lambda line: line.label)


def response_times(*, at: dt.datetime, marketplaces: Sequence[int] | None = None) -> ResponseTimes:
    reports = response_time_reports(at=at, marketplaces=marketplaces)
    return ResponseTimes(
        days=REPORT_WINDOWS,
        by_marketplace=_lines([report.by_marketplace for report in reports]),
        by_agent=_lines([report.by_agent for report in reports]),
    )
