"""The journal read back in tests, one way each: through the API as the university's admin (``journal_of``), or
straight from the database in the university's context (``db_events``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tenants.journal import JournalEvent


def _admin(who: Any) -> dict[str, str]:
    """The admin's headers of a casework university (``.admin``), an emergency one (``.headers["admin"]``), a
    tenant handle (``.headers``) or headers as they are."""
    if isinstance(who, dict):
        return who
    if hasattr(who, "admin"):
        return dict(who.admin)
    headers = who.headers
    return dict(headers["admin"]) if "admin" in headers else dict(headers)


async def journal_of(
    client: Any,
    who: Any,
    petition_id: str | None = None,
    *,
    incident_id: str | None = None,
    type: str | None = None,
) -> list[dict[str, Any]]:
    """The university's journal through ``GET /api/v1/journal`` (oldest first), of one type, petition or incident."""
    params: dict[str, Any] = {"limit": 500} | ({"type": type} if type else {})
    r = await client.get("/api/v1/journal", params=params, headers=_admin(who))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return [
        e
        for e in items
        if (petition_id is None or e["petition_id"] == petition_id)
        and (incident_id is None or e["incident_id"] == incident_id)
    ]


async def db_events(db: Any, tenant_id: uuid.UUID, prefix: str = "") -> list[JournalEvent]:
    """The university's journal rows whose type starts with ``prefix``, in order, read in its tenant context."""
    async with db.transaction(tenant_id) as session:
        rows = await session.scalars(
            select(JournalEvent).where(JournalEvent.type.like(prefix + "%")).order_by(JournalEvent.seq)
        )
        return list(rows)
