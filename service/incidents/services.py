"""Incident business rules: report, assess, instruct, tasks, measures, logistics, bulletins, cleanup and summary.

Keyword-only functions that take the session. Every action is checked against the workflow table
(``workflow.check``) with the acting account's group roles in the pinned plan version, journaled in the
caller's transaction, and guarded against lost updates: incident-level actions name the incident version they
were made on, task/bulletin/logistics actions the version of their row (409 with the current state otherwise).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    AUDIENCES,
    LOGISTICS_CATEGORIES,
    ActionItem,
    Bulletin,
    Incident,
    IncidentPetition,
    IncidentStep,
    LogisticsRequest,
    Measure,
    Task,
)
from service.incidents.workflow import Action, State, TaskAction, TaskState
from service.petitions import scope as petition_scope
from service.petitions.models import EscalatedPetition, EscalationRequest, Petition
from service.petitions.services import require_handled, tenant_zone
from tenants import journal, materials, org, training
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.identity import Principal
from tenants.ids import new_id
from tenants.plans import rules
from tenants.plans.content import STEP_KEYS, PlanContent
from tenants.plans.services import content_of, get_version, published_version

# Measure kinds of the contract, and the seed plan's measure keys they stand for.
MEASURE_KINDS = {
    "communication_coordination": "communication",
    "keeping_order": "order",
    "psychological_support": "psychological",
}
# Which inventory categories may meet a logistics request (a venue is arranged, not issued).
MATERIAL_CATEGORIES = {
    "water": ("logistics",),
    "medical": ("medical",),
    "materials": ("communication", "safety", "logistics", "custom"),
    "venue": (),
}
DEFAULT_CHECKLIST = [
    ("site_cleared", "现场已清理，环境恢复正常", "Site cleared and back to normal"),
    ("order_restored", "校园秩序已恢复", "Campus order restored"),
    ("materials_returned", "物资已归还或核销", "Materials returned or written off"),
    ("people_followed_up", "相关人员已回访", "People involved followed up"),
]


# --- plan and people ----------------------------------------------------------------------------------------------

# Published plan versions never change: their content is cached per process by version id.
_contents: dict[uuid.UUID, PlanContent] = {}


async def plan_of(session: AsyncSession, incident: Incident) -> PlanContent:
    content = _contents.get(incident.plan_version_id)
    if content is None:
        content = _contents[incident.plan_version_id] = content_of(await get_version(session, incident.plan_version_id))
    return content


def step_groups(content: PlanContent) -> dict[str, str | None]:
    return {s.key: s.responsible_group for s in content.steps}


_RANK = {"leader": 0, "deputy": 1, "member": 2}


async def group_roles(session: AsyncSession, account_id: uuid.UUID | None) -> dict[str, str]:
    """The emergency groups the account's (active) people belong to, with the highest role held in each."""
    if account_id is None:
        return {}
    rows = await session.execute(
        select(org.EmergencyGroup.key, org.GroupMember.role)
        .join(org.GroupMember, org.GroupMember.group_id == org.EmergencyGroup.id)
        .join(org.Person, org.Person.id == org.GroupMember.person_id)
        .where(org.Person.account_id == account_id, org.Person.active)
    )
    roles: dict[str, str] = {}
    for key, role in rows.all():
        if key not in roles or _RANK[role] < _RANK[roles[key]]:
            roles[key] = role
    return roles


async def authorize(session: AsyncSession, incident: Incident, action: Action, actor_id: uuid.UUID | None) -> State:
    """The state ``action`` leads to; 403 outside the responsible group, 409 when the state refuses it."""
    content = await plan_of(session, incident)
    return workflow.check(incident.state, action, await group_roles(session, actor_id), step_groups(content))


def _stale(kind: str, current: int, given: int | None, state: str) -> None:
    if given is not None and given != current:
        raise Conflict(f"the {kind} changed since version {given}", code="stale-version", version=current, state=state)


def _drill(incident: Incident) -> dict[str, Any]:
    return {"drill": incident.drill}


# --- reading ------------------------------------------------------------------------------------------------------


async def get_incident(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    incident = await session.scalar(query.with_for_update() if lock else query)
    if incident is None:
        raise NotFound("no such incident")
    return incident


async def list_incidents(
    session: AsyncSession, *, states: Sequence[str] | None = None, drill: bool | None = None, limit: int = 100
) -> list[Incident]:
    query = select(Incident).order_by(Incident.reported_at.desc(), Incident.id).limit(limit)
    if states:
        query = query.where(Incident.state.in_(list(states)))
    if drill is not None:
        query = query.where(Incident.drill.is_(drill))
    return list((await session.scalars(query)).all())


async def _children(session: AsyncSession, model: Any, incident_id: uuid.UUID, order: Any) -> list[Any]:
    return list((await session.scalars(select(model).where(model.incident_id == incident_id).order_by(*order))).all())


@dataclass
class Detail:
    incident: Incident
    petition_ids: list[uuid.UUID]
    steps: list[IncidentStep]
    tasks: list[Task]
    measures: list[Measure]
    logistics: list[LogisticsRequest]
    bulletins: list[Bulletin]
    action_items: list[ActionItem]
    # Stock that could meet each open logistics request now (its shortfall shows at once).
    available: dict[uuid.UUID, int | None] = field(default_factory=dict)


async def detail(session: AsyncSession, incident_id: uuid.UUID, viewer: Principal | None = None) -> Detail:
    """The incident with everything in it; its linked petitions only those ``viewer`` may see (the petitions'
    scope policy), all of them without a viewer (jobs, the summary)."""
    incident = await get_incident(session, incident_id)
    linked = select(IncidentPetition.petition_id).where(IncidentPetition.incident_id == incident_id)
    if viewer is not None:
        linked = linked.join(Petition, Petition.id == IncidentPetition.petition_id)
        linked = linked.where(petition_scope.visible(viewer))
    petitions = list((await session.scalars(linked.order_by(IncidentPetition.petition_id))).all())
    steps = await _children(session, IncidentStep, incident_id, [IncidentStep.due_at.nulls_last()])
    order = {k: i for i, k in enumerate(STEP_KEYS)}
    steps.sort(key=lambda s: order.get(s.step, 99))
    logistics = await _children(
        session, LogisticsRequest, incident_id, [LogisticsRequest.requested_at, LogisticsRequest.id]
    )
    return Detail(
        incident,
        petitions,
        steps,
        await _children(session, Task, incident_id, [Task.assigned_at, Task.id]),
        await _children(session, Measure, incident_id, [Measure.occurred_at, Measure.id]),
        logistics,
        await _children(session, Bulletin, incident_id, [Bulletin.drafted_at, Bulletin.id]),
        await _children(session, ActionItem, incident_id, [ActionItem.position]),
        {r.id: await available_for(session, r.category, r.item_id) for r in logistics if r.state == "requested"},
    )


async def incidents_of_petition(session: AsyncSession, petition_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(IncidentPetition.incident_id).where(IncidentPetition.petition_id == petition_id)
    )
    return list(rows.all())


# --- steps --------------------------------------------------------------------------------------------------------


async def _step(session: AsyncSession, incident: Incident, key: str) -> IncidentStep:
    row = await session.get(IncidentStep, (require_tenant(), incident.id, key))
    assert row is not None, key
    return row


async def _start_step(session: AsyncSession, incident: Incident, key: str, now: datetime, actor_id: Any) -> None:
    row = await _step(session, incident, key)
    if row.started_at is None:
        row.started_at = now
        await journal.record(
            session, "incident.step_started", actor_id=actor_id, incident_id=incident.id, step=key, **_drill(incident)
        )


async def _complete_step(session: AsyncSession, incident: Incident, key: str, now: datetime, actor_id: Any) -> None:
    await _start_step(session, incident, key, now, actor_id)
    row = await _step(session, incident, key)
    if row.completed_at is None:
        row.completed_at = now
        await journal.record(
            session,
            "incident.step_completed",
            actor_id=actor_id,
            incident_id=incident.id,
            step=key,
            target_minutes=row.target_minutes,
            minutes=int((now - incident.reported_at).total_seconds() // 60),
            **_drill(incident),
        )


def _touch(incident: Incident, now: datetime) -> None:
    incident.version += 1
    incident.updated_at = now


# --- 1. report ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleGroup:
    kind: str  # students / staff / other
    count: int
    org_unit_id: uuid.UUID | None = None


@dataclass(frozen=True)
class IncidentReport:
    title: str
    facts: str
    people_count: int
    place: str | None = None
    impact: str | None = None
    people_groups: Sequence[PeopleGroup] = ()
    risk_categories: Sequence[str] = ()
    drill: bool = False


async def report_incident(
    session: AsyncSession,
    actor: uuid.UUID | None,
    data: IncidentReport,
    *,
    petition_ids: Sequence[uuid.UUID] = (),
    warning_id: uuid.UUID | None = None,
    escalation_id: uuid.UUID | None = None,
    principal: Principal | None = None,
) -> Incident:
    """Open an incident under the plan version in force now (``actor``: the reporting account, if any).

    With ``principal`` (a request's caller) every linked petition, those of the escalation request included, must
    be in the caller's handling scope: otherwise 404, the same answer as for an unknown id.

    Linked petitions (directly, or those of an escalation request) make the source ``petitions``; a
    ``warning_id`` makes it ``warning``. Journals ``incident.reported`` (which notifies the handling group through
    the journal's webhooks) and starts the assessment step.
    """
    if principal is not None:  # before anything else: out of scope answers like an unknown id, whatever the state
        await require_handled(session, list(petition_ids), principal)
    version = await published_version(session)
    if version is None:
        raise Conflict("no emergency plan is in force: publish one first", code="no-plan")
    content = content_of(version)
    _contents.setdefault(version.id, content)
    errors: list[dict[str, str]] = []
    known = {r.key for r in content.risk_categories}
    for i, cat in enumerate(data.risk_categories):
        if cat not in known:
            errors.append({"field": f"risk_categories[{i}]", "message": f"not a risk category of the plan: {cat}"})
    units = {g.org_unit_id for g in data.people_groups if g.org_unit_id}
    found = (
        set((await session.scalars(select(org.OrgUnit.id).where(org.OrgUnit.id.in_(units)))).all()) if units else set()
    )
    for i, g in enumerate(data.people_groups):
        if g.org_unit_id and g.org_unit_id not in found:
            errors.append({"field": f"people_groups[{i}].org_unit_id", "message": "no such org unit"})
    if sum(g.count for g in data.people_groups) > data.people_count:
        errors.append({"field": "people_groups", "message": "the groups add up to more than people_count"})
    ids = list(dict.fromkeys(petition_ids))
    if escalation_id is not None:
        escalation = await session.scalar(
            select(EscalationRequest).where(EscalationRequest.id == escalation_id).with_for_update()
        )
        if escalation is None:
            raise NotFound("no such escalation request")
        if escalation.incident_id is not None:
            raise Conflict(
                "this escalation already opened an incident", code="escalated", incident_id=str(escalation.incident_id)
            )
        members = await session.scalars(
            select(EscalatedPetition.petition_id).where(EscalatedPetition.escalation_id == escalation_id)
        )
        ids = list(dict.fromkeys([*ids, *members.all()]))
    if principal is not None:
        await require_handled(session, ids, principal)
    elif ids:
        present = set((await session.scalars(select(Petition.id).where(Petition.id.in_(ids)))).all())
        missing = [str(i) for i in ids if i not in present]
        if missing:
            errors.append({"field": "petition_ids", "message": f"not found: {missing}"})
    if errors:
        raise Invalid("the incident report is invalid", errors=errors)
    now = utcnow()
    source = "warning" if warning_id else "petitions" if ids else "staff"
    incident = Incident(
        id=new_id(),
        title=data.title,
        facts=data.facts,
        place=data.place,
        impact=data.impact,
        people_count=data.people_count,
        people_groups=[
            {"kind": g.kind, "count": g.count, "org_unit_id": str(g.org_unit_id) if g.org_unit_id else None}
            for g in data.people_groups
        ],
        risk_categories=list(dict.fromkeys(data.risk_categories)),
        drill=data.drill,
        source=source,
        warning_id=warning_id,
        plan_version_id=version.id,
        plan_number=version.number,
        state=State.reported,
        version=1,
        public_token=secrets.token_urlsafe(18),
        reported_at=now,
        reported_by=actor,
        injuries=0,
        media_attention=False,
        safety_threat=False,
        checklist=[],
        updated_at=now,
    )
    session.add(incident)
    await session.flush()
    for step in content.steps:
        target = step.target_minutes
        session.add(
            IncidentStep(
                incident_id=incident.id,
                step=step.key,
                target_minutes=target,
                due_at=now + timedelta(minutes=target) if target is not None else None,
            )
        )
    session.add_all(IncidentPetition(incident_id=incident.id, petition_id=p, escalation_id=escalation_id) for p in ids)
    if escalation_id is not None:
        escalation.incident_id = incident.id
    await session.flush()
    await journal.record(
        session,
        "incident.reported",
        actor_id=actor,
        incident_id=incident.id,
        subject_id=warning_id,
        source=source,
        plan_number=version.number,
        people_count=data.people_count,
        risk_categories=list(incident.risk_categories),
        petitions=len(ids),
        **_drill(incident),
    )
    await _complete_step(session, incident, "report", now, actor)
    await _start_step(session, incident, "assessment", now, actor)
    await session.flush()
    return incident


# --- 2. assessment ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    cause: str
    site_conditions: str
    people_count: int | None = None
    injuries: int = 0
    duration_minutes: int = 0
    media_attention: bool = False
    safety_threat: bool = False
    risk_categories: Sequence[str] | None = None
    level: str | None = None
    reason: str | None = None


def suggestion(content: PlanContent, incident: Incident, a: Assessment) -> rules.Suggestion | None:
    facts = rules.Facts(
        participants=a.people_count if a.people_count is not None else incident.people_count,
        injuries=a.injuries,
        duration_minutes=a.duration_minutes,
        categories=frozenset(a.risk_categories if a.risk_categories is not None else incident.risk_categories),
        media_attention=a.media_attention,
        safety_threat=a.safety_threat,
    )
    return rules.suggest_level(content.severity_levels, facts)


async def assess(
    session: AsyncSession, incident_id: uuid.UUID, a: Assessment, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    """Record the handling group's assessment; the plan suggests a level, the assessor confirms or overrides it
    (an override needs a reason)."""
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.assess, actor_id)
    _stale("incident", incident.version, version, incident.state)
    content = await plan_of(session, incident)
    suggested = suggestion(content, incident, a)
    codes = {lv.code for lv in content.severity_levels}
    level = a.level or (suggested.code if suggested else None)
    errors = []
    if level is None:
        errors.append({"field": "level", "message": "the plan suggests no level for these facts: choose one"})
    elif level not in codes:
        errors.append({"field": "level", "message": f"one of {sorted(codes)}"})
    overridden = suggested is None or level != suggested.code
    if overridden and not (a.reason and a.reason.strip()):
        errors.append({"field": "reason", "message": "say why the suggested level is overridden"})
    known = {r.key for r in content.risk_categories}
    for i, cat in enumerate(a.risk_categories or ()):
        if cat not in known:
            errors.append({"field": f"risk_categories[{i}]", "message": f"not a risk category of the plan: {cat}"})
    if errors:
        raise Invalid("the assessment is invalid", errors=errors)
    now = utcnow()
    incident.cause, incident.site_conditions = a.cause, a.site_conditions
    if a.people_count is not None:
        incident.people_count = a.people_count
    if a.risk_categories is not None:
        incident.risk_categories = list(dict.fromkeys(a.risk_categories))
    incident.injuries, incident.media_attention, incident.safety_threat = a.injuries, a.media_attention, a.safety_threat
    incident.suggested_level = suggested.code if suggested else None
    incident.level, incident.level_reason = level, (a.reason if overridden else None)
    incident.assessed_at, incident.state = now, nxt
    _touch(incident, now)
    await journal.record(
        session,
        "incident.assessed",
        actor_id=actor_id,
        incident_id=incident.id,
        suggested_level=incident.suggested_level,
        level=level,
        overridden=overridden,
        **_drill(incident),
    )
    await _complete_step(session, incident, "assessment", now, actor_id)
    await _start_step(session, incident, "instruction", now, actor_id)
    await session.flush()
    return incident


# --- 3. instruction and tasks ---------------------------------------------------------------------------------------


async def instruct(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    activated: bool,
    level: str | None,
    instruction: str,
    actor_id: uuid.UUID | None,
    version: int,
) -> Incident:
    """The leadership group decides whether to activate the plan and at which level (default: the assessed one)."""
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.instruct, actor_id)
    _stale("incident", incident.version, version, incident.state)
    codes = {lv.code for lv in (await plan_of(session, incident)).severity_levels}
    if level is not None and level not in codes:
        raise Invalid("unknown level", errors=[{"field": "level", "message": f"one of {sorted(codes)}"}])
    now = utcnow()
    incident.activated, incident.instruction = activated, instruction
    incident.level = (level or incident.level) if activated else None
    incident.instructed_at, incident.state = now, nxt
    _touch(incident, now)
    await journal.record(
        session,
        "incident.instructed",
        actor_id=actor_id,
        incident_id=incident.id,
        activated=activated,
        level=incident.level,
        **_drill(incident),
    )
    await _complete_step(session, incident, "instruction", now, actor_id)
    for key in ("response", "logistics", "information_release"):
        await _start_step(session, incident, key, now, actor_id)
    await session.flush()
    return incident


@dataclass(frozen=True)
class TaskOrder:
    step: str
    duty: str
    org_unit_id: uuid.UUID | None = None
    group_key: str | None = None
    due_at: datetime | None = None


async def _check_assignee(session: AsyncSession, order: TaskOrder) -> None:
    errors = []
    if (order.org_unit_id is None) == (order.group_key is None):
        errors.append({"field": "org_unit_id", "message": "give exactly one of org_unit_id and group_key"})
    elif order.org_unit_id is not None:
        if not await session.scalar(
            select(org.OrgUnit.id).where(org.OrgUnit.id == order.org_unit_id, org.OrgUnit.active)
        ):
            errors.append({"field": "org_unit_id", "message": "no such active org unit"})
    elif not await session.scalar(select(org.EmergencyGroup.id).where(org.EmergencyGroup.key == order.group_key)):
        errors.append({"field": "group_key", "message": "no such emergency group"})
    if order.step not in STEP_KEYS:
        errors.append({"field": "step", "message": f"one of {list(STEP_KEYS)}"})
    if errors:
        raise Invalid("the task is invalid", errors=errors)


async def _issue_task(
    session: AsyncSession, incident: Incident, order: TaskOrder, actor_id: Any, reassigned_from: uuid.UUID | None
) -> Task:
    await _check_assignee(session, order)
    now = utcnow()
    # The due time comes from the plan's target for the task's step, unless the instruction sets one.
    due = order.due_at or (await _step(session, incident, order.step)).due_at
    task = Task(
        id=new_id(),
        incident_id=incident.id,
        step=order.step,
        org_unit_id=order.org_unit_id,
        group_key=order.group_key,
        duty=order.duty,
        due_at=due,
        state=TaskState.assigned,
        version=1,
        reassigned_from=reassigned_from,
        assigned_by=actor_id,
        assigned_at=now,
    )
    session.add(task)
    await session.flush()
    await journal.record(
        session,
        "task.assigned",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=task.id,
        org_unit_id=task.org_unit_id,
        step=task.step,
        assignee="unit" if task.org_unit_id else "group",
        due_at=due.isoformat() if due else None,
        reassigned_from=str(reassigned_from) if reassigned_from else None,
        **_drill(incident),
    )
    return task


async def assign_task(
    session: AsyncSession, incident_id: uuid.UUID, order: TaskOrder, *, actor_id: uuid.UUID | None
) -> Task:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.assign_task, actor_id)
    return await _issue_task(session, incident, order, actor_id, None)


async def get_task(session: AsyncSession, incident_id: uuid.UUID, task_id: uuid.UUID, *, lock: bool = False) -> Task:
    query = select(Task).where(Task.id == task_id, Task.incident_id == incident_id)
    task = await session.scalar(query.with_for_update() if lock else query)
    if task is None:
        raise NotFound("no such task")
    return task


async def reassign_task(
    session: AsyncSession, incident_id: uuid.UUID, task_id: uuid.UUID, order: TaskOrder, *, actor_id: uuid.UUID | None
) -> Task:
    """Issue a declined task again, to another unit or group (the new task names the one it replaces)."""
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.reassign_task, actor_id)
    old = await get_task(session, incident_id, task_id, lock=True)
    if old.state != TaskState.declined:
        raise Conflict("only a declined task is reassigned", code="transition-refused", state=old.state)
    if await session.scalar(select(Task.id).where(Task.reassigned_from == old.id)):
        raise Conflict("this task was already reassigned", code="reassigned")
    return await _issue_task(session, incident, order, actor_id, old.id)


async def _may_act_on_task(session: AsyncSession, task: Task, actor_id: uuid.UUID | None) -> bool:
    """The assignee acts on a task: people of the assigned unit, or members of the assigned group."""
    if actor_id is None:
        return False
    if task.group_key is not None:
        return task.group_key in await group_roles(session, actor_id)
    return bool(
        await session.scalar(
            select(org.Person.id).where(
                org.Person.account_id == actor_id, org.Person.active, org.Person.unit_id == task.org_unit_id
            )
        )
    )


async def act_on_task(
    session: AsyncSession,
    incident_id: uuid.UUID,
    task_id: uuid.UUID,
    action: TaskAction,
    *,
    actor_id: uuid.UUID | None,
    version: int,
    reason_code: str | None = None,
    note: str | None = None,
) -> Task:
    """acknowledge / complete / decline (with a reason) by the assignee; each transition timestamped."""
    incident = await get_incident(session, incident_id)
    task = await get_task(session, incident_id, task_id, lock=True)
    if not await _may_act_on_task(session, task, actor_id):
        raise Forbidden("only the assigned unit or group acts on this task", code="not-assignee")
    if incident.state == State.closed:
        raise Conflict("the incident is closed", code="incident-closed", state=incident.state)
    nxt = workflow.task_transition(task.state, action)
    _stale("task", task.version, version, task.state)
    if action == TaskAction.decline and not reason_code:
        raise Invalid("say why", errors=[{"field": "reason_code", "message": "required to decline"}])
    now = utcnow()
    task.state, task.version = nxt, task.version + 1
    common = {"actor_id": actor_id, "incident_id": incident.id, "subject_id": task.id, "org_unit_id": task.org_unit_id}
    if action == TaskAction.acknowledge:
        task.acknowledged_at = now
        await journal.record(session, "task.acknowledged", **common, **_drill(incident))
    elif action == TaskAction.complete:
        task.completed_at, task.result = now, note
        on_time = task.due_at is None or now <= task.due_at
        await journal.record(session, "task.completed", **common, on_time=on_time, **_drill(incident))
    else:
        task.declined_at, task.decline_reason_code, task.decline_note = now, reason_code, note
        await journal.record(session, "task.declined", **common, reason_code=reason_code, **_drill(incident))
    await session.flush()
    return task


# --- 4. response measures -----------------------------------------------------------------------------------------


async def record_measure(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    kind: str,
    count: int,
    notes: str,
    org_unit_id: uuid.UUID | None,
    occurred_at: datetime | None,
    actor_id: uuid.UUID | None,
) -> Measure:
    """A measure as it happens: communication (meetings, demands heard, policies explained, agreements), keeping
    order (security staff dispatched), psychological support (counselors dispatched, people reached)."""
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.record_measure, actor_id)
    content = await plan_of(session, incident)
    kinds = set(MEASURE_KINDS.values()) | {m.key for m in content.measures}
    now = utcnow()
    errors = []
    if kind not in kinds:
        errors.append({"field": "kind", "message": f"one of {sorted(kinds)}"})
    if occurred_at is not None and not incident.reported_at - timedelta(days=1) <= occurred_at <= now:
        errors.append({"field": "occurred_at", "message": "between the report and now"})
    if org_unit_id is not None and not await session.scalar(
        select(org.OrgUnit.id).where(org.OrgUnit.id == org_unit_id)
    ):
        errors.append({"field": "org_unit_id", "message": "no such org unit"})
    if errors:
        raise Invalid("the measure is invalid", errors=errors)
    kind = MEASURE_KINDS.get(kind, kind)
    measure = Measure(
        incident_id=incident.id,
        kind=kind,
        org_unit_id=org_unit_id,
        count=count,
        notes=notes,
        occurred_at=occurred_at or now,
        recorded_by=actor_id,
    )
    session.add(measure)
    await session.flush()
    await journal.record(
        session,
        "measure.recorded",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=measure.id,
        org_unit_id=org_unit_id,
        kind=kind,
        count=count,
        **_drill(incident),
    )
    return measure


# --- 5. logistics -------------------------------------------------------------------------------------------------


async def available_for(session: AsyncSession, category: str, item_id: uuid.UUID | None) -> int | None:
    """Stock that could meet a request now (None for a venue, which is arranged rather than issued)."""
    if item_id is not None:
        return (await materials.get_item(session, item_id)).quantity
    cats = MATERIAL_CATEGORIES[category]
    if not cats:
        return None
    total = await session.scalar(
        select(func.coalesce(func.sum(materials.MaterialItem.quantity), 0)).where(
            materials.MaterialItem.category.in_(cats), materials.MaterialItem.active
        )
    )
    return int(total or 0)


async def request_logistics(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    category: str,
    quantity: int,
    item_id: uuid.UUID | None,
    notes: str | None,
    actor_id: uuid.UUID | None,
) -> LogisticsRequest:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.request_logistics, actor_id)
    if category not in LOGISTICS_CATEGORIES:
        raise Invalid(
            "unknown category", errors=[{"field": "category", "message": f"one of {list(LOGISTICS_CATEGORIES)}"}]
        )
    if item_id is not None:
        await _usable_item(session, category, item_id)
    request = LogisticsRequest(
        incident_id=incident.id,
        category=category,
        item_id=item_id,
        quantity=quantity,
        notes=notes,
        state="requested",
        requested_by=actor_id,
        requested_at=utcnow(),
    )
    session.add(request)
    await session.flush()
    await journal.record(
        session,
        "logistics.requested",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=request.id,
        category=category,
        quantity=quantity,
        **_drill(incident),
    )
    return request


async def _usable_item(session: AsyncSession, category: str, item_id: uuid.UUID) -> materials.MaterialItem:
    try:
        item = await materials.get_item(session, item_id, for_update=True)
    except NotFound:
        raise Invalid("unknown item", errors=[{"field": "item_id", "message": "no such material item"}]) from None
    if item.category not in MATERIAL_CATEGORIES[category]:
        raise Invalid(
            "the item does not fit the request",
            errors=[{"field": "item_id", "message": f"a {item.category} item cannot meet a {category} request"}],
        )
    return item


async def get_logistics(
    session: AsyncSession, incident_id: uuid.UUID, request_id: uuid.UUID, *, lock: bool = False
) -> LogisticsRequest:
    query = select(LogisticsRequest).where(
        LogisticsRequest.id == request_id, LogisticsRequest.incident_id == incident_id
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("no such logistics request")
    return row


async def fulfil_logistics(
    session: AsyncSession,
    incident_id: uuid.UUID,
    request_id: uuid.UUID,
    *,
    item_id: uuid.UUID | None,
    version: int,
    actor_id: uuid.UUID | None,
) -> LogisticsRequest:
    """Issue what the inventory holds (up to the request) with the incident on the ledger; the rest is the
    shortfall, shown at once. A venue is marked arranged."""
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.fulfil_logistics, actor_id)
    request = await get_logistics(session, incident_id, request_id, lock=True)
    if request.state != "requested":
        raise Conflict("the request was already fulfilled", code="transition-refused", state=request.state)
    _stale("logistics request", request.version, version, request.state)
    item_id = item_id or request.item_id
    if request.category == "venue":
        issued = request.quantity
    else:
        if item_id is None:
            raise Invalid("which item?", errors=[{"field": "item_id", "message": "name the item to issue from"}])
        item = await _usable_item(session, request.category, item_id)
        issued = min(item.quantity, request.quantity)
        if issued:
            await materials.issue(
                session,
                item_id=item.id,
                quantity=issued,
                reason=f"incident {incident.id}",
                actor_id=actor_id,
                incident_id=incident.id,
            )
    short = request.quantity - issued
    request.item_id, request.issued = item_id, issued
    request.state, request.version, request.fulfilled_at = (
        ("short" if short else "fulfilled"),
        request.version + 1,
        utcnow(),
    )
    await session.flush()
    await journal.record(
        session,
        "logistics.fulfilled",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=request.id,
        category=request.category,
        quantity=issued,
        short=short,
        **_drill(incident),
    )
    return request


async def return_logistics(
    session: AsyncSession, incident_id: uuid.UUID, request_id: uuid.UUID, *, quantity: int, actor_id: uuid.UUID | None
) -> LogisticsRequest:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.return_logistics, actor_id)
    request = await get_logistics(session, incident_id, request_id, lock=True)
    if request.item_id is None or request.category == "venue" or request.issued == 0:
        raise Conflict("nothing was issued for this request", code="nothing-issued", state=request.state)
    if quantity > request.issued - request.returned:
        raise Invalid(
            "more than is out",
            errors=[{"field": "quantity", "message": f"at most {request.issued - request.returned}"}],
        )
    await materials.return_(
        session,
        item_id=request.item_id,
        quantity=quantity,
        reason=f"incident {incident.id}",
        actor_id=actor_id,
        incident_id=incident.id,
    )
    request.returned += quantity
    request.version += 1
    await session.flush()
    await journal.record(
        session,
        "logistics.returned",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=request.id,
        category=request.category,
        quantity=quantity,
        **_drill(incident),
    )
    return request


# --- 6. information release -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulletinDraft:
    audience: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    kind: str | None = None  # correction / retraction (with corrects_id); else set at publication
    corrects_id: uuid.UUID | None = None


async def get_bulletin(
    session: AsyncSession, incident_id: uuid.UUID, bulletin_id: uuid.UUID, *, lock: bool = False
) -> Bulletin:
    query = select(Bulletin).where(Bulletin.id == bulletin_id, Bulletin.incident_id == incident_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("no such bulletin")
    return row


async def draft_bulletin(
    session: AsyncSession, incident_id: uuid.UUID, d: BulletinDraft, *, actor_id: uuid.UUID | None
) -> Bulletin:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.draft_bulletin, actor_id)
    errors = []
    if d.audience not in AUDIENCES:
        errors.append({"field": "audience", "message": f"one of {list(AUDIENCES)}"})
    if (d.corrects_id is None) != (d.kind in (None, "update", "initial")):
        errors.append({"field": "kind", "message": "a correction or retraction names the bulletin it corrects"})
    if d.corrects_id is not None:
        target = await session.scalar(
            select(Bulletin).where(Bulletin.id == d.corrects_id, Bulletin.incident_id == incident.id)
        )
        if target is None or target.state != "published":
            errors.append({"field": "corrects_id", "message": "no published bulletin of this incident"})
    if errors:
        raise Invalid("the bulletin is invalid", errors=errors)
    bulletin = Bulletin(
        incident_id=incident.id,
        kind=d.kind if d.corrects_id else "update",
        audience=d.audience,
        title_zh=d.title_zh,
        title_en=d.title_en,
        body_zh=d.body_zh,
        body_en=d.body_en,
        corrects_id=d.corrects_id,
        state="draft",
        version=1,
        drafted_by=actor_id,
        drafted_at=utcnow(),
    )
    session.add(bulletin)
    await session.flush()
    await journal.record(
        session,
        "bulletin.drafted",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=bulletin.id,
        audience=bulletin.audience,
        kind=bulletin.kind,
        **_drill(incident),
    )
    return bulletin


async def approve_bulletin(
    session: AsyncSession, incident_id: uuid.UUID, bulletin_id: uuid.UUID, *, version: int, actor_id: uuid.UUID | None
) -> Bulletin:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.approve_bulletin, actor_id)
    bulletin = await get_bulletin(session, incident_id, bulletin_id, lock=True)
    if bulletin.state != "draft":
        raise Conflict("only a draft is approved", code="transition-refused", state=bulletin.state)
    _stale("bulletin", bulletin.version, version, bulletin.state)
    bulletin.state, bulletin.version = "approved", bulletin.version + 1
    bulletin.approved_by, bulletin.approved_at = actor_id, utcnow()
    await session.flush()
    await journal.record(
        session,
        "bulletin.approved",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=bulletin.id,
        **_drill(incident),
    )
    return bulletin


async def publish_bulletin(
    session: AsyncSession, incident_id: uuid.UUID, bulletin_id: uuid.UUID, *, version: int, actor_id: uuid.UUID | None
) -> Bulletin:
    """Publish an approved bulletin: it gets the next sequence number and, while the response is active, the time
    of the next update from the plan's cadence."""
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.publish_bulletin, actor_id)
    bulletin = await get_bulletin(session, incident_id, bulletin_id, lock=True)
    if bulletin.state != "approved":
        raise Conflict("only an approved bulletin is published", code="transition-refused", state=bulletin.state)
    _stale("bulletin", bulletin.version, version, bulletin.state)
    now = utcnow()
    last = await session.scalar(select(func.max(Bulletin.sequence)).where(Bulletin.incident_id == incident.id))
    sequence = (last or 0) + 1
    if bulletin.corrects_id is None:
        bulletin.kind = "initial" if sequence == 1 else "update"
    release = next(s for s in (await plan_of(session, incident)).steps if s.key == "information_release")
    cadence = release.repeat_every_minutes
    bulletin.next_update_at = (
        now + timedelta(minutes=cadence) if cadence and incident.state == State.responding else None
    )
    bulletin.state, bulletin.sequence, bulletin.version = "published", sequence, bulletin.version + 1
    bulletin.published_by, bulletin.published_at = actor_id, now
    await session.flush()
    common = {"actor_id": actor_id, "incident_id": incident.id, "subject_id": bulletin.id}
    await journal.record(
        session,
        "bulletin.published",
        **common,
        audience=bulletin.audience,
        sequence=sequence,
        kind=bulletin.kind,
        corrects_id=str(bulletin.corrects_id) if bulletin.corrects_id else None,
        next_update_at=bulletin.next_update_at.isoformat() if bulletin.next_update_at else None,
        **_drill(incident),
    )
    if bulletin.corrects_id is not None:
        await journal.record(
            session,
            "bulletin.corrected",
            **common,
            corrects_id=str(bulletin.corrects_id),
            kind=bulletin.kind,
            **_drill(incident),
        )
    await _complete_step(session, incident, "information_release", now, actor_id)
    return bulletin


async def published_bulletins(session: AsyncSession, incident_id: uuid.UUID) -> list[Bulletin]:
    rows = await session.scalars(
        select(Bulletin)
        .where(Bulletin.incident_id == incident_id, Bulletin.state == "published")
        .order_by(Bulletin.sequence)
    )
    return list(rows.all())


async def find_public(session: AsyncSession, token: str) -> Incident:
    incident = await session.scalar(select(Incident).where(Incident.public_token == token))
    if incident is None:
        raise NotFound("no such incident")
    return incident


# --- 7. cleanup and summary -----------------------------------------------------------------------------------------


async def end_response(
    session: AsyncSession, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.end_response, actor_id)
    _stale("incident", incident.version, version, incident.state)
    now = utcnow()
    incident.state, incident.response_ended_at = nxt, now
    incident.checklist = [{"key": k, "zh": zh, "en": en, "done": False} for k, zh, en in DEFAULT_CHECKLIST]
    _touch(incident, now)
    await journal.record(
        session, "incident.response_ended", actor_id=actor_id, incident_id=incident.id, **_drill(incident)
    )
    for key in ("response", "logistics"):
        await _complete_step(session, incident, key, now, actor_id)
    await _start_step(session, incident, "cleanup_summary", now, actor_id)
    await session.flush()
    return incident


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    done: bool
    zh: str | None = None
    en: str | None = None


async def update_checklist(
    session: AsyncSession,
    incident_id: uuid.UUID,
    items: Sequence[ChecklistItem],
    *,
    actor_id: uuid.UUID | None,
    version: int,
) -> Incident:
    """Tick items (by key) or add new ones (a new key with its texts)."""
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.update_checklist, actor_id)
    _stale("incident", incident.version, version, incident.state)
    checklist = [dict(i) for i in incident.checklist]
    by_key = {i["key"]: i for i in checklist}
    errors = []
    for n, item in enumerate(items):
        if item.key in by_key:
            by_key[item.key]["done"] = item.done
        elif item.zh and item.en:
            entry = {"key": item.key, "zh": item.zh, "en": item.en, "done": item.done}
            checklist.append(entry)
            by_key[item.key] = entry
        else:
            errors.append({"field": f"items[{n}]", "message": "a new checklist item needs zh and en texts"})
    if errors:
        raise Invalid("the checklist is invalid", errors=errors)
    now = utcnow()
    incident.checklist = checklist
    _touch(incident, now)
    await journal.record(
        session,
        "incident.checklist_updated",
        actor_id=actor_id,
        incident_id=incident.id,
        done=sum(1 for i in checklist if i["done"]),
        total=len(checklist),
        **_drill(incident),
    )
    await session.flush()
    return incident


@dataclass(frozen=True)
class Proposal:
    proposal: str
    owner_unit_id: uuid.UUID
    due_on: date


async def submit_summary(
    session: AsyncSession,
    incident_id: uuid.UUID,
    *,
    cause_analysis: str,
    lessons: str | None,
    proposals: Sequence[Proposal],
    actor_id: uuid.UUID | None,
    version: int,
) -> Incident:
    """Submit the summary report for the leadership's approval: the checklist must be done and no task open."""
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.submit_summary, actor_id)
    _stale("incident", incident.version, version, incident.state)
    open_items = [i["key"] for i in incident.checklist if not i["done"]]
    if open_items:
        raise Conflict("the cleanup checklist is not done", code="checklist-open", open=open_items)
    open_tasks = await session.scalar(
        select(func.count())
        .select_from(Task)
        .where(Task.incident_id == incident.id, Task.state.in_([str(s) for s in workflow.OPEN_TASK_STATES]))
    )
    if open_tasks:
        raise Conflict(f"{open_tasks} task(s) are still open", code="tasks-open", open=open_tasks)
    units = {p.owner_unit_id for p in proposals}
    found = (
        set((await session.scalars(select(org.OrgUnit.id).where(org.OrgUnit.id.in_(units)))).all()) if units else set()
    )
    errors = [
        {"field": f"proposals[{n}].owner_unit_id", "message": "no such org unit"}
        for n, p in enumerate(proposals)
        if p.owner_unit_id not in found
    ]
    if errors:
        raise Invalid("the summary is invalid", errors=errors)
    now = utcnow()
    incident.summary = {
        "cause_analysis": cause_analysis,
        "lessons": lessons,
        "proposals": [
            {"proposal": p.proposal, "owner_unit_id": str(p.owner_unit_id), "due_on": p.due_on.isoformat()}
            for p in proposals
        ],
    }
    incident.state, incident.summary_submitted_at = nxt, now
    _touch(incident, now)
    await journal.record(
        session,
        "incident.summary_submitted",
        actor_id=actor_id,
        incident_id=incident.id,
        action_items=len(proposals),
        **_drill(incident),
    )
    await session.flush()
    return incident


async def return_summary(
    session: AsyncSession, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.return_summary, actor_id)
    _stale("incident", incident.version, version, incident.state)
    now = utcnow()
    incident.state = nxt
    _touch(incident, now)
    await journal.record(
        session, "incident.summary_returned", actor_id=actor_id, incident_id=incident.id, **_drill(incident)
    )
    await session.flush()
    return incident


async def approve_summary(
    session: AsyncSession, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    """The leadership approves the summary: its proposals become action items and the incident closes. A drill is
    recorded as a drill of the training programme (§7), with the people who took part."""
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.approve_summary, actor_id)
    _stale("incident", incident.version, version, incident.state)
    now = utcnow()
    proposals = (incident.summary or {}).get("proposals", [])
    for n, p in enumerate(proposals):
        item = ActionItem(
            incident_id=incident.id,
            proposal=p["proposal"],
            owner_unit_id=uuid.UUID(p["owner_unit_id"]),
            due_on=date.fromisoformat(p["due_on"]),
            position=n,
        )
        session.add(item)
        await session.flush()
        await journal.record(
            session,
            "action_item.created",
            actor_id=actor_id,
            incident_id=incident.id,
            subject_id=item.id,
            org_unit_id=item.owner_unit_id,
            due_on=p["due_on"],
            **_drill(incident),
        )
    incident.state, incident.closed_at, incident.summary_approved_by = nxt, now, actor_id
    _touch(incident, now)
    await _complete_step(session, incident, "cleanup_summary", now, actor_id)
    await journal.record(
        session,
        "incident.summary_approved",
        actor_id=actor_id,
        incident_id=incident.id,
        action_items=len(proposals),
        **_drill(incident),
    )
    await journal.record(
        session,
        "incident.closed",
        actor_id=actor_id,
        incident_id=incident.id,
        level=incident.level,
        minutes=int((now - incident.reported_at).total_seconds() // 60),
        **_drill(incident),
    )
    if incident.drill:
        await _record_drill(session, incident, actor_id, now)
    await session.flush()
    return incident


async def _record_drill(session: AsyncSession, incident: Incident, actor_id: Any, now: datetime) -> None:
    """Count the drill for training compliance: a drill session with everyone whose account acted in it."""
    actors = select(journal.JournalEvent.actor_id).where(
        journal.JournalEvent.incident_id == incident.id, journal.JournalEvent.actor_id.is_not(None)
    )
    people = list(
        (
            await session.scalars(
                select(org.Person.id)
                .where(org.Person.account_id.in_(actors), org.Person.active)
                .order_by(org.Person.id)
            )
        ).all()
    )
    today = now.astimezone(await tenant_zone(session)).date()
    await training.record_session(
        session,
        held_on=today,
        kind=training.SessionKind.drill,
        topic=f"应急演练 / Emergency drill: {incident.title}"[:200],
        participants=people,
        notes=f"incident {incident.id}",
        actor_id=actor_id,
        today=today,
    )


async def complete_action_item(
    session: AsyncSession, incident_id: uuid.UUID, item_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> ActionItem:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.complete_action_item, actor_id)
    item = await session.scalar(
        select(ActionItem).where(ActionItem.id == item_id, ActionItem.incident_id == incident_id).with_for_update()
    )
    if item is None:
        raise NotFound("no such action item")
    if item.done_at is not None:
        raise Conflict("the action item is already done", code="done")
    now = utcnow()
    item.done_at = now
    today = now.astimezone(await tenant_zone(session)).date()
    await journal.record(
        session,
        "action_item.completed",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=item.id,
        org_unit_id=item.owner_unit_id,
        on_time=today <= item.due_on,
        **_drill(incident),
    )
    await session.flush()
    return item


# --- timeline -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    actor_id: uuid.UUID | None
    actor: str | None
    subject_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    payload: dict[str, Any] = field(default_factory=dict)


async def timeline(session: AsyncSession, incident_id: uuid.UUID) -> list[TimelineEntry]:
    """The incident's whole history from the journal, in order (who, what, when); live during the incident."""
    from tenants.identity import Account

    await get_incident(session, incident_id)
    rows = await session.execute(
        select(journal.JournalEvent, Account.display_name)
        .outerjoin(Account, Account.id == journal.JournalEvent.actor_id)
        .where(journal.JournalEvent.incident_id == incident_id)
        .order_by(journal.JournalEvent.occurred_at, journal.JournalEvent.seq)
    )
    return [
        TimelineEntry(e.occurred_at, e.type, e.actor_id, name, e.subject_id, e.org_unit_id, dict(e.payload))
        for e, name in rows.all()
    ]
