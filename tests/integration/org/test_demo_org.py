"""The demo university's organization chart, groups and inventory: complete, and idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from service.ops.demo import DEMO_MATERIALS, DEMO_PEOPLE, DEMO_UNITS, seed_demo
from tenants import materials, org


async def test_demo_org_chart_is_seeded_once(db):
    creds = await seed_demo(db, {})
    creds = await seed_demo(db, creds)
    tenant_id = creds["tenant_id"]
    async with db.transaction(tenant_id) as session:
        assert await session.scalar(select(func.count()).select_from(org.OrgUnit)) == len(DEMO_UNITS)
        assert await session.scalar(select(func.count()).select_from(org.Person)) == len(DEMO_PEOPLE)
        roster = await org.group_roster(session)
        levels = await materials.stock_levels(session)
        secretary = (await org.list_people(session, staff_number="D0001"))[0]
        xsc = (await org.list_units(session, q="XSC"))[0]
    assert secretary.title_zh == "校党委书记" and xsc.name_zh == "学生处"
    assert set(roster) == {"leadership", "handling", "info_release", "logistics"}
    assert all(r.leader_person_id is not None for r in roster.values())
    assert roster["leadership"].leader_person_id == secretary.id
    assert len(roster["leadership"].deputy_person_ids) == 3
    assert len(roster["handling"].member_person_ids) >= 6
    assert len(roster["handling"].account_ids) == 1  # the admin is the Petition Office director
    assert len(levels) == len(DEMO_MATERIALS) and all(s.quantity > 0 for s in levels)
    assert {s.category for s in levels} == {"communication", "medical", "safety", "logistics"}
