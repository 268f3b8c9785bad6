"""The demo university's petition categories, each routed to the org unit (by code) that first handles it, and its
campus places."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions import services
from service.petitions.models import Category
from tenants import org

# (code, name_zh, name_en, org unit code in the demo chart of service/ops/demo.py). Matters without an office of
# their own in the demo chart (pay and titles, network, library) go to the president's office or the petition
# office, which route them on.
DEMO_CATEGORIES: list[tuple[str, str, str, str]] = [
    ("dormitory", "宿舍", "Dormitories", "HQGLC"),
    ("canteen", "食堂", "Canteens", "HQGLC"),
    ("teaching", "教学", "Teaching", "JWC"),
    ("examination", "考试", "Examinations", "JWC"),
    ("scholarship-fees", "奖助学金与收费", "Scholarships and fees", "XSC"),
    ("campus-safety", "校园安全", "Campus safety", "BWC"),
    ("staff-pay-titles", "教职工薪酬与职称", "Staff pay and titles", "XZBGS"),
    ("campus-network", "校园网络", "Campus network", "XFB"),
    ("library", "图书馆", "Library", "XFB"),
    ("graduation-degree", "毕业与学位", "Graduation and degrees", "JWC"),
    ("student-life", "学生生活与心理健康", "Student life and mental health", "XSC"),
    ("discipline-integrity", "纪律作风与廉洁", "Discipline and integrity", "XFB"),
    ("other", "其他", "Other", "XFB"),
]


async def org_unit_ids(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Active org unit ids by code (units missing from the chart leave their categories unrouted)."""
    return {u.code: u.id for u in await org.all_units(session)}


async def seed_demo_categories(session: AsyncSession) -> int:
    """Create the missing demo categories and route unrouted ones; returns how many were created."""
    units = await org_unit_ids(session)
    existing = {c.code: c for c in (await session.scalars(select(Category))).all()}
    created = 0
    for position, (code, name_zh, name_en, unit) in enumerate(DEMO_CATEGORIES):
        category = existing.get(code)
        if category is None:
            session.add(
                Category(
                    code=code,
                    name_zh=name_zh,
                    name_en=name_en,
                    default_org_unit_id=units.get(unit),
                    active=True,
                    position=position * 10,
                )
            )
            created += 1
        elif category.default_org_unit_id is None and unit in units:
            category.default_org_unit_id = units[unit]
    await session.flush()
    return created


# A campus in Guangzhou's university town: places a petitioner picks on the phone (code, zh, en, lat, long).
DEMO_PLACES: list[tuple[str, str, str, float, float]] = [
    ("canteen-1", "第一食堂", "Canteen 1", 23.0552, 113.3890),
    ("canteen-2", "第二食堂", "Canteen 2", 23.0581, 113.3928),
    ("dorm-3", "三号宿舍楼", "Dormitory 3", 23.0534, 113.3915),
    ("library", "图书馆", "Library", 23.0567, 113.3902),
    ("teaching-a", "教学楼A座", "Teaching building A", 23.0573, 113.3871),
    ("admin", "行政楼", "Administration building", 23.0590, 113.3885),
    ("gate-east", "东门", "East gate", 23.0561, 113.3957),
    ("sports", "体育馆", "Sports hall", 23.0541, 113.3866),
]


async def seed_demo_places(session: AsyncSession) -> bool:
    """Give the demo university its campus places unless it has some; returns whether it set them."""
    if await services.campus_places(session):
        return False
    places = [{"code": c, "name_zh": zh, "name_en": en, "lat": lat, "long": lon} for c, zh, en, lat, lon in DEMO_PLACES]
    await services.update_settings(session, actor_id=None, places=places)
    return True
