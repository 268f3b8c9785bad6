"""Deadline arithmetic of the petition regulation, in the tenant's time zone. Pure functions, no I/O.

A deadline of N days after an instant ends at the local midnight that closes the N-th calendar day after the
instant's local date (the petitioner has the whole last day, whatever the clock). Working days skip weekends
and the tenant's holidays, but count the official make-up workdays (調休 weekend days that are worked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ACCEPT_DAYS = 15  # art. 22/23: register, route and tell the petitioner whether accepted
CONCLUDE_DAYS = 60  # art. 34: conclude within 60 days of acceptance
MAX_EXTENSION_DAYS = 30  # art. 34: one extension of at most 30 days, with a reason
OBJECTION_WORKING_DAYS = 5  # art. 23: a unit may object to a transfer within 5 working days
REVIEW_REQUEST_DAYS = 30  # art. 35: request a review within 30 days of the reply
REVIEW_ANSWER_DAYS = 30  # art. 35: answered within 30 days
REREVIEW_REQUEST_DAYS = 30  # art. 36
REREVIEW_ANSWER_DAYS = 30  # art. 36


@dataclass(frozen=True)
class Calendar:
    """A tenant's working calendar: its zone, public holidays and official make-up workdays."""

    zone: ZoneInfo
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of the local ``day``."""
    return datetime.combine(day, time(0), tzinfo=zone)


def _end_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant the local ``day`` ends: the first moment of the next local day."""
    return local_day_start(day + timedelta(days=1), zone)


def add_days(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """End of the ``days``-th calendar day after ``start``'s local date (an aware datetime)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    local = start.astimezone(zone).date()
    return _end_of_local_day(local + timedelta(days=days), zone)


def add_working_days(start: datetime, days: int, calendar: Calendar) -> datetime:
    """End of the ``days``-th working day after ``start``'s local date."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    day = start.astimezone(calendar.zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return _end_of_local_day(day, calendar.zone)


def accept_due(received_at: datetime, zone: ZoneInfo) -> datetime:
    return add_days(received_at, ACCEPT_DAYS, zone)


def conclude_due(accepted_at: datetime, zone: ZoneInfo) -> datetime:
    return add_days(accepted_at, CONCLUDE_DAYS, zone)


def extended_due(due: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The conclusion deadline moved by an extension of ``days`` (1..30) calendar days."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"an extension is 1 to {MAX_EXTENSION_DAYS} days")
    # ``due`` is a local midnight: the new deadline is the same local midnight ``days`` later.
    local = (due.astimezone(zone) - timedelta(microseconds=1)).date()
    return _end_of_local_day(local + timedelta(days=days), zone)


def objection_due(transferred_at: datetime, calendar: Calendar) -> datetime:
    return add_working_days(transferred_at, OBJECTION_WORKING_DAYS, calendar)


def remaining(due: datetime, now: datetime) -> timedelta:
    """Time left until ``due`` (negative once overdue)."""
    return due - now


def is_overdue(due: datetime | None, now: datetime) -> bool:
    return due is not None and now >= due
