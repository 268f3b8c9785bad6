"""A staff member's notification feed: the one way it is read and marked read, for the API and the console."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from service.notifications.models import Notification
from tenants import paging
from tenants.clock import utcnow
from tenants.errors import NotFound


async def feed(
    session: AsyncSession, account_id: uuid.UUID, *, unread: bool = False, cursor: uuid.UUID | None = None, limit: int
) -> tuple[list[Notification], uuid.UUID | None]:
    """The account's notifications, newest first (keyset paging), optionally only the unread ones."""
    query = select(Notification).where(Notification.account_id == account_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return await paging.keyset(session, query, Notification.id, after=cursor, limit=limit, newest_first=True)


async def unread_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    query = select(func.count()).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    return int(await session.scalar(query) or 0)


async def mark_read(session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """Mark one of the account's notifications read (idempotent); another account's is not found."""
    n = await session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.account_id == account_id)
    )
    if n is None:
        raise NotFound("no such notification")
    if n.read_at is None:
        n.read_at = utcnow()
    return n


async def mark_all_read(session: AsyncSession, account_id: uuid.UUID) -> int:
    result = await session.execute(
        update(Notification)
        .where(Notification.account_id == account_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    assert isinstance(result, CursorResult)  # DML gives a CursorResult; execute is typed Result
    return int(result.rowcount or 0)
