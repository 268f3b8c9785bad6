"""Early-warning jobs: every few minutes the sweep fans the scan out to every active university; each scan is
idempotent (a rerun finds the surges already raised)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq import Message
from sqlalchemy import select

from analytics.runtime import fanout, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import periodic
from analytics.warnings.services import SCAN_MINUTES, scan
from tenants.tenancy import Tenant, TenantStatus

ensure_broker()


async def scan_university(tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    async with database().transaction(tenant_id) as session:
        status = await session.scalar(select(Tenant.status).where(Tenant.id == tenant_id))
        if status != TenantStatus.active:
            return 0
        return len(await scan(session, now=now))


@dramatiq.actor(**retry.FREQUENT)
async def scan_warnings(tenant_id: str) -> None:
    """One university's scan; idempotent (a rerun finds the surges already raised)."""
    await scan_university(uuid.UUID(tenant_id))


@dramatiq.actor(**retry.FREQUENT)
async def warning_sweep(period_key: str) -> None:
    """Fan the scan out to every active university."""
    await fanout.enqueue_each(scan_warnings)


def every_few_minutes(now: datetime) -> str:
    """The scan's period key: the UTC start of the current ``SCAN_MINUTES`` slot."""
    now = now.astimezone(UTC)
    return now.replace(minute=now.minute - now.minute % SCAN_MINUTES, second=0, microsecond=0).strftime(
        "%Y-%m-%dT%H:%M"
    )


@periodic("warnings.scan", every_few_minutes)
def _scan_every_few_minutes(period_key: str) -> list[Message[Any]]:
    return [warning_sweep.message(period_key)]
