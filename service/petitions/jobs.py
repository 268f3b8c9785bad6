"""Scheduled petition work: deadline reminders, overdue flags and satisfaction follow-ups, journaled once each.

The scheduler enqueues ``scan_petitions`` every 10 minutes; the actor scans every active university in its own
tenant transaction. Idempotent: every notice is claimed in ``petition_reminders`` before it is journaled. The
same scan purges the petition access log older than ``XINFANG_ACCESS_LOG_RETENTION_DAYS`` (never under 183).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import dramatiq
from sqlalchemy import or_, select, text

from analytics.runtime import fanout, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.scheduler import periodic
from service.petitions import access_log, reminders, services
from service.petitions.models import Petition
from tenants import idempotency, journal
from tenants.clock import utcnow
from tenants.db import Database
from tenants.settings import get_settings

ensure_broker()


def every_ten_minutes(now: datetime) -> str:
    return f"{now:%Y-%m-%dT%H}:{now.minute // 10}"


async def scan_tenant(db: Database, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Journal every notice now due in one university; returns how many were journaled."""
    now = now or utcnow()
    sent = 0
    async with db.transaction(tenant_id) as session:
        settings = await services.get_settings(session)
        horizon = now + timedelta(hours=max(settings.reminder_hours, default=0))
        followup_before = now - timedelta(days=settings.followup_days)
        rows = await session.execute(
            select(
                Petition.id,
                Petition.org_unit_id,
                Petition.state,
                Petition.due_at,
                Petition.replied_at,
                Petition.rating_stage,
            ).where(
                or_(
                    Petition.due_at <= horizon,
                    Petition.replied_at <= followup_before,
                )
            )
        )
        for row in rows.all():
            facts = reminders.Facts(row.state, row.due_at, row.replied_at, row.rating_stage)
            for notice in reminders.notices(
                facts, now, reminder_hours=list(settings.reminder_hours), followup_days=settings.followup_days
            ):
                claimed = await session.scalar(
                    text(
                        "insert into petition_reminders (tenant_id, petition_id, key, created_at) "
                        "values (:t, :p, :k, now()) on conflict do nothing returning key"
                    ),
                    {"t": tenant_id, "p": row.id, "k": notice.key},
                )
                if claimed:
                    await journal.record(
                        session, notice.type, petition_id=row.id, org_unit_id=row.org_unit_id, **notice.payload
                    )
                    sent += 1
        await idempotency.purge_expired(session)
        await access_log.purge(session, retention_days=get_settings().access_log_retention_days, now=now)
    return sent


@dramatiq.actor(**retry.SCAN)
async def scan_petitions(period: str) -> None:
    """Scan every active university (idempotent: a repeated period journals nothing new)."""
    await fanout.run_each(scan_tenant)


@periodic("petitions.scan", every_ten_minutes)
def _scan(period: str) -> list[dramatiq.Message]:
    return [scan_petitions.message(period)]
