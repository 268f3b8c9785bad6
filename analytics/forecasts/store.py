"""Stored forecasts (``petition_forecasts``, one row per university, series and quarter) and the monthly history
they are computed from: the university's petitions counted per local month and category, under its row-level
security (no personal data: counts only)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import polars as pl
from sqlalchemy import Date, Float, Index, Integer, String, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from analytics.forecasts import compute
from tenants.clock import utcnow
from tenants.db import Base, Database, TenantOwned, require_tenant
from tenants.ids import new_id
from tenants.tenancy import tenant_zone


class Forecast(TenantOwned, Base):
    __tablename__ = "petition_forecasts"

    series: Mapped[str] = mapped_column(String(64), nullable=False)  # a category code, or compute.TOTAL
    quarter_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    petitions: Mapped[float] = mapped_column(Float, nullable=False)
    lo: Mapped[float] = mapped_column(Float, nullable=False)
    hi: Mapped[float] = mapped_column(Float, nullable=False)
    model: Mapped[str] = mapped_column(String(32), nullable=False)
    mase: Mapped[float] = mapped_column(Float, nullable=False)
    baseline_mase: Mapped[float] = mapped_column(Float, nullable=False)
    months: Mapped[int] = mapped_column(Integer, nullable=False)
    computed_at: Mapped[dt.datetime] = mapped_column(nullable=False)

    __table_args__ = (Index("uq_petition_forecasts_series", "tenant_id", "quarter_start", "series", unique=True),)


async def monthly_history(session: AsyncSession, last_month: dt.date) -> pl.DataFrame:
    """The current university's petitions per local month and category code, up to ``last_month`` included."""
    require_tenant()
    zone = (await tenant_zone(session)).key
    rows = await session.execute(
        text(
            "select c.code, (date_trunc('month', p.received_at at time zone :zone))::date as month, count(*) "
            "from petitions p join petition_categories c on c.tenant_id = p.tenant_id and c.id = p.category_id "
            "where p.received_at < (cast(:until as timestamp) at time zone :zone) group by 1, 2"
        ),
        {"zone": zone, "until": compute.add_months(last_month, 1)},
    )
    return pl.DataFrame([tuple(r) for r in rows], schema=compute.MONTHLY_SCHEMA, orient="row")


def last_complete_month(now: dt.datetime, zone: Any) -> dt.date:
    today = now.astimezone(zone).date()
    return compute.add_months(today.replace(day=1), -1)


async def refresh(db: Database, tenant_id: uuid.UUID, now: dt.datetime | None = None) -> int:
    """Compute and store the current university's forecasts of the quarter after its last complete month;
    returns how many series were forecast. Idempotent: a rerun replaces the same rows."""
    async with db.transaction(tenant_id) as session:
        last = last_complete_month(now or utcnow(), await tenant_zone(session))
        history = await monthly_history(session, last)
    frame = await asyncio.to_thread(compute.forecast, history, last)  # CPU-bound: off the event loop
    async with db.transaction(tenant_id) as session:
        quarter = compute.quarter_after(last)
        await session.execute(delete(Forecast).where(Forecast.quarter_start == quarter))
        if frame.height:
            computed_at = utcnow()
            rows = [
                {"tenant_id": tenant_id, "id": new_id(), **r, "computed_at": computed_at}
                for r in frame.iter_rows(named=True)
            ]
            await session.execute(insert(Forecast).values(rows))
    return frame.height


async def latest(session: AsyncSession) -> list[Forecast]:
    """The current university's forecasts of the latest quarter forecast."""
    quarter = await session.scalar(select(Forecast.quarter_start).order_by(Forecast.quarter_start.desc()).limit(1))
    if quarter is None:
        return []
    rows = await session.scalars(select(Forecast).where(Forecast.quarter_start == quarter).order_by(Forecast.series))
    return list(rows)


async def province(db: Database, province_code: str) -> list[Any]:
    """Every forecast of the latest quarter of the province's universities, through the platform-path function
    ``province_forecasts_of`` (one statement whatever the number of universities)."""
    async with db.transaction() as session:
        rows = await session.execute(text("select * from province_forecasts_of(:p)"), {"p": province_code})
        return list(rows.all())
