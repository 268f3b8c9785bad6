"""Report jobs: one actor computes one university's report of one period; the scheduler's hourly sweep enqueues
every active university's reports once their month, quarter or year has closed in the university's time zone;
an on-demand request (``report.requested`` in the journal) reaches the actor through the relay.

Exactly once per period: the sweep claims ``("reports:<tenant>", "<kind>:<period start>")`` in ``schedule_runs``
in the transaction that sends the message, so a second tick (or a second scheduler) claims nothing. And the actor
itself is idempotent: the same inputs find the snapshot already stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import dramatiq
import structlog
from dramatiq import Message
from sqlalchemy import select, text

from analytics.reports import periods, store
from analytics.reports.periods import KINDS, Kind
from analytics.runtime import relay, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import hourly, periodic
from tenants.clock import utcnow
from tenants.db import Database
from tenants.tenancy import Tenant, TenantStatus

ensure_broker()
log = structlog.get_logger("xinfang.reports")


async def generate_report(
    db: Database, tenant_id: uuid.UUID, kind: Kind, start: dt.date, request_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Compute and store one report in its own tenant transaction; returns the report id."""
    async with db.transaction(tenant_id) as session:
        report, created = await store.generate(session, kind, start, request_id=request_id)
        report_id = report.id
    log.info("report.generated", kind=kind, period_start=start.isoformat(), created=created)
    return report_id


@dramatiq.actor(**retry.PERIODIC)
async def compute_report(tenant_id: str, kind: str, period_start: str, request_id: str | None = None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    await generate_report(
        database(),
        uuid.UUID(tenant_id),
        kind,  # type: ignore[arg-type]
        dt.date.fromisoformat(period_start),
        uuid.UUID(request_id) if request_id else None,
    )


def closed_periods(tenant: Tenant, now: dt.datetime) -> list[tuple[Kind, dt.date]]:
    """The latest closed month, quarter and year of the university at ``now`` (its local time), leaving out
    periods that ended before the university was onboarded."""
    today = now.astimezone(tenant.zone).date()
    onboarded = tenant.created_at.astimezone(tenant.zone).date()
    out: list[tuple[Kind, dt.date]] = []
    for kind in KINDS:
        start = periods.last_closed(kind, today)
        if periods.period_end(kind, start) > onboarded:
            out.append((kind, start))
    return out


async def sweep(db: Database, now: dt.datetime | None = None) -> list[Message[Any]]:
    """Claim and enqueue every active university's newly closed periods; returns the messages sent."""
    now = now or utcnow()
    async with db.transaction() as session:
        tenants = list(await session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active)))
    broker = ensure_broker()
    sent: list[Message[Any]] = []
    for tenant in tenants:
        for kind, start in closed_periods(tenant, now):
            async with db.transaction() as session:
                claimed = await session.scalar(
                    text(
                        "insert into schedule_runs (job, period_key) values (:j, :k) "
                        "on conflict do nothing returning job"
                    ),
                    {"j": f"reports:{tenant.id}", "k": f"{kind}:{start.isoformat()}"},
                )
                if claimed:
                    message = compute_report.message(str(tenant.id), kind, start.isoformat())
                    # Sent before the claim commits: a failed send rolls the claim back for the next tick.
                    await asyncio.to_thread(broker.enqueue, message)
                    sent.append(message)
    return sent


@dramatiq.actor(**retry.PERIODIC)
async def reports_sweep(period_key: str) -> None:
    await sweep(database())


@periodic("reports.closed_periods", hourly)
def _hourly_sweep(period_key: str) -> list[Message[Any]]:
    return [reports_sweep.message(period_key)]


@relay.on("report.requested")
def _on_request(event: relay.FeedEvent) -> list[Message[Any]]:
    payload = event.payload
    return [
        compute_report.message(str(event.tenant_id), payload["kind"], payload["period_start"], str(event.subject_id))
    ]
