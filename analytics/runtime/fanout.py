"""The one way a periodic job reaches every active university: enqueue a per-university actor for each, or run
a per-university function for each in turn (each in its own tenant transaction, opened by the function)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from tenants.db import Database
from tenants.tenancy import active_tenant_ids


async def universities(db: Database | None = None) -> list[uuid.UUID]:
    """The ids of the active universities."""
    async with (db or database()).sessionmaker() as session:
        return await active_tenant_ids(session)


async def enqueue_each(actor: Any, *args: Any) -> int:
    """Enqueue ``actor(tenant_id, *args)`` for every active university; returns how many."""
    ids = await universities()
    broker = ensure_broker()
    await asyncio.to_thread(lambda: [broker.enqueue(actor.message(str(t), *args)) for t in ids])
    return len(ids)


async def run_each(work: Callable[[Database, uuid.UUID], Awaitable[Any]]) -> int:
    """Run ``work(db, tenant_id)`` for every active university, one after the other; returns how many."""
    db = database()
    ids = await universities(db)
    for tenant_id in ids:
        await work(db, tenant_id)
    return len(ids)
