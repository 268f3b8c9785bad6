"""The demo university's petition categories, each routed to the org unit (by code) that first handles it."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions.models import Category

# (code, name_zh, name_en, org unit code)
DEMO_CATEGORIES: list[tuple[str, str, str, str]] = [
    ("dormitory", "宿舍", "Dormitories", "logistics"),
    ("canteen", "食堂", "Canteens", "logistics"),
    ("teaching", "教学", "Teaching", "academic-affairs"),
    ("examination", "考试", "Examinations", "academic-affairs"),
    ("scholarship-fees", "奖助学金与收费", "Scholarships and fees", "student-affairs"),
    ("campus-safety", "校园安全", "Campus safety", "security"),
    ("staff-pay-titles", "教职工薪酬与职称", "Staff pay and titles", "hr"),
    ("campus-network", "校园网络", "Campus network", "it-center"),
    ("library", "图书馆", "Library", "library"),
    ("graduation-degree", "毕业与学位", "Graduation and degrees", "academic-affairs"),
    ("student-life", "学生生活与心理健康", "Student life and mental health", "student-affairs"),
    ("discipline-integrity", "纪律作风与廉洁", "Discipline and integrity", "petition-office"),
    ("other", "其他", "Other", "petition-office"),
]


async def org_unit_ids(session: AsyncSession) -> dict[str, object]:
    """Org unit ids by code, when the org chart exists in this database (else empty: routing stays unset)."""
    if not await session.scalar(text("select to_regclass('org_units') is not null")):
        return {}
    rows = await session.execute(text("select code, id from org_units where active"))
    return {code: unit_id for code, unit_id in rows.all()}


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
            category.default_org_unit_id = units[unit]  # type: ignore[assignment]
    await session.flush()
    return created
