"""Foundation jobs. Actors take ids, set the tenant context, call a service, and are idempotent."""

from __future__ import annotations

import uuid

import dramatiq

from analytics.runtime import relay, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from tenants import tenancy

ensure_broker()


@dramatiq.actor(**retry.PERSISTENT)
async def provision_tenant(tenant_id: str) -> None:
    """Finish a university's onboarding; records ``tenant.provisioned`` exactly once."""
    tid = uuid.UUID(tenant_id)
    async with database().transaction(tid) as session:
        await tenancy.provision(session, tid)


@relay.on("tenant.created")
def _provision_new_tenant(event: relay.FeedEvent) -> list[dramatiq.Message]:
    return [provision_tenant.message(str(event.tenant_id))]
