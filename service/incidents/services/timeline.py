"""An incident's timeline: its journal in order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.services.common import get_incident
from tenants import journal

# --- timeline -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    actor_id: uuid.UUID | None
    actor: str | None
    subject_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    payload: dict[str, Any] = field(default_factory=dict)


async def timeline(session: AsyncSession, incident_id: uuid.UUID) -> list[TimelineEntry]:
    """The incident's whole history from the journal, in order (who, what, when); live during the incident."""
    from tenants.identity import Account

    await get_incident(session, incident_id)
    rows = await session.execute(
        select(journal.JournalEvent, Account.display_name)
        .outerjoin(Account, Account.id == journal.JournalEvent.actor_id)
        .where(journal.JournalEvent.incident_id == incident_id)
        .order_by(journal.JournalEvent.occurred_at, journal.JournalEvent.seq)
    )
    return [
        TimelineEntry(e.occurred_at, e.type, e.actor_id, name, e.subject_id, e.org_unit_id, dict(e.payload))
        for e, name in rows.all()
    ]
