"""The supervision scan: every 10 minutes, flag the orders whose due time passed unanswered and escalate them.

Idempotent: an order is flagged once per due time (``overdue_at`` is the claim), so a repeated period journals
nothing new.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import dramatiq

from analytics.runtime import fanout, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.scheduler import periodic
from service.petitions.jobs import every_ten_minutes
from service.supervision import services
from tenants.clock import utcnow
from tenants.db import Database

ensure_broker()


async def scan_tenant(db: Database, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    async with db.transaction(tenant_id) as session:
        return await services.flag_overdue(session, now or utcnow())


@dramatiq.actor(**retry.SCAN)
async def scan_supervision(period: str) -> None:
    await fanout.run_each(scan_tenant)


@periodic("supervision.scan", every_ten_minutes)
def _scan(period: str) -> list[dramatiq.Message]:
    return [scan_supervision.message(period)]
