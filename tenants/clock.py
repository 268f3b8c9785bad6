"""The one clock of the code: every service, job and the scheduler read the time here.

Storage is timezone-aware UTC; a university's calendar day is ``today(zone)``. Tests set the time with
``time-machine`` (it moves ``datetime.now`` under this function), so no test depends on the real date. The
database's own ``now()`` is used only for operational leases and locks, never for a domain timestamp.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def today(zone: tzinfo) -> date:
    """The calendar date in ``zone`` (a university's zone) now."""
    return utcnow().astimezone(zone).date()
