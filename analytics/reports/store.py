"""The report snapshots: generated in one tenant transaction, found again by their content hash.

``generate`` reads the watermark (how many petition and incident events occurred before the period's end, and the
highest journal sequence among them), extracts exactly those rows, computes the sections, and inserts the
snapshot and its ``report.ready`` event together. The same inputs give the same bytes, hence the same hash, hence
the row that already exists (nothing written); new inputs give the next revision. A job that dies before COMMIT
leaves nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import Date, ForeignKeyConstraint, Index, String, Text, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, defer, mapped_column

from analytics.extract import incident_frame, journal_frame, supervision_frame
from analytics.metrics import composite, localize
from analytics.metrics.incidents import INCIDENT_TYPES, plan_targets
from analytics.reports import compute, findings, periods
from analytics.reports.periods import Kind
from tenants import journal, paging
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Invalid, NotFound
from tenants.org import OrgUnit
from tenants.plans import services as plans
from tenants.plans.defaults import default_plan
from tenants.tenancy import get_tenant


class Report(TenantOwned, Base):
    __tablename__ = "reports"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    period_end: Mapped[dt.date] = mapped_column(Date, nullable=False)
    revision: Mapped[int] = mapped_column(nullable=False)
    watermark_seq: Mapped[int] = mapped_column(nullable=False)
    watermark_count: Mapped[int] = mapped_column(nullable=False)
    plan_version_id: Mapped[uuid.UUID | None]
    plan_version_number: Mapped[int | None]
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    generated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("uq_reports_period_content", "tenant_id", "kind", "period_start", "content_hash", unique=True),
        Index("uq_reports_period_revision", "tenant_id", "kind", "period_start", "revision", unique=True),
    )

    def data(self) -> dict[str, Any]:
        return json.loads(self.content)  # type: ignore[no-any-return]


class ReportRequest(TenantOwned, Base):
    __tablename__ = "report_requests"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    requested_by: Mapped[uuid.UUID | None]
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow, nullable=False)
    report_id: Mapped[uuid.UUID | None]
    completed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "report_id"], ["reports.tenant_id", "reports.id"]),
    )


class InputsChanged(RuntimeError):
    """The journal gained rows before the period's end while the report was being extracted: retry."""


def check_period(kind: Kind, start: dt.date, today: dt.date) -> None:
    """A report covers a whole period that has closed by local date ``today``."""
    if not periods.is_period_start(kind, start):
        raise Invalid(
            "period_start is not the first day of a period",
            errors=[{"field": "period_start", "message": f"the first day of a {kind} period (e.g. 2026-10-01)"}],
        )
    if periods.period_end(kind, start) > today:
        raise Invalid(
            "the period has not closed yet",
            code="period-open",
            errors=[{"field": "period_start", "message": "a report covers a closed period"}],
        )


_INCIDENT_TYPES = " or ".join(f"type like '{prefix}%'" for prefix in INCIDENT_TYPES)
# The inputs of a report: the petition, incident and supervision events before the period's end (what the three
# extractions read).
_WATERMARK = text(
    f"select count(*) filter (where type like 'petition.%') as petitions, "
    f"count(*) filter (where {_INCIDENT_TYPES}) as incidents, "
    f"count(*) filter (where type like 'supervision.%') as supervision, coalesce(max(seq), 0) as seq from journal "
    f"where (type like 'petition.%' or type like 'supervision.%' or {_INCIDENT_TYPES}) and occurred_at < :until"
)


async def _labels(session: AsyncSession, tables: Mapping[str, pl.DataFrame]) -> dict[str, Any]:
    """Names (zh-CN, en) of the units and categories the tables mention: a snapshot names what it shows."""
    units: set[str] = set()
    categories: set[str] = set()
    for frame in tables.values():
        if "org_unit_id" in frame.columns:
            units |= {u for u in frame.get_column("org_unit_id").to_list() if u}
        if "category" in frame.columns:
            categories |= {c for c in frame.get_column("category").to_list() if c}
    unit_names = {}
    if units:
        rows = await session.execute(
            select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en).where(OrgUnit.id.in_([uuid.UUID(u) for u in units]))
        )
        unit_names = {str(r.id): {"zh": r.name_zh, "en": r.name_en} for r in rows}
    category_names = {}
    if categories:
        rows = await session.execute(
            text("select code, name_zh, name_en from petition_categories where code = any(:codes)"),
            {"codes": sorted(categories)},
        )
        category_names = {r.code: {"zh": r.name_zh, "en": r.name_en} for r in rows}
    return {"org_units": unit_names, "categories": category_names}


def _weights(content: Any) -> dict[str, float]:
    weights = {d.key: float(d.weight) for d in content.evaluation if d.key in composite.DIMENSIONS}
    return weights if weights and sum(weights.values()) > 0 else {}


async def build(session: AsyncSession, kind: Kind, start: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report's content and its row's metadata (watermark, plan version), from the current tenant's data."""
    tenant = await get_tenant(session, require_tenant())
    end = periods.period_end(kind, start)
    until = periods.utc_instant(end, tenant.timezone)
    mark = (await session.execute(_WATERMARK, {"until": until})).one()
    frame = await journal_frame(session, until=until)
    events = await incident_frame(session, until=until)
    orders = await supervision_frame(session, until=until)
    if (frame.height, events.height, orders.height) != (mark.petitions, mark.incidents, mark.supervision):
        raise InputsChanged(
            f"expected {mark.petitions} petition, {mark.incidents} incident and {mark.supervision} supervision "
            f"events before {until.isoformat()}, extracted {frame.height}, {events.height} and {orders.height}"
        )
    version = await plans.version_in_force(session, until - dt.timedelta(microseconds=1))
    plan = plans.content_of(version) if version is not None else default_plan()
    weights = _weights(plan) or _weights(default_plan())
    # The plan in force at the period's end gives the weights and the step targets (incidents pin their own
    # version, which is the same one unless the plan was republished within the period).
    ctx = compute.Context(kind=kind, start=start, weights=weights, step_targets=plan_targets(plan))
    zones = {str(tenant.id): tenant.timezone}
    # Polars work is CPU-bound: off the event loop.
    tables = await asyncio.to_thread(
        lambda: compute.compute(
            localize(frame.lazy(), zones), ctx, localize(events.lazy(), zones), localize(orders.lazy(), zones)
        )
    )
    labels = await _labels(session, tables)
    count = int(mark.petitions) + int(mark.incidents) + int(mark.supervision)
    content = {
        "format": compute.FORMAT,
        "kind": kind,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "timezone": tenant.timezone,
        "university": {"zh": tenant.name_zh, "en": tenant.name_en},
        "watermark": {"seq": int(mark.seq), "count": count},
        "plan": {
            "version_id": str(version.id) if version else None,
            "number": version.number if version else None,
            "weights": {k: round(v, 6) for k, v in sorted(weights.items())},
        },
        "labels": labels,
        "tables": {name: compute.table_json(frame) for name, frame in sorted(tables.items())},
        "findings": findings.findings(tables, labels["org_units"]),
    }
    meta = {
        "watermark_seq": int(mark.seq),
        "watermark_count": count,
        "plan_version_id": version.id if version else None,
        "plan_version_number": version.number if version else None,
        "period_end": end,
    }
    return content, meta


async def generate(
    session: AsyncSession, kind: Kind, start: dt.date, *, request_id: uuid.UUID | None = None
) -> tuple[Report, bool]:
    """Compute the report of one period in the caller's tenant transaction; ``(report, created)``.

    Concurrent runs for the same period are serialized by a transaction-level advisory lock, so the hash check
    and the revision number cannot race.
    """
    tenant_id = require_tenant()
    await session.execute(
        text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"report:{tenant_id}:{kind}:{start.isoformat()}"},
    )
    content, meta = await build(session, kind, start)
    encoded = compute.encode(content)
    digest = compute.content_hash(encoded)
    report = await session.scalar(
        select(Report).where(Report.kind == kind, Report.period_start == start, Report.content_hash == digest)
    )
    created = report is None
    if report is None:
        latest = await session.scalar(
            select(func.max(Report.revision)).where(Report.kind == kind, Report.period_start == start)
        )
        report = Report(
            kind=kind,
            period_start=start,
            revision=(latest or 0) + 1,
            content=encoded.decode(),
            content_hash=digest,
            **meta,
        )
        session.add(report)
        await session.flush()
        await journal.record(
            session,
            "report.ready",
            subject_id=report.id,
            kind=kind,
            period_start=start.isoformat(),
            revision=report.revision,
        )
    if request_id is not None:
        request = await session.get(ReportRequest, (tenant_id, request_id))
        if request is not None and request.report_id is None:
            request.report_id = report.id
            request.completed_at = utcnow()
    await session.flush()
    return report, created


async def request_report(
    session: AsyncSession, kind: Kind, start: dt.date, *, actor_id: uuid.UUID | None, today: dt.date
) -> ReportRequest:
    """Record an on-demand request; the relay turns its ``report.requested`` event into the job (outbox)."""
    check_period(kind, start, today)
    request = ReportRequest(kind=kind, period_start=start, requested_by=actor_id)
    session.add(request)
    await session.flush()
    await journal.record(
        session, "report.requested", actor_id=actor_id, subject_id=request.id, kind=kind, period_start=start.isoformat()
    )
    return request


async def get_request(session: AsyncSession, request_id: uuid.UUID) -> ReportRequest:
    request = await session.scalar(select(ReportRequest).where(ReportRequest.id == request_id))
    if request is None:
        raise NotFound("no such report request")
    return request


async def get_report(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await session.scalar(select(Report).where(Report.id == report_id))
    if report is None:
        raise NotFound("no such report")
    return report


async def latest_revisions(session: AsyncSession) -> dict[tuple[str, dt.date], int]:
    rows = await session.execute(
        select(Report.kind, Report.period_start, func.max(Report.revision)).group_by(Report.kind, Report.period_start)
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def list_reports(
    session: AsyncSession,
    *,
    kind: Kind | None = None,
    period_start: dt.date | None = None,
    cursor: uuid.UUID | None = None,
    limit: int = 50,
) -> tuple[list[Report], uuid.UUID | None]:
    """Reports, newest first (every revision; ``current`` is computed by the caller from ``latest_revisions``)."""
    query = select(Report).options(defer(Report.content))
    if kind is not None:
        query = query.where(Report.kind == kind)
    if period_start is not None:
        query = query.where(Report.period_start == period_start)
    return await paging.keyset(session, query, Report.id, after=cursor, limit=limit, newest_first=True)
