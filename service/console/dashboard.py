"""The petition office's live figures: open petitions by state and urgency, overdue ones by unit, this month's
intake against the same days a year before. Each query runs in the database on the caller's scope
(``scope.listed``, the API's list rule) on indexed columns (``ix_petitions_due``, ``ix_petitions_received``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, FunctionFilter, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.console.views import SOON
from service.petitions import scope
from service.petitions.models import Petition
from service.petitions.workflow import CLOSED_STATES
from tenants.identity import Principal

URGENCIES = ("overdue", "soon", "ok", "none")


@dataclass(frozen=True)
class Intake:
    """Petitions received this month so far, in the same days of the month a year before, and in that whole
    month (the university's local calendar)."""

    month: dt.date
    this_year: int
    same_days_last_year: int
    whole_month_last_year: int


def _open(principal: Principal) -> ColumnElement[bool]:
    return scope.listed(principal) & Petition.state.not_in([str(s) for s in CLOSED_STATES])


async def open_by_state(session: AsyncSession, principal: Principal, now: dt.datetime) -> dict[str, dict[str, int]]:
    """state → urgency → count of the open petitions in the caller's scope (``overdue`` once the deadline has
    passed, ``soon`` within three days of it, ``ok`` before, ``none`` without a running deadline)."""
    urgency = case(
        (Petition.due_at.is_(None), "none"),
        (Petition.due_at <= now, "overdue"),
        (Petition.due_at <= now + SOON, "soon"),
        else_="ok",
    )
    rows = await session.execute(
        select(Petition.state, urgency, func.count()).where(_open(principal)).group_by(Petition.state, urgency)
    )
    out: dict[str, dict[str, int]] = {}
    for state, level, n in rows.all():
        out.setdefault(str(state), dict.fromkeys(URGENCIES, 0))[str(level)] = int(n)
    return out


async def overdue_by_unit(
    session: AsyncSession, principal: Principal, now: dt.datetime
) -> list[tuple[uuid.UUID | None, int]]:
    """(unit, count) of the open petitions past their deadline, the most overdue unit first."""
    n = func.count().label("n")
    rows = await session.execute(
        select(Petition.org_unit_id, n)
        .where(_open(principal), Petition.due_at <= now)
        .group_by(Petition.org_unit_id)
        .order_by(n.desc(), Petition.org_unit_id)
    )
    return [(unit, int(count)) for unit, count in rows.all()]


def _local_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def _year_before(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


async def intake(session: AsyncSession, principal: Principal, now: dt.datetime, zone: ZoneInfo) -> Intake:
    """This month's intake against the same month a year before (see ``Intake``)."""
    local = now.astimezone(zone)
    month = local.date().replace(day=1)
    last_month = _year_before(month)
    after = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last_after = _year_before(after)
    # The same instant of the month, a year before.
    then = _local_start(_year_before(local.date()), zone) + (local - _local_start(local.date(), zone))

    def between(start: dt.datetime, end: dt.datetime) -> FunctionFilter[int]:
        return func.count().filter(Petition.received_at >= start, Petition.received_at < end)

    row = (
        await session.execute(
            select(
                between(_local_start(month, zone), now),
                between(_local_start(last_month, zone), then),
                between(_local_start(last_month, zone), _local_start(last_after, zone)),
            ).where(
                scope.listed(principal),
                Petition.received_at >= _local_start(last_month, zone),
            )
        )
    ).one()
    return Intake(month, int(row[0]), int(row[1]), int(row[2]))
