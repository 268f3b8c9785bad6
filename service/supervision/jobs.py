"""The supervision scan: every 10 minutes, flag the orders whose due time passed unanswered and escalate them.

Idempotent: an order is flagged once per due time (``overdue_at`` is the claim), so a repeated period journals
nothing new.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import dramatiq

from analytics.broker import ensure_broker
from analytics.runtime import database
from analytics.scheduler import periodic
from service.petitions.jobs import every_ten_minutes
from service.supervision import services
from tenants.clock import utcnow
from tenants.db import Database
from tenants.tenancy import active_tenant_ids

ensure_broker()


async def scan_tenant(db: Database, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    async with db.transaction(tenant_id) as session:
        return await services.flag_overdue(session, now or utcnow())


@dramatiq.actor(queue_name="default", max_retries=5, min_backoff=5000, max_backoff=300_000)
async def scan_supervision(period: str) -> None:
    db = database()
    async with db.sessionmaker() as session:
        tenant_ids = await active_tenant_ids(session)
    for tenant_id in tenant_ids:
        await scan_tenant(db, tenant_id)


@periodic("supervision.scan", every_ten_minutes)
def _scan(period: str) -> list[dramatiq.Message]:
    return [scan_supervision.message(period)]
