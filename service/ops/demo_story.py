"""What makes the demo university worth opening (``xinfang demo``, which ``make run`` runs): a year of history from
the synthetic generator, its reports computed, one incident mid-way through the plan's steps, an open early
warning, and an account for each role with a known password.

Every part goes through the same code as the real thing: the generator's ``load`` (the workflow table for every
petition step), ``analytics.reports.store.generate``, the incidents' and petitions' services, the early-warning
scan over a burst of real submissions. Each part is idempotent on its own, so a restart adds nothing: the history
loads only into a university without petitions, the reports only when there are none, the incident only when no
real (non-drill) incident exists, the warning only when there is none; accounts are found by email, and a
password already in the credentials file is kept.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.reports import periods
from analytics.reports import store as reports
from analytics.warnings import services as warnings
from service.incidents import services as incidents
from service.incidents.models import Incident
from service.incidents.workflow import TaskAction
from service.ops.synthetic.generate import Spec, describe, load
from service.petitions import services as petitions
from service.petitions.models import Petition
from service.petitions.workflow import Action
from service.reception import models as _reception  # noqa: F401  (a petition's foreign key names its tables)
from tenants import identity, materials, org, tenancy
from tenants.clock import today, utcnow
from tenants.db import Database
from tenants.identity import Principal, Role
from tenants.plans.models import PlanVersion
from tenants.plans.services import published_version

log = structlog.get_logger("xinfang.demo")

# A university of about 30,000 students receives a few thousand petitions a year.
HISTORY_PETITIONS = 3_000
HISTORY_INCIDENTS = 12
HISTORY_SEED = 15
BUREAU_EMAIL = "bureau@xinfang.local"


@dataclass(frozen=True)
class DemoAccount:
    key: str
    local: str  # the e-mail's local part (``@demo.edu.cn``); the bureau viewer's is a platform e-mail
    role: Role
    staff_number: str | None  # the person of the demo chart the account belongs to
    who_zh: str
    who_en: str


# One account per role of the product (the tenant admin, the Petition Office's director, exists already).
DEMO_ACCOUNTS = (
    DemoAccount("petition_officer", "officer", Role.petition_officer, None, "信访办公室工作人员", "Petition officer"),
    DemoAccount(
        "unit_staff", "jsjxy", Role.staff, "D0111", "计算机学院学工负责人", "Unit staff, College of Computer Science"
    ),
    DemoAccount(
        "leadership_leader", "secretary", Role.staff, "D0001", "领导小组组长（党委书记）", "Leadership group leader"
    ),
    DemoAccount(
        "handling_leader", "studentaffairs", Role.staff, "D0011", "处置组组长（学生处处长）", "Handling group leader"
    ),
    DemoAccount(
        "info_release_leader", "publicity", Role.staff, "D0014", "信息发布组组长（宣传部部长）", "Info release leader"
    ),
    DemoAccount(
        "info_release_member", "reporter", Role.staff, "D0019", "信息发布组成员（记者）", "Info release member"
    ),
    DemoAccount(
        "logistics_leader", "logistics", Role.staff, "D0015", "后勤保障组组长（后勤处处长）", "Logistics group leader"
    ),
    DemoAccount("student", "student", Role.petitioner, None, "学生（信访人）", "Student (petitioner)"),
    DemoAccount("bureau_viewer", "bureau", Role.bureau_viewer, None, "省信访局查看人员", "Provincial bureau viewer"),
)


async def seed_story(
    db: Database, tenant: tenancy.Tenant, admin_id: uuid.UUID, known: dict[str, Any]
) -> dict[str, Any]:
    """Seed what is missing of the story; returns the credentials to add (``demo_accounts``, the student's codes)
    and how long each part took (``seconds``)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    accounts = await seed_accounts(db, tenant, known.get("demo_accounts") or {})
    timings["accounts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    await seed_history(db, tenant.id, admin_id)
    timings["history"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    await seed_reports(db, tenant.id)
    timings["reports"] = time.perf_counter() - t0
    ids = {key: uuid.UUID(a["id"]) for key, a in accounts.items() if a.get("id")}
    t0 = time.perf_counter()
    async with db.transaction(tenant.id) as session:
        await seed_active_incident(session, ids)
    timings["incident"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    await seed_warning(db, tenant.id)
    timings["warning"] = time.perf_counter() - t0
    out: dict[str, Any] = {"demo_accounts": {k: {n: v for n, v in a.items() if n != "id"} for k, a in accounts.items()}}
    t0 = time.perf_counter()
    if not known.get("student_lookup_code"):
        async with db.transaction(tenant.id) as session:
            out.update(await seed_student_case(session, db, ids))
    timings["student_case"] = time.perf_counter() - t0
    log.info("demo.seeded", **{k: round(v, 2) for k, v in timings.items()})
    return out


# --- accounts ----------------------------------------------------------------------------------------------------


async def seed_accounts(db: Database, tenant: tenancy.Tenant, known: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each demo account with its password: created (linked to its person of the chart) when missing; an existing
    account whose password is not in ``known`` gets a new one. Demo passwords are not issued ones: no forced
    change at first sign-in, so the printed password works as it is."""
    domain = f"{tenant.slug}.edu.cn"
    out: dict[str, dict[str, Any]] = {}
    async with db.transaction(tenant.id) as session:
        for spec in DEMO_ACCOUNTS:
            if spec.role is Role.bureau_viewer:
                continue
            email = f"{spec.local}@{domain}"
            password = (known.get(spec.key) or {}).get("password")
            person = None
            if spec.staff_number:
                person = (await org.list_people(session, staff_number=spec.staff_number, limit=1))[0]
            account = await session.scalar(select(identity.Account).where(identity.Account.email == email))
            if account is None and person is not None and person.account_id is not None:
                account = await identity.get_account(session, person.account_id)  # opened by the demo drill
            if account is None:
                password = password or identity.generate_password()
                account = await identity.create_account(
                    session,
                    email=email,
                    password=password,
                    role=spec.role,
                    display_name=person.name_zh if person else spec.who_zh,
                    actor_id=None,
                    must_change_password=False,
                )
            elif not password:
                password = identity.generate_password()
                account.password_hash = await identity.hash_password_async(password)
                account.must_change_password = False
            if person is not None and person.account_id != account.id:
                await org.update_person(session, person.id, actor_id=None, account_id=account.id)
            out[spec.key] = _entry(spec, account.email, password, account.id)
    bureau = next(s for s in DEMO_ACCOUNTS if s.role is Role.bureau_viewer)
    password = (known.get(bureau.key) or {}).get("password")
    async with db.transaction() as session:
        viewer = await session.scalar(
            select(identity.PlatformAccount).where(identity.PlatformAccount.email == BUREAU_EMAIL)
        )
        if viewer is None:
            password = password or identity.generate_password()
            viewer = await identity.create_platform_account(
                session,
                email=BUREAU_EMAIL,
                password=password,
                role=Role.bureau_viewer,
                province_code=tenant.province_code,
            )
        elif not password:
            password = identity.generate_password()
            viewer.password_hash = await identity.hash_password_async(password)
            viewer.must_change_password = False
        out[bureau.key] = _entry(bureau, viewer.email, password, viewer.id)
    return out


def _entry(spec: DemoAccount, email: str, password: str, account_id: uuid.UUID) -> dict[str, Any]:
    return {
        "email": email,
        "password": password,
        "role": spec.role.value,
        "who": spec.who_zh,
        "who_en": spec.who_en,
        "id": str(account_id),
    }


# --- a year of history, and its reports -------------------------------------------------------------------------------


async def seed_history(
    db: Database,
    tenant_id: uuid.UUID,
    admin_id: uuid.UUID,
    *,
    petitions_count: int = HISTORY_PETITIONS,
    incidents_count: int = HISTORY_INCIDENTS,
) -> bool:
    """Load a year of generated petitions and incident events up to yesterday (the university's local days) into
    a university that has no petitions yet; returns whether it did. The university then counts as onboarded, and
    its plan as in force, from the start of the history (as for every generated university), so the scheduler's
    report sweep covers the periods generated."""
    async with db.transaction(tenant_id) as session:
        if await session.scalar(select(Petition.id).limit(1)) is not None:
            return False
        tenant = await session.get(tenancy.Tenant, tenant_id)
        assert tenant is not None
        zone = tenant.zone
        spec = Spec(
            tenants=1, petitions=petitions_count, incidents=incidents_count, seed=HISTORY_SEED, until=today(zone)
        )
        start, _ = spec.window()
        onboarded = dt.datetime(start.year, start.month, start.day, tzinfo=zone)
        shape = await describe(session, index=0, zone=zone, staff_id=admin_id)
        tenant.created_at = min(tenant.created_at, onboarded)
        version = await published_version(session)
        if version is not None and version.published_at and version.published_at > onboarded:
            since = onboarded - dt.timedelta(days=1)
            await session.execute(update(PlanVersion).where(PlanVersion.id == version.id).values(published_at=since))
    loaded = await load(db, tenant_id, shape, spec, petitions_count, incidents_count)
    log.info("demo.history", petitions=loaded.petitions, events=loaded.events)
    return True


def report_periods(onboarded: dt.date, today_: dt.date) -> list[tuple[periods.Kind, dt.date]]:
    """Every closed month and quarter since ``onboarded``, and the last closed year: what the demo computes."""
    out: list[tuple[periods.Kind, dt.date]] = []
    for kind in ("monthly", "quarterly"):
        start = periods.last_closed(kind, today_)
        while start >= onboarded:
            out.append((kind, start))
            start = periods.last_closed(kind, start)
    out.append(("yearly", periods.last_closed("yearly", today_)))
    return sorted(out)


async def seed_reports(db: Database, tenant_id: uuid.UUID) -> int:
    """Compute the demo's reports (each in its own transaction, as the report job does) when it has none."""
    async with db.transaction(tenant_id) as session:
        if await session.scalar(select(func.count()).select_from(reports.Report)):
            return 0
        tenant = await session.get(tenancy.Tenant, tenant_id)
        assert tenant is not None
        zone = tenant.zone
        onboarded = tenant.created_at.astimezone(zone).date()
    done = 0
    for kind, start in report_periods(onboarded, today(zone)):
        async with db.transaction(tenant_id) as session:
            await reports.generate(session, kind, start)
        done += 1
    return done


# --- one incident mid-way through its steps ---------------------------------------------------------------------------

ACTIVE_TITLE = "学生聚集反映食堂饭菜价格上涨"


async def seed_active_incident(session: AsyncSession, ids: dict[str, uuid.UUID]) -> uuid.UUID | None:
    """A real (not drill) incident in its response: reported, assessed and instructed; a task acknowledged, one
    declined and reassigned, one for the logistics group under way; a measure; supplies asked for and not yet
    delivered; one bulletin published (drafted by a member, approved by the group's leader) and a second one
    waiting for approval. Nothing happens when a real incident exists."""
    if await session.scalar(select(Incident.id).where(Incident.drill.is_(False)).limit(1)) is not None:
        return None
    handling, leader = ids["handling_leader"], ids["leadership_leader"]
    info, reporter, logistics = ids["info_release_leader"], ids["info_release_member"], ids["logistics_leader"]
    units = {u.code: u.id for u in await org.all_units(session)}
    incident = await incidents.report_incident(
        session,
        handling,
        incidents.IncidentReport(
            title=ACTIVE_TITLE,
            facts="约六十名学生聚集在第二食堂门前，反映本学期饭菜价格上涨过快，要求公开成本。",
            people_count=60,
            place="第二食堂门前",
            impact="午餐时段食堂出入受阻",
            people_groups=[incidents.PeopleGroup("students", 60, units["JSJXY"])],
            risk_categories=["group_event"],
        ),
    )
    iid = incident.id
    incident = await incidents.assess(
        session,
        iid,
        incidents.Assessment(cause="食堂调价未提前公示，学生不了解原因", site_conditions="情绪较为激动，秩序基本可控"),
        actor_id=handling,
        version=incident.version,
    )
    incident = await incidents.instruct(
        session,
        iid,
        activated=True,
        level=None,
        instruction="启动预案：处置组现场疏导，后勤保障组公开成本并保障供应，信息发布组及时通报",
        actor_id=leader,
        version=incident.version,
    )
    calm = await incidents.assign_task(
        session,
        iid,
        incidents.TaskOrder("response", "到场疏导学生，收集诉求", org_unit_id=units["XSC"]),
        actor_id=leader,
    )
    await incidents.act_on_task(session, iid, calm.id, TaskAction.acknowledge, actor_id=handling, version=1)
    college = await incidents.assign_task(
        session,
        iid,
        incidents.TaskOrder("response", "通知本院学生代表参加座谈", org_unit_id=units["JSJXY"]),
        actor_id=leader,
    )
    await incidents.act_on_task(
        session,
        iid,
        college.id,
        TaskAction.decline,
        actor_id=ids["unit_staff"],
        version=1,
        reason_code="not_our_remit",
        note="聚集学生多来自经济管理学院",
    )
    await incidents.reassign_task(
        session,
        iid,
        college.id,
        incidents.TaskOrder("response", "通知本院学生代表参加座谈", org_unit_id=units["JGXY"]),
        actor_id=leader,
    )
    supply = await incidents.assign_task(
        session,
        iid,
        incidents.TaskOrder("logistics", "公开本学期食材成本，保障午餐供应", group_key="logistics"),
        actor_id=leader,
    )
    await incidents.act_on_task(session, iid, supply.id, TaskAction.acknowledge, actor_id=logistics, version=1)
    await incidents.record_measure(
        session,
        iid,
        kind="communication",
        count=3,
        notes="与学生代表初步沟通，解释调价原因",
        org_unit_id=units["XSC"],
        occurred_at=None,
        actor_id=handling,
    )
    water = next((i for i in await materials.list_items(session, active=True) if i.code == "WATER"), None)
    await incidents.request_logistics(
        session,
        iid,
        category="water",
        quantity=10,
        item_id=water.id if water else None,
        notes="现场学生饮用水",
        actor_id=handling,
    )
    first = await incidents.draft_bulletin(
        session,
        iid,
        incidents.BulletinDraft(
            "campus",
            "关于第二食堂学生反映饭菜价格问题的情况通报",
            "On students' concerns about prices at Canteen 2",
            "学校已启动应急预案，处置组正在现场与学生沟通，后勤处将公开本学期食材成本。",
            "The university has activated its plan; staff are meeting students and the costs will be published.",
        ),
        actor_id=reporter,
    )
    await incidents.approve_bulletin(session, iid, first.id, version=1, actor_id=info)
    await incidents.publish_bulletin(session, iid, first.id, version=2, actor_id=info)
    await incidents.draft_bulletin(
        session,
        iid,
        incidents.BulletinDraft(
            "campus",
            "第二食堂情况续报",
            "Canteen 2: update",
            "座谈会将于今天下午三点在学生活动中心举行。",
            "A meeting with student representatives is at 3 pm today in the Student Centre.",
        ),
        actor_id=reporter,
    )
    return iid


# --- an open early warning --------------------------------------------------------------------------------------------

SURGE_SIZE = 12


async def seed_warning(db: Database, tenant_id: uuid.UUID) -> int:
    """A burst of canteen petitions today (online, from students), then the early-warning scan, which raises the
    surge against the year's baseline; returns how many warnings were raised. Nothing when any warning exists."""
    async with db.transaction(tenant_id) as session:
        if await session.scalar(select(warnings.EarlyWarning.id).limit(1)) is not None:
            return 0
        for i in range(SURGE_SIZE):
            await petitions.submit(
                session,
                db,
                petitions.Submission(
                    kind="complaint",
                    category="canteen",
                    subject="第二食堂饭菜价格上涨过快",
                    content=f"本学期第二食堂多个窗口价格上涨，午餐一份普遍贵了三到五元，希望学校公开成本（{i + 1}）。",
                    channel="mobile" if i % 2 else "online",
                    anonymous=True,
                    location_text="第二食堂",
                ),
                principal=identity.ANONYMOUS,
            )
    async with db.transaction(tenant_id) as session:
        raised = await warnings.scan(session, now=utcnow() + dt.timedelta(seconds=1))
    return len(raised)


# --- the student's own case, replied, for the status page -------------------------------------------------------------


async def seed_student_case(session: AsyncSession, db: Database, ids: dict[str, uuid.UUID]) -> dict[str, str]:
    """The demo student's petition, accepted by the office, assigned to the college and replied by its staff, so
    the status page (tracking number + lookup code) shows a reply to rate and a review to ask for."""
    student = await identity.get_account(session, ids["student"])
    officer = await identity.get_account(session, ids["petition_officer"])
    staff = await identity.get_account(session, ids["unit_staff"])
    done = await petitions.submit(
        session,
        db,
        petitions.Submission(
            kind="complaint",
            category="teaching",
            subject="数据结构课程实验课安排冲突",
            content="本学期数据结构实验课与专业必修课时间冲突，多名同学无法按时参加实验，希望学院调整安排。",
            channel="online",
            location_text="第一教学楼",
        ),
        principal=identity.account_principal(student),
    )
    assert done.petition is not None
    pid = done.petition.id
    units = {u.code: u.id for u in await org.all_units(session)}
    steps: list[tuple[Principal, Action, petitions.ActionInput]] = [
        (identity.account_principal(officer), Action.accept, petitions.ActionInput()),
        (identity.account_principal(officer), Action.assign, petitions.ActionInput(org_unit_id=units["JSJXY"])),
        (identity.account_principal(staff), Action.start, petitions.ActionInput()),
        (
            identity.account_principal(staff),
            Action.reply,
            petitions.ActionInput(
                outcome="supported",
                opinion="经核实，学院已将实验课调整至周四下午，自下周起执行，请留意教务系统通知。",
            ),
        ),
    ]
    for principal, action, fields in steps:
        petition = await petitions.get_petition(session, pid)
        await petitions.act(session, pid, action, fields, principal=principal, version=petition.version)
    return {"student_tracking_number": done.petition.tracking_number, "student_lookup_code": done.lookup_code}
