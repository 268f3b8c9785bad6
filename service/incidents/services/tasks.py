"""Step 3, instruction and tasks (指令与任务): instructions, tasks per unit; acknowledge, complete, decline,
reassign."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    Incident,
    Task,
)
from service.incidents.services.common import (
    authorize,
    complete_step,
    drill_of,
    get_incident,
    group_roles,
    plan_of,
    stale,
    start_step,
    step_row,
    touch,
)
from service.incidents.workflow import Action, State, TaskAction, TaskState
from tenants import journal, org
from tenants.clock import utcnow
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.ids import new_id
from tenants.plans.content import STEP_KEYS

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
    stale("incident", incident.version, version, incident.state)
    codes = {lv.code for lv in (await plan_of(session, incident)).severity_levels}
    if level is not None and level not in codes:
        raise Invalid("unknown level", errors=[{"field": "level", "message": f"one of {sorted(codes)}"}])
    now = utcnow()
    incident.activated, incident.instruction = activated, instruction
    incident.level = (level or incident.level) if activated else None
    incident.instructed_at, incident.state = now, nxt
    touch(incident, now)
    await journal.record(
        session,
        "incident.instructed",
        actor_id=actor_id,
        incident_id=incident.id,
        activated=activated,
        level=incident.level,
        **drill_of(incident),
    )
    await complete_step(session, incident, "instruction", now, actor_id)
    for key in ("response", "logistics", "information_release"):
        await start_step(session, incident, key, now, actor_id)
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
    due = order.due_at or (await step_row(session, incident, order.step)).due_at
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
        **drill_of(incident),
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


async def my_units(session: AsyncSession, actor_id: uuid.UUID | None) -> set[uuid.UUID]:
    """The org units the account's active people sit in."""
    if actor_id is None:
        return set()
    rows = await session.scalars(select(org.Person.unit_id).where(org.Person.account_id == actor_id, org.Person.active))
    return {u for u in rows.all() if u is not None}


async def _may_act_on_task(session: AsyncSession, task: Task, actor_id: uuid.UUID | None) -> bool:
    """The assignee acts on a task: people of the assigned unit, or members of the assigned group."""
    if actor_id is None:
        return False
    groups = await group_roles(session, actor_id) if task.group_key is not None else {}
    units = await my_units(session, actor_id) if task.group_key is None else set()
    return workflow.is_assignee(task.org_unit_id, task.group_key, units, groups)


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
    stale("task", task.version, version, task.state)
    if action == TaskAction.decline and not reason_code:
        raise Invalid("say why", errors=[{"field": "reason_code", "message": "required to decline"}])
    now = utcnow()
    task.state, task.version = nxt, task.version + 1
    common = {"actor_id": actor_id, "incident_id": incident.id, "subject_id": task.id, "org_unit_id": task.org_unit_id}
    if action == TaskAction.acknowledge:
        task.acknowledged_at = now
        await journal.record(session, "task.acknowledged", **common, **drill_of(incident))
    elif action == TaskAction.complete:
        task.completed_at, task.result = now, note
        on_time = task.due_at is None or now <= task.due_at
        await journal.record(session, "task.completed", **common, on_time=on_time, **drill_of(incident))
    else:
        task.declined_at, task.decline_reason_code, task.decline_note = now, reason_code, note
        await journal.record(session, "task.declined", **common, reason_code=reason_code, **drill_of(incident))
    await session.flush()
    return task


async def open_tasks_for(
    session: AsyncSession, units: set[uuid.UUID], groups: set[str], *, limit: int = 200
) -> list[tuple[Task, Incident]]:
    """The open tasks assigned to any of ``units`` or ``groups``, across incidents, soonest due first (each with
    its incident)."""
    if not units and not groups:
        return []
    mine = []
    if units:
        mine.append(Task.org_unit_id.in_(list(units)))
    if groups:
        mine.append(Task.group_key.in_(list(groups)))
    rows = await session.execute(
        select(Task, Incident)
        .join(Incident, Incident.id == Task.incident_id)
        .where(Task.state.in_([str(s) for s in workflow.OPEN_TASK_STATES]), or_(*mine))
        .order_by(Task.due_at.asc().nulls_last(), Task.assigned_at, Task.id)
        .limit(limit)
    )
    return [(t, i) for t, i in rows.all()]
