"""Keeping the province aggregates up to date, and reading them for the bureau.

``fold`` folds one university's newly committed petition events into its cells (``analytics.province.cells``)
in one tenant transaction: it locks the university's watermark row, takes the new watermark (the oldest
transaction still running: every journal row of an older transaction is committed or gone, so none can
appear behind the watermark later), extracts every event of the petitions touched since the old watermark,
adds the difference their new events make to the cells and moves the watermark, then commits. A worker killed
mid-fold commits nothing and the next fold starts from the same watermark; two folds of one university
serialize on the row lock, and the second finds nothing left to fold. So nothing is counted twice or lost.

The fold is driven by the relay (a message per university whose petition events a batch carries) and by an
hourly sweep of every university (catch-up, e.g. after a broker outage). ``rebuild`` recomputes a university
from scratch (the same code with an empty start).

``read`` is the bureau's side: one statement per table for the whole province through the platform-path
functions of migration 0013, no journal read.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import dramatiq
import polars as pl
import structlog
from dramatiq import Message
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.extract import petition_history_frame
from analytics.metrics import localize
from analytics.province.cells import CELL_SCHEMA, DIMENSION_SCHEMA, SUMS, Delta, empty_delta, fold_delta
from analytics.province.statistics import UNIVERSITY_SCHEMA, Window, universities_of
from analytics.runtime import fanout, relay, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import hourly, periodic
from tenants.db import Database, driver_connection, require_tenant
from tenants.tenancy import Tenant, TenantStatus

ensure_broker()
log = structlog.get_logger("xinfang.province")


@dataclass(frozen=True)
class FoldResult:
    tenant_id: uuid.UUID
    before: int  # watermark before (a transaction id)
    after: int  # watermark after
    events: int  # events read (old and new events of the touched petitions)
    cells: int  # cell rows changed
    seconds: float


_LOCK = text(
    "insert into province_folds (tenant_id, txid, events, folded_at) values (:t, 0, 0, now()) on conflict do nothing"
)
_XMIN = text("select (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


async def fold_in(session: AsyncSession, *, rebuild: bool = False) -> FoldResult:
    """Fold the current tenant's new petition events in the caller's tenant transaction (see the module)."""
    started = time.perf_counter()
    tenant_id = require_tenant()
    await session.execute(_LOCK, {"t": tenant_id})
    before = int(
        await session.scalar(text("select txid from province_folds where tenant_id = :t for update"), {"t": tenant_id})
        or 0
    )
    if rebuild:
        await session.execute(text("delete from province_cells where tenant_id = :t"), {"t": tenant_id})
        await session.execute(text("delete from province_dimension_cells where tenant_id = :t"), {"t": tenant_id})
        before = 0
    after = int(await session.scalar(_XMIN) or 0)
    if after <= before:
        return FoldResult(tenant_id, before, before, 0, 0, time.perf_counter() - started)
    frame = await petition_history_frame(session, txid_from=before, txid_to=after)
    zone = await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
    delta = empty_delta()
    if frame.height:
        local = localize(frame.lazy(), {str(tenant_id): zone or "Asia/Shanghai"})
        # CPU-bound Polars work: off the event loop.
        delta = await asyncio.to_thread(fold_delta, local, before=before)
    changed = await _apply(session, delta, after)
    await session.execute(
        text("update province_folds set txid = :x, events = events + :n, folded_at = now() where tenant_id = :t"),
        {"x": after, "n": frame.height, "t": tenant_id},
    )
    return FoldResult(tenant_id, before, after, frame.height, changed, time.perf_counter() - started)


async def _apply(session: AsyncSession, delta: Delta, watermark: int) -> int:
    """Add the delta to the cells (upserts that add, so the order of rows does not matter)."""
    raw = await driver_connection(session)
    tenant_id = require_tenant()
    if not delta.cells.is_empty():
        columns = ", ".join(SUMS)
        params = ", ".join(f"${i + 3}" for i in range(len(SUMS)))
        updates = ", ".join(f"{s} = province_cells.{s} + excluded.{s}" for s in SUMS)
        await raw.executemany(
            f"insert into province_cells (tenant_id, period_kind, period_start, {columns}, watermark_txid, "
            f"updated_at) values ('{tenant_id}', $1, $2, {params}, {int(watermark)}, now()) "
            f"on conflict (tenant_id, period_kind, period_start) do update set {updates}, "
            "watermark_txid = excluded.watermark_txid, updated_at = excluded.updated_at",
            delta.cells.select("period_kind", "period_start", *SUMS).rows(),
        )
    if not delta.dimensions.is_empty():
        await raw.executemany(
            "insert into province_dimension_cells (tenant_id, period_kind, period_start, dimension, value, n) "
            f"values ('{tenant_id}', $1, $2, $3, $4, $5) "
            "on conflict (tenant_id, period_kind, period_start, dimension, value) "
            "do update set n = province_dimension_cells.n + excluded.n",
            delta.dimensions.select("period_kind", "period_start", "dimension", "value", "n").rows(),
        )
    return delta.cells.height + delta.dimensions.height


async def fold(db: Database, tenant_id: uuid.UUID, *, rebuild: bool = False) -> FoldResult:
    """Fold (or rebuild) one university in its own tenant transaction."""
    async with db.transaction(tenant_id) as session:
        result = await fold_in(session, rebuild=rebuild)
    log.info(
        "province.folded", before=result.before, after=result.after, events=result.events, cells=result.cells,
        seconds=round(result.seconds, 3), rebuild=rebuild,
    )  # fmt: skip
    return result


async def fold_all(
    db: Database, tenant_ids: list[uuid.UUID] | None = None, *, rebuild: bool = False, jobs: int = 2
) -> list[FoldResult]:
    """Fold every given (default: every active) university, ``jobs`` at a time."""
    if tenant_ids is None:
        async with db.transaction() as session:
            tenant_ids = list(await session.scalars(select(Tenant.id).where(Tenant.status == TenantStatus.active)))
    gate = asyncio.Semaphore(jobs)

    async def one(tid: uuid.UUID) -> FoldResult:
        async with gate:
            return await fold(db, tid, rebuild=rebuild)

    return list(await asyncio.gather(*(one(t) for t in tenant_ids)))


# --- jobs -------------------------------------------------------------------------------------------------------


@dramatiq.actor(**retry.PERSISTENT)
async def fold_province_cells(tenant_id: str) -> None:
    """Fold one university's new petition events (idempotent: a repeat finds nothing new)."""
    await fold(database(), uuid.UUID(tenant_id))


@dramatiq.actor(**retry.PERIODIC)
async def province_cells_sweep(period_key: str) -> None:
    await fanout.enqueue_each(fold_province_cells)


@relay.on_batch
def _fold_touched(events: list[relay.FeedEvent]) -> list[Message[Any]]:
    tenants = sorted({str(e.tenant_id) for e in events if e.type.startswith("petition.")})
    return [fold_province_cells.message(t) for t in tenants]


@periodic("province.cells_sweep", hourly)
def _hourly_sweep(period_key: str) -> list[Message[Any]]:
    return [province_cells_sweep.message(period_key)]


# --- the bureau's read ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceCells:
    """The precomputed cells of one window for the universities of a province."""

    universities: pl.DataFrame  # UNIVERSITY_SCHEMA
    cells: pl.DataFrame  # tenant_id, *SUMS (universities without cells are absent)
    dimensions: pl.DataFrame  # tenant_id, dimension, value (category code or unit kind), n


async def read(db: Database, province_code: str, window: Window, *, dimensions: bool = False) -> ProvinceCells:
    """The province's cells of ``window`` (and with ``dimensions``, its category and unit-kind counts): two or
    three statements, whatever the number of universities."""
    tenants = await universities_of(db, province_code)
    universities = pl.DataFrame(
        [(str(t.id), t.slug, t.name_zh, t.name_en, t.timezone) for t in tenants], schema=UNIVERSITY_SCHEMA, orient="row"
    )
    args = {"p": province_code, "k": window.period, "s": window.start}
    async with db.transaction() as session:
        cell_rows = (await session.execute(text("select * from province_cells_of(:p, :k, :s)"), args)).all()
        dimension_rows = (
            (await session.execute(text("select * from province_dimensions_of(:p, :k, :s)"), args)).all()
            if dimensions
            else []
        )
    cells = pl.DataFrame([(str(r[0]), *r[1 : 1 + len(SUMS)]) for r in cell_rows], schema=CELL_SCHEMA, orient="row")
    counts = pl.DataFrame(
        [(str(r[0]), r[1], r[2], r[3]) for r in dimension_rows], schema=DIMENSION_SCHEMA, orient="row"
    )
    return ProvinceCells(universities, cells, counts)
