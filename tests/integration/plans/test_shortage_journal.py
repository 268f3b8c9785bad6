"""Shortages are journaled when they appear or change, and once resolved; never twice for the same state."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from tenants.journal import JournalEvent
from tenants.materials import StockLevel
from tenants.plans import services
from tenants.plans.defaults import default_plan
from tenants.plans.readiness import readiness
from tests.support.stock import item

TODAY = dt.date(2026, 11, 29)
MINIMUMS = default_plan().materials  # COMM-RADIO 10, ..., LOG-WATER 200


async def journal_of(db: Any, tenant_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    async with db.transaction(tenant_id) as session:
        rows = await session.scalars(
            select(JournalEvent).where(JournalEvent.type.like("material.%")).order_by(JournalEvent.seq)
        )
        return [(e.type, e.payload) for e in rows]


async def run(db: Any, tenant_id: uuid.UUID, stock: list[StockLevel]) -> int:
    report = readiness(MINIMUMS, stock, as_of=TODAY, within_days=30)
    async with db.transaction(tenant_id) as session:
        return await services.journal_shortage_changes(session, report, plan_version_id=uuid.uuid4())


def enough(**overrides: int) -> list[StockLevel]:
    quantities = {m.code: m.minimum for m in MINIMUMS} | overrides
    return [item(code, n) for code, n in quantities.items()]


async def test_journal_only_on_change(db: Any, tenant: Any) -> None:
    assert await run(db, tenant.id, enough()) == 0
    assert await run(db, tenant.id, enough(**{"LOG-WATER": 150, "MED-KIT": 0})) == 2
    assert await run(db, tenant.id, enough(**{"LOG-WATER": 150, "MED-KIT": 0})) == 0  # the same again: nothing
    assert await run(db, tenant.id, enough(**{"LOG-WATER": 120, "MED-KIT": 0})) == 1  # water got worse
    assert await run(db, tenant.id, enough(**{"MED-KIT": 0})) == 1  # water is back
    assert await journal_of(db, tenant.id) == [
        (
            "material.shortage",
            {"code": "MED-KIT", "category": "medical", "required": 5, "available": 0, "short": 5},
        ),
        (
            "material.shortage",
            {"code": "LOG-WATER", "category": "logistics", "required": 200, "available": 150, "short": 50},
        ),
        (
            "material.shortage",
            {"code": "LOG-WATER", "category": "logistics", "required": 200, "available": 120, "short": 80},
        ),
        ("material.shortage_resolved", {"code": "LOG-WATER"}),
    ]


async def test_shortages_are_per_university(db: Any, make_tenant: Any) -> None:
    a, b = await make_tenant(), await make_tenant()
    assert await run(db, a.id, enough(**{"MED-KIT": 1})) == 1
    assert await run(db, b.id, enough(**{"MED-KIT": 1})) == 1
    assert [t for t, _ in await journal_of(db, b.id)] == ["material.shortage"]
