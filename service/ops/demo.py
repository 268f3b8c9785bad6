"""The demo university that ``make run`` seeds, and the credentials written to ``demo-credentials.json``.

Idempotent: a second run keeps the university and the credentials already written; missing credentials are
re-issued (a new platform token, a new admin password, a new integrator key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.seed import seed_demo_drill
from service.petitions.seed import seed_demo_categories, seed_demo_places
from tenants import identity, materials, org, tenancy
from tenants.clock import utcnow
from tenants.db import Database
from tenants.identity import Role
from tenants.ids import new_id

DEMO_SLUG = "demo"
PLATFORM_ADMIN_EMAIL = "admin@xinfang.local"
TENANT_ADMIN_EMAIL = "admin@demo.edu.cn"


async def seed_demo(
    db: Database, known: dict[str, Any], *, story: bool = False, slug: str = DEMO_SLUG
) -> dict[str, Any]:
    """Ensure the demo university exists; returns the credentials (``known`` plus whatever was re-issued).

    With ``story`` (``xinfang demo``, hence ``make run``) it also gets a year of history, its reports, an active
    incident, an open warning and an account per role (``service.ops.demo_story``). ``slug``: tests seed a
    demo university of their own."""
    creds = dict(known)
    async with db.transaction() as session:
        admin = await session.scalar(
            select(identity.PlatformAccount).where(identity.PlatformAccount.email == PLATFORM_ADMIN_EMAIL)
        )
        if admin is None:
            creds["platform_admin_password"] = identity.generate_password()
            admin = await identity.create_platform_account(
                session,
                email=PLATFORM_ADMIN_EMAIL,
                password=creds["platform_admin_password"],
                role=Role.platform_admin,
            )
            creds.pop("platform_admin_token", None)
        if "platform_admin_token" not in creds:
            creds["platform_admin_token"] = await identity.create_platform_token(session, admin, "demo")
        creds["platform_admin_email"] = PLATFORM_ADMIN_EMAIL
        tenant = await session.scalar(select(tenancy.Tenant).where(tenancy.Tenant.slug == slug))
    if tenant is None:
        tenant_id = new_id()
        async with db.transaction(tenant_id) as session:
            tenant, _, password = await tenancy.create_tenant(
                session,
                slug=slug,
                name_zh="示范大学",
                name_en="Demo University",
                province_code="440000",
                timezone="Asia/Shanghai",
                admin_email=TENANT_ADMIN_EMAIL,
                actor_id=admin.id,
            )
            creds["tenant_admin_password"] = password
            creds.pop("integrator_api_key", None)
    async with db.transaction(tenant.id) as session:
        if "tenant_admin_password" not in creds:
            account = await session.scalar(select(identity.Account).where(identity.Account.email == TENANT_ADMIN_EMAIL))
            creds["tenant_admin_password"] = identity.generate_password()
            if account is not None:
                account.password_hash = await identity.hash_password_async(creds["tenant_admin_password"])
        await seed_demo_org(session)
        if "integrator_api_key" not in creds:
            _, creds["integrator_api_key"] = await identity.create_api_key(
                session,
                name="demo integrator",
                scopes=["events:read", "webhooks:manage", "petitions:read"],
                actor_id=None,
            )
        if "open311_api_key" not in creds:
            _, creds["open311_api_key"] = await identity.create_api_key(
                session, name="demo Open311 client", scopes=["open311"], actor_id=None
            )
        await seed_demo_categories(session)
        await seed_demo_places(session)
        admin_id = await session.scalar(select(identity.Account.id).where(identity.Account.email == TENANT_ADMIN_EMAIL))
        if admin_id is not None:
            await seed_demo_drill(session, admin_id=admin_id, domain=TENANT_ADMIN_EMAIL.split("@")[1])
    creds.update(tenant_slug=slug, tenant_id=str(tenant.id), tenant_admin_email=TENANT_ADMIN_EMAIL)
    if story and admin_id is not None:
        from service.ops.demo_story import seed_story  # here: the generator it uses imports this module's chart

        creds.update(await seed_story(db, tenant, admin_id, creds))
    return creds


# --- the demo university's organization chart, groups and materials ----------------------------------------------

# (code, kind, name_zh, name_en, parent code)
DEMO_UNITS = [
    ("DEMO", "university", "示范大学", "Demo University", None),
    ("DWBGS", "office", "党委办公室", "Party Committee Office", "DEMO"),
    ("XZBGS", "office", "校长办公室", "President's Office", "DEMO"),
    ("JWC", "office", "教务处", "Office of Academic Affairs", "DEMO"),
    ("XSC", "office", "学生处", "Office of Student Affairs", "DEMO"),
    ("BWC", "office", "保卫处", "Security Office", "DEMO"),
    ("XCB", "office", "宣传部", "Publicity Department", "DEMO"),
    ("HQGLC", "office", "后勤管理处", "Logistics Management Office", "DEMO"),
    ("XFB", "office", "信访办公室", "Petition Office", "DEMO"),
    ("XLZX", "center", "心理咨询中心", "Counseling Center", "XSC"),
    ("XWZX", "center", "新闻中心", "News Center", "XCB"),
    ("XYY", "center", "校医院", "Campus Clinic", "HQGLC"),
    ("JSJXY", "college", "计算机学院", "College of Computer Science", "DEMO"),
    ("WXY", "college", "文学院", "College of Liberal Arts", "DEMO"),
    ("JGXY", "college", "经济管理学院", "School of Economics and Management", "DEMO"),
    ("JXXY", "college", "机械工程学院", "School of Mechanical Engineering", "DEMO"),
]
# (staff number, name_zh, name_en, title_zh, title_en, unit code, groups as (key, role))
DEMO_PEOPLE = [
    (
        "D0001",
        "陈建国",
        "Chen Jianguo",
        "校党委书记",
        "Secretary of the Party Committee",
        "DWBGS",
        [("leadership", "leader")],
    ),
    ("D0002", "李明华", "Li Minghua", "校长", "President", "XZBGS", [("leadership", "deputy")]),
    ("D0003", "王志强", "Wang Zhiqiang", "副校长", "Vice President", "XZBGS", [("leadership", "deputy")]),
    ("D0004", "赵丽", "Zhao Li", "副校长", "Vice President", "XZBGS", [("leadership", "deputy")]),
    ("D0010", "刘伟", "Liu Wei", "教务处处长", "Director of Academic Affairs", "JWC", [("leadership", "member")]),
    (
        "D0011",
        "张敏",
        "Zhang Min",
        "学生处处长",
        "Director of Student Affairs",
        "XSC",
        [("leadership", "member"), ("handling", "leader")],
    ),
    (
        "D0012",
        "孙磊",
        "Sun Lei",
        "学生处副处长",
        "Deputy Director of Student Affairs",
        "XSC",
        [("info_release", "deputy")],
    ),
    (
        "D0013",
        "周勇",
        "Zhou Yong",
        "保卫处处长",
        "Director of Security",
        "BWC",
        [("leadership", "member"), ("handling", "deputy")],
    ),
    (
        "D0014",
        "吴芳",
        "Wu Fang",
        "宣传部部长",
        "Head of the Publicity Department",
        "XCB",
        [("leadership", "member"), ("info_release", "leader")],
    ),
    (
        "D0015",
        "郑涛",
        "Zheng Tao",
        "后勤管理处处长",
        "Director of Logistics Management",
        "HQGLC",
        [("leadership", "member"), ("logistics", "leader")],
    ),
    (
        "D0016",
        "黄静",
        "Huang Jing",
        "信访办公室主任",
        "Director of the Petition Office",
        "XFB",
        [("handling", "member")],
    ),
    (
        "D0017",
        "何欣",
        "He Xin",
        "心理咨询中心主任",
        "Director of the Counseling Center",
        "XLZX",
        [("handling", "member")],
    ),
    ("D0018", "林娜", "Lin Na", "心理咨询师", "Psychological counselor", "XLZX", [("handling", "member")]),
    ("D0019", "马超", "Ma Chao", "新闻中心记者", "Reporter, News Center", "XWZX", [("info_release", "member")]),
    ("D0020", "郭玉兰", "Guo Yulan", "新闻中心编辑", "Editor, News Center", "XWZX", [("info_release", "member")]),
    ("D0021", "罗鹏", "Luo Peng", "校医院院长", "Director of the Campus Clinic", "XYY", [("logistics", "member")]),
    (
        "D0022",
        "冯刚",
        "Feng Gang",
        "后勤管理处副处长",
        "Deputy Director of Logistics",
        "HQGLC",
        [("logistics", "deputy")],
    ),
]
# Each college's student-affairs lead (handling group) and publicity liaison (information release group):
# (unit, lead zh, lead en, liaison zh, liaison en, college zh, college en)
_COLLEGES = [
    ("JSJXY", "谢宇", "Xie Yu", "宋雨", "Song Yu", "计算机学院", "College of Computer Science"),
    ("WXY", "唐静", "Tang Jing", "许文", "Xu Wen", "文学院", "College of Liberal Arts"),
    ("JGXY", "韩冰", "Han Bing", "曹阳", "Cao Yang", "经济管理学院", "School of Economics and Management"),
    ("JXXY", "邓军", "Deng Jun", "彭飞", "Peng Fei", "机械工程学院", "School of Mechanical Engineering"),
]
DEMO_PEOPLE += [
    person
    for i, (unit, lead_zh, lead_en, liaison_zh, liaison_en, college_zh, college_en) in enumerate(_COLLEGES, start=1)
    for person in (
        (
            f"D01{i}1",
            lead_zh,
            lead_en,
            f"{college_zh}党委副书记（分管学生工作）",
            f"Deputy Party Secretary for student affairs, {college_en}",
            unit,
            [("handling", "member")],
        ),
        (
            f"D01{i}2",
            liaison_zh,
            liaison_en,
            f"{college_zh}宣传联络员",
            f"Publicity liaison, {college_en}",
            unit,
            [("info_release", "member")],
        ),
    )
]
# The demo admin account is the Petition Office director's.
DEMO_ADMIN_PERSON = "D0016"
# (code, category, name_zh, name_en, unit of measure, location, owning unit, quantity, shelf life in days)
DEMO_MATERIALS = [
    ("RADIO", "communication", "对讲机", "Walkie-talkie", "台", "保卫处值班室", "BWC", 20, None),
    ("PHONE", "communication", "应急手机", "Emergency mobile phone", "部", "信访办公室", "XFB", 5, None),
    ("MEGAPHONE", "communication", "扩音器", "Megaphone", "个", "保卫处值班室", "BWC", 6, None),
    ("FIRST-AID", "medical", "急救包", "First-aid kit", "个", "校医院", "XYY", 30, 540),
    ("MEDICINE", "medical", "常用药品包", "Common medicine pack", "套", "校医院", "XYY", 20, 365),
    ("SIGN", "safety", "警示标识", "Warning sign", "块", "保卫处仓库", "BWC", 40, None),
    ("BARRIER", "safety", "隔离围栏", "Crowd-control barrier", "米", "保卫处仓库", "BWC", 200, None),
    ("VEST", "safety", "反光背心", "Reflective vest", "件", "保卫处仓库", "BWC", 50, None),
    ("WATER", "logistics", "饮用水", "Drinking water", "箱", "后勤仓库", "HQGLC", 100, 300),
    ("FOOD", "logistics", "应急食品", "Emergency food ration", "份", "后勤仓库", "HQGLC", 200, 180),
    ("TENT", "logistics", "帐篷", "Tent", "顶", "后勤仓库", "HQGLC", 4, None),
]


async def seed_demo_org(session: AsyncSession) -> None:
    """The demo university's chart, the four groups filled as the plan's §3 says, and a starter inventory.

    Idempotent: each unit, person, membership and item is created only when its code is missing.
    """
    await org.seed_default_groups(session)
    units = {u.code: u for u in await org.all_units(session, include_inactive=True)}
    for code, kind, name_zh, name_en, parent in DEMO_UNITS:
        if code not in units:
            units[code] = await org.create_unit(
                session,
                kind=org.UnitKind(kind),
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                parent_id=units[parent].id if parent else None,
                actor_id=None,
            )
    admin = await session.scalar(select(identity.Account.id).where(identity.Account.email == TENANT_ADMIN_EMAIL))
    roster = await org.group_roster(session)
    for number, name_zh, name_en, title_zh, title_en, unit, groups in DEMO_PEOPLE:
        found = await org.list_people(session, staff_number=number, limit=1)
        person = found[0] if found else None
        if person is None:
            person = await org.create_person(
                session,
                staff_number=number,
                name_zh=name_zh,
                name_en=name_en,
                title_zh=title_zh,
                title_en=title_en,
                unit_id=units[unit].id,
                account_id=admin if number == DEMO_ADMIN_PERSON else None,
                actor_id=None,
            )
        for key, role in groups:
            r = roster[key]
            if person.id not in (r.leader_person_id, *r.deputy_person_ids, *r.member_person_ids):
                await org.add_member(session, key, person_id=person.id, role=org.MemberRole(role), actor_id=None)
    existing = {s.code for s in await materials.list_items(session, active=None)}
    today = utcnow().date()
    for code, category, name_zh, name_en, measure, location, unit, quantity, shelf_days in DEMO_MATERIALS:
        if code in existing:
            continue
        await materials.create_item(
            session,
            category=materials.Category(category),
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            unit=measure,
            location=location,
            org_unit_id=units[unit].id,
            expires_on=today + dt.timedelta(days=shelf_days) if shelf_days else None,
            initial_quantity=quantity,
            actor_id=None,
        )
