"""Tracking numbers come from blocks reserved per university and year; the next block is reserved in the
background before the current one runs out, so no submission waits on the counter row, and no number is ever
handed out twice."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from service.petitions import services
from tenants.db import tenant_context


async def counter(db, tenant_id, year: int) -> int | None:
    with tenant_context(tenant_id):
        async with db.transaction() as session:
            return await session.scalar(
                text("select next_value from petition_numbers where tenant_id = :t and year = :y"),
                {"t": tenant_id, "y": year},
            )


async def test_the_next_block_is_reserved_ahead_and_numbers_continue_without_a_gap(db, tenant, monkeypatch):
    monkeypatch.setattr(services, "NUMBER_BLOCK", 10)
    monkeypatch.setattr(services, "NUMBER_AHEAD", 3)
    blocks = services.NumberBlocks()
    first = [await blocks.next(db, tenant.id, 2031) for _ in range(6)]
    assert first == [1, 2, 3, 4, 5, 6]
    assert await counter(db, tenant.id, 2031) == 11  # one block
    assert not blocks._ahead
    assert await blocks.next(db, tenant.id, 2031) == 7  # 3 left: the next block is asked for, not waited on
    assert blocks._ahead
    await asyncio.gather(*blocks._ahead.values())
    assert await counter(db, tenant.id, 2031) == 21  # reserved ahead
    rest = [await blocks.next(db, tenant.id, 2031) for _ in range(8)]
    assert rest == [8, 9, 10, 11, 12, 13, 14, 15]


async def test_concurrent_submissions_and_two_processes_never_share_a_number(db, tenant, monkeypatch):
    monkeypatch.setattr(services, "NUMBER_BLOCK", 7)
    monkeypatch.setattr(services, "NUMBER_AHEAD", 2)
    one, two = services.NumberBlocks(), services.NumberBlocks()  # two processes' blocks
    taken = await asyncio.gather(*(b.next(db, tenant.id, 2032) for _ in range(60) for b in (one, two)))
    await asyncio.gather(*one._ahead.values(), *two._ahead.values())
    assert len(set(taken)) == len(taken) == 120
    assert max(taken) < await counter(db, tenant.id, 2032)
