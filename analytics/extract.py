"""Extraction of the journal into Polars for the metrics, scoped to one tenant by row-level security.

The rows come through ``COPY (select ...) TO STDOUT`` (CSV) on the connection of the caller's tenant
transaction, parsed by ``pl.read_csv`` in batches while the COPY still streams (``_CsvBatches``): the COPY runs
inside the transaction that carries ``app.tenant_id`` as the application role, so RLS decides which rows leave the
database — nothing here filters by tenant. ADBC and connectorx were measured as well (see the README); they open
their own connections, and connectorx cannot run ``set_config`` in the transaction of its query, so this path is
the one that keeps the isolation guarantee.

Only the journal's id columns and the payload keys the metrics read are selected: the journal never holds
personal data, and no encrypted column of any table is read. ``journal_frame`` reads the petition events,
``incident_frame`` the events of the incident journal contract (incidents, tasks, measures, bulletins),
``supervision_frame`` the supervision orders' events.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import polars as pl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.metrics.incidents import INCIDENT_SCHEMA, INCIDENT_TYPES
from analytics.metrics.petitions import JOURNAL_SCHEMA
from analytics.metrics.supervision import SUPERVISION_SCHEMA
from tenants.db import driver_connection, require_tenant
from tenants.tenancy import Tenant

_IDS = ("tenant_id", "petition_id", "incident_id", "org_unit_id", "subject_id")


def _select(
    schema: dict[str, pl.DataType] = JOURNAL_SCHEMA, types: tuple[str, ...] = ("petition.",), *, txid: bool = False
) -> str:
    """The COPY query of ``schema``'s columns for the event types starting with one of ``types`` (and the
    ``txid`` column last, with ``txid``)."""
    ids = [c for c in _IDS[1:] if c in schema]
    payload = [c for c in schema if c not in {*_IDS, "occurred_at", "type", "txid"}]
    # occurred_at travels as integer microseconds since the epoch: exact, zone-free and cheap to parse.
    columns = [
        "tenant_id::text",
        "(extract(epoch from occurred_at) * 1000000)::bigint as occurred_at",
        "type",
        *(f"{c}::text" for c in ids),
        *(
            f"(payload->>'{c}')::bigint as {c}" if schema[c] == pl.Int64() else f"payload->>'{c}' as {c}"
            for c in payload
        ),
        *(["txid"] if txid else []),
    ]
    where = " or ".join(f"type like $${prefix}%$$" for prefix in types)
    # The bounds are validated datetimes rendered by us, never caller text: COPY takes no bind parameters.
    return "select " + ", ".join(columns) + f" from journal where ({where})"


async def journal_frame(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """The current tenant's petition events in ``[since, until)`` (aware datetimes) as a ``JOURNAL_SCHEMA`` frame.

    The metrics follow each petition from its submission: for a report, bound by ``until`` (the watermark) and
    set ``since`` no later than the submission of the oldest petition the period can involve.
    """
    return await _frame(session, _select(), JOURNAL_SCHEMA, since, until)


FOLD_SCHEMA: dict[str, pl.DataType] = {**JOURNAL_SCHEMA, "txid": pl.Int64()}


async def petition_history_frame(session: AsyncSession, *, txid_from: int, txid_to: int) -> pl.DataFrame:
    """Every petition event (``FOLD_SCHEMA``: with its ``txid``) committed by a transaction below ``txid_to``
    of the current tenant's petitions that have an event of a transaction in ``[txid_from, txid_to)``: what a
    fold of those transactions needs (``analytics.province.cells.fold_delta``)."""
    lo, hi = int(txid_from), int(txid_to)  # integers rendered by us: COPY takes no bind parameters
    query = _select(txid=True) + f" and txid < {hi}"
    if lo > 0:
        query += (
            " and petition_id in (select petition_id from journal where type like $$petition.%$$"
            f" and petition_id is not null and txid >= {lo} and txid < {hi})"
        )
    return await _frame(session, query, FOLD_SCHEMA, None, None)


async def incident_frame(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """The current tenant's incident events (``INCIDENT_TYPES``) in ``[since, until)`` as an ``INCIDENT_SCHEMA``
    frame; bound ``since`` no later than the report of the oldest incident the period can involve."""
    return await _frame(session, _select(INCIDENT_SCHEMA, INCIDENT_TYPES), INCIDENT_SCHEMA, since, until)


async def supervision_frame(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> pl.DataFrame:
    """The current tenant's supervision order events (``supervision.*``) in ``[since, until)`` as a
    ``SUPERVISION_SCHEMA`` frame (the order is ``subject_id``, the answering unit ``org_unit_id``)."""
    return await _frame(session, _select(SUPERVISION_SCHEMA, ("supervision.",)), SUPERVISION_SCHEMA, since, until)


async def _frame(
    session: AsyncSession,
    query: str,
    schema: dict[str, pl.DataType],
    since: datetime | None,
    until: datetime | None,
) -> pl.DataFrame:
    require_tenant()
    for op, bound in ((">=", since), ("<", until)):
        if bound is not None:
            if bound.tzinfo is None:
                raise ValueError("extraction bounds must be timezone-aware")
            query += f" and occurred_at {op} '{bound.isoformat()}'::timestamptz"
    # The session's own connection: the COPY belongs to the tenant transaction (and its RLS setting).
    raw = await driver_connection(session)
    raw_schema = {**schema, "occurred_at": pl.Int64()}
    reader = _CsvBatches(raw_schema)
    await raw.copy_from_query(query, output=reader.feed, format="csv")
    frame = await reader.frame()
    return frame.with_columns(pl.from_epoch("occurred_at", time_unit="us").dt.replace_time_zone("UTC"))


class _CsvBatches:
    """COPY's CSV parsed while it still arrives: whole rows are cut off in batches of about ``BATCH`` bytes and
    parsed by Polars in a worker thread (which releases the GIL) while the connection reads the next ones, so the
    parse costs little more than the transfer. A batch ends only at a newline outside quotes (a quoted value may
    hold a newline; PostgreSQL doubles quotes inside values, so an even count of quotes means outside)."""

    BATCH = 4 << 20

    def __init__(self, schema: dict[str, pl.DataType]) -> None:
        self.schema = schema
        self.pending = bytearray()
        self.parsing: list[asyncio.Future[pl.DataFrame]] = []

    def _parse(self, data: bytes) -> pl.DataFrame:
        return pl.read_csv(data, has_header=False, schema=self.schema)

    async def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        if len(self.pending) < self.BATCH:
            return
        cut = self.pending.rfind(b"\n")
        while cut >= 0 and self.pending.count(b'"', 0, cut) % 2:
            cut = self.pending.rfind(b"\n", 0, cut)
        if cut < 0:
            return
        batch = bytes(self.pending[: cut + 1])
        del self.pending[: cut + 1]
        self.parsing.append(asyncio.get_running_loop().run_in_executor(None, self._parse, batch))

    async def frame(self) -> pl.DataFrame:
        if self.pending:
            self.parsing.append(asyncio.get_running_loop().run_in_executor(None, self._parse, bytes(self.pending)))
            self.pending.clear()
        parts = [await part for part in self.parsing]
        if not parts:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]


# Columns of few distinct values (ids of tenants, units, petitions; codes): dictionary-encoded by ``compact``.
_CODES = (
    "tenant_id", "petition_id", "incident_id", "org_unit_id", "subject_id", "kind", "category", "channel",
    "outcome", "rating", "stage", "deadline", "from_unit", "step", "level", "reassigned_from", "corrects_id",
)  # fmt: skip


def compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its id and code columns dictionary-encoded (``Categorical``): a province's journal in a
    fraction of the memory of plain strings (a UUID as text is 36 bytes a row; a category code 4). The metric
    functions take either form and give the same values; ``type`` stays text (the metrics match its prefix)."""
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in _CODES if c in frame.columns)


async def tenant_zones(session: AsyncSession) -> dict[str, str]:
    """``{tenant id: IANA zone}`` of the current tenant, as ``metrics.localize`` takes it."""
    tenant_id = require_tenant()
    zone = await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
    return {str(tenant_id): zone or "Asia/Shanghai"}
