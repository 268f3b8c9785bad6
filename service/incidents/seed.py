"""The demo university's closed drill incident, so that ``make run`` shows the whole flow.

Driven through the same services the API uses, by accounts linked to the group leaders of the demo chart (the
Party Secretary for the leadership, the Head of Publicity for information release, the Director of Logistics;
the demo admin is a member of the handling group). Idempotent: nothing happens once the university has an
incident. The plan is published first when the university has none in force.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import services
from service.incidents.models import Incident
from service.incidents.workflow import TaskAction
from tenants import identity, materials, org
from tenants.clock import utcnow
from tenants.plans import services as plans

# (staff number of the person, e-mail local part): accounts opened for the drill's actors.
DRILL_ACTORS = {
    "leadership": ("D0001", "secretary"),
    "info_release": ("D0014", "publicity"),
    "logistics": ("D0015", "logistics"),
}
# The release group's member who drafts and publishes the drill's bulletin: its leader approves it (four eyes).
DRILL_REPORTER = ("D0019", "reporter")


async def _actor(session: AsyncSession, number: str, local: str, domain: str) -> uuid.UUID:
    person = (await org.list_people(session, staff_number=number, limit=1))[0]
    if person.account_id is not None:
        return person.account_id
    account = await identity.create_account(
        session,
        email=f"{local}@{domain}",
        password=identity.generate_password(),
        role=identity.Role.staff,
        display_name=person.name_zh,
        actor_id=None,
    )
    await org.update_person(session, person.id, actor_id=None, account_id=account.id)
    return account.id


async def seed_demo_drill(session: AsyncSession, *, admin_id: uuid.UUID, domain: str) -> uuid.UUID | None:
    """One closed drill incident with tasks, measures, supplies, bulletins and an approved summary."""
    if await session.scalar(select(Incident.id).limit(1)):
        return None
    if await plans.published_version(session) is None:
        draft = await plans.ensure_default_draft(session) or next(
            (v for v in await plans.list_versions(session) if v.status == "draft"), None
        )
        if draft is None or await plans.publication_problems(session, draft):
            return None  # nothing publishable: the university is still editing its plan
        await plans.publish(session, draft.id, actor_id=admin_id)
    lead, info, logi = [await _actor(session, n, local, domain) for n, local in DRILL_ACTORS.values()]
    reporter = await _actor(session, *DRILL_REPORTER, domain)
    units = {u.code: u.id for u in await org.all_units(session)}
    water = next(i for i in await materials.list_items(session, active=True) if i.code == "WATER")

    incident = await services.report_incident(
        session,
        admin_id,
        services.IncidentReport(
            title="【演练】学生聚集反映宿舍停水",
            facts="演练场景：约八十名学生聚集在行政楼前，反映三号宿舍楼停水两天。",
            people_count=80,
            place="行政楼前广场",
            impact="行政楼出入受阻",
            people_groups=[services.PeopleGroup("students", 80, units["JSJXY"])],
            risk_categories=["group_event", "information_asymmetry"],
            drill=True,
        ),
    )
    iid = incident.id
    await services.assess(
        session,
        iid,
        services.Assessment(cause="供水管道爆裂，维修通知未送达学生", site_conditions="情绪激动，秩序尚可"),
        actor_id=admin_id,
        version=incident.version,
    )
    incident = await services.instruct(
        session,
        iid,
        activated=True,
        level=None,
        instruction="启动预案，各小组按职责处置",
        actor_id=lead,
        version=incident.version,
    )
    task = await services.assign_task(
        session, iid, services.TaskOrder("logistics", "送饮用水到现场", group_key="logistics"), actor_id=lead
    )
    for action, version in ((TaskAction.acknowledge, 1), (TaskAction.complete, 2)):
        await services.act_on_task(session, iid, task.id, action, actor_id=logi, version=version)
    await services.record_measure(
        session,
        iid,
        kind="communication",
        count=6,
        notes="与学生代表座谈，说明抢修进度",
        org_unit_id=units["XSC"],
        occurred_at=None,
        actor_id=admin_id,
    )
    request = await services.request_logistics(
        session, iid, category="water", quantity=10, item_id=water.id, notes=None, actor_id=admin_id
    )
    await services.fulfil_logistics(session, iid, request.id, item_id=None, version=1, actor_id=logi)
    await services.return_logistics(session, iid, request.id, quantity=4, actor_id=logi)
    bulletin = await services.draft_bulletin(
        session,
        iid,
        services.BulletinDraft(
            "campus",
            "关于三号宿舍楼停水的情况通报（演练）",
            "Water outage in Dormitory 3 (drill)",
            "学校已组织抢修，预计今晚恢复供水。",
            "Repairs are under way; water is expected back tonight.",
        ),
        actor_id=reporter,
    )
    await services.approve_bulletin(session, iid, bulletin.id, version=1, actor_id=info)
    await services.publish_bulletin(session, iid, bulletin.id, version=2, actor_id=reporter)
    incident = await services.end_response(
        session, iid, actor_id=admin_id, version=(await services.get_incident(session, iid)).version
    )
    items = [services.ChecklistItem(i["key"], True) for i in incident.checklist]
    incident = await services.update_checklist(session, iid, items, actor_id=admin_id, version=incident.version)
    incident = await services.submit_summary(
        session,
        iid,
        cause_analysis="维修通知仅在后勤网站发布，学生未及时获知。",
        lessons="停水等影响生活的事项须同时通过学院辅导员告知学生。",
        proposals=[
            services.Proposal("建立停水停电通知多渠道发布机制", units["HQGLC"], utcnow().date() + dt.timedelta(days=30))
        ],
        actor_id=admin_id,
        version=incident.version,
    )
    await services.approve_summary(session, iid, actor_id=lead, version=incident.version)
    return iid
