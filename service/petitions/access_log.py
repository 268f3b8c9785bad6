"""The access log of petitioners' personal data: one row per petition per response that carried its decrypted
personal fields (who, which petition, which fields, when, from which route; never a value), kept for at least
six months (Cybersecurity Law art. 21), readable by tenant admins, purged after the retention.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions.models import Petition, PetitionAccess
from service.petitions.scope import personal_fields
from tenants import paging
from tenants.clock import utcnow
from tenants.identity import Principal

# The shortest retention the setting accepts: six months, whatever the month lengths.
MIN_RETENTION_DAYS = 183


@dataclass(frozen=True)
class Via:
    """The request a response answers: method, route template (never the raw path) and request id."""

    method: str
    route: str
    request_id: str | None = None

    @classmethod
    def of(cls, request: Any) -> Via:
        scope = request.scope
        return cls(
            request.method,
            str(scope.get("path_template") or request.url.path)[:200],
            (scope.get("state") or {}).get("request_id"),
        )


async def record(session: AsyncSession, principal: Principal, petitions: list[Petition], via: Via) -> int:
    """Record that a response to ``principal`` carries these petitions' personal data; petitions without a personal
    value make no row. Returns the number of rows written."""
    now = utcnow()
    rows = []
    for petition in petitions:
        fields = personal_fields(petition)
        if not fields:
            continue
        rows.append(
            PetitionAccess(
                occurred_at=now,
                actor_kind="api_key" if principal.kind == "api_key" else "account",
                account_id=principal.subject_id if principal.kind == "account" else None,
                api_key_id=principal.subject_id if principal.kind == "api_key" else None,
                petition_id=petition.id,
                fields=fields,
                method=via.method,
                route=via.route,
                request_id=via.request_id,
            )
        )
    session.add_all(rows)
    if rows:
        await session.flush()
    return len(rows)


async def entries(
    session: AsyncSession,
    *,
    account_id: uuid.UUID | None = None,
    petition_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: uuid.UUID | None = None,
    limit: int = 100,
) -> tuple[list[PetitionAccess], uuid.UUID | None]:
    """Newest first, keyset-paginated on the (time-ordered) id; returns the rows and the next cursor."""
    query = select(PetitionAccess)
    if account_id is not None:
        query = query.where(PetitionAccess.account_id == account_id)
    if petition_id is not None:
        query = query.where(PetitionAccess.petition_id == petition_id)
    if since is not None:
        query = query.where(PetitionAccess.occurred_at >= since)
    if until is not None:
        query = query.where(PetitionAccess.occurred_at < until)
    return await paging.keyset(session, query, PetitionAccess.id, after=cursor, limit=limit, newest_first=True)


async def purge(session: AsyncSession, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete the current university's rows older than the retention (never shorter than six months)."""
    days = max(retention_days, MIN_RETENTION_DAYS)
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = await session.execute(delete(PetitionAccess).where(PetitionAccess.occurred_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
