"""Readiness jobs: every university's materials are checked against its published plan once a day, and again
whenever a new plan version is published. The check journals shortages only when they change, so running it
again (a retry, a second delivery) writes nothing new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq import Message

from analytics.runtime import fanout, relay, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import periodic
from tenants.clock import utcnow
from tenants.plans import services as plans
from tenants.tenancy import Tenant, TenantStatus

ensure_broker()

# Expiry warnings of the daily check look this far ahead.
EXPIRY_HORIZON_DAYS = 30


def daily(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


async def check_university(tenant_id: uuid.UUID) -> None:
    """Run one university's readiness check (nothing to do before its first plan is published)."""
    async with database().transaction(tenant_id) as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None or tenant.status != TenantStatus.active:
            return
        if await plans.published_version(session) is None:
            return
        await plans.check_readiness(
            session, as_of=utcnow().astimezone(tenant.zone).date(), within_days=EXPIRY_HORIZON_DAYS
        )


@dramatiq.actor(**retry.PERIODIC)
async def check_readiness(tenant_id: str) -> None:
    await check_university(uuid.UUID(tenant_id))


@dramatiq.actor(**retry.PERIODIC)
async def readiness_sweep(period_key: str) -> None:
    """Fan the daily check out to every active university."""
    await fanout.enqueue_each(check_readiness)


@periodic("plans.readiness", daily)
def _daily_readiness(period_key: str) -> list[Message[Any]]:
    return [readiness_sweep.message(period_key)]


@relay.on("plan.published")
def _readiness_after_publication(event: relay.FeedEvent) -> list[Message[Any]]:
    return [check_readiness.message(str(event.tenant_id))]
