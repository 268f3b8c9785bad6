"""Keyset paging, the one way: fetch one row more than the page, and the page's last key is the next cursor
when that extra row exists (no count, no offset; a cursor stays valid while rows are added)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


def cut(rows: Sequence[T], limit: int, key: Callable[[T], Any]) -> tuple[list[T], Any | None]:
    """The first ``limit`` of ``rows`` (fetched with one more) and the next cursor, or None on the last page."""
    page = list(rows[:limit])
    return page, (key(page[-1]) if len(rows) > limit and page else None)


async def page(
    fetch: Callable[[int], Awaitable[Sequence[T]]], limit: int, key: Callable[[T], Any]
) -> tuple[list[T], Any | None]:
    """A page from ``fetch(n)``, a service call that returns at most ``n`` rows past the cursor in key order."""
    return cut(await fetch(limit + 1), limit, key)


async def keyset(
    session: AsyncSession,
    query: Select[Any],
    key: InstrumentedAttribute[Any],
    *,
    after: Any | None,
    limit: int,
    newest_first: bool = False,
) -> tuple[list[Any], Any | None]:
    """``query``'s rows ordered by ``key`` (descending with ``newest_first``) from past the cursor ``after``."""
    if after is not None:
        query = query.where(key < after if newest_first else key > after)
    query = query.order_by(key.desc() if newest_first else key).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    return cut(rows, limit, lambda row: getattr(row, key.key))
