"""Reading the journal in tests: through the API as the university's admin, or straight from the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tenants import journal
from tenants.db import tenant_context
from tenants.journal import JournalEvent
from tests.support.platform import TenantHandle


async def journal_of(client: Any, uni: Any, petition_id: str | None = None) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/journal", params={"limit": 500}, headers=uni.admin)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return [e for e in items if petition_id is None or e["petition_id"] == petition_id]


async def db_events(db: Any, tenant_id: uuid.UUID, prefix: str) -> list[journal.JournalEvent]:
    async with db.transaction(tenant_id) as session:
        rows = await session.scalars(
            select(journal.JournalEvent)
            .where(journal.JournalEvent.type.like(prefix + "%"))
            .order_by(journal.JournalEvent.seq)
        )
        return list(rows)


async def events_of_type(client: Any, tenant: TenantHandle, type: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/journal/", params={"type": type, "limit": 500}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def journal_types(db, tenant_id) -> list[str]:
    with tenant_context(tenant_id):
        async with db.transaction() as s:
            return list(await s.scalars(select(JournalEvent.type).order_by(JournalEvent.seq)))
