"""Report periods: a calendar month, quarter or year of the tenant's local time, as ``[start, end)`` dates.

The instants that bound a period are local midnights converted to UTC, so a report of October in Asia/Shanghai
starts at 30 September 16:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from analytics.metrics.periods import Period

Kind = Literal["monthly", "quarterly", "yearly"]
KINDS: tuple[Kind, ...] = ("monthly", "quarterly", "yearly")
METRIC_PERIOD: dict[str, Period] = {"monthly": "month", "quarterly": "quarter", "yearly": "year"}
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
# How many periods the trend chart shows, the report's own period included.
TREND_PERIODS = {"monthly": 12, "quarterly": 8, "yearly": 5}


def is_period_start(kind: Kind, day: dt.date) -> bool:
    """True when ``day`` is the first day of a ``kind`` period (1 Jan/Apr/Jul/Oct for quarters)."""
    return day.day == 1 and (day.month - 1) % _MONTHS[kind] == 0


def add_periods(kind: Kind, start: dt.date, n: int) -> dt.date:
    """The start of the period ``n`` periods after (or before, n < 0) the one starting at ``start``."""
    months = start.year * 12 + start.month - 1 + n * _MONTHS[kind]
    return dt.date(months // 12, months % 12 + 1, 1)


def period_end(kind: Kind, start: dt.date) -> dt.date:
    """The first local day after the period (exclusive end)."""
    return add_periods(kind, start, 1)


def containing(kind: Kind, day: dt.date) -> dt.date:
    """The start of the ``kind`` period containing ``day``."""
    step = _MONTHS[kind]
    return dt.date(day.year, (day.month - 1) // step * step + 1, 1)


def last_closed(kind: Kind, today: dt.date) -> dt.date:
    """The start of the latest ``kind`` period that ended on or before local date ``today``."""
    return add_periods(kind, containing(kind, today), -1)


def utc_instant(day: dt.date, zone: str) -> dt.datetime:
    """Local midnight at the start of ``day`` in ``zone``, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).astimezone(dt.UTC)
