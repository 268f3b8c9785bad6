"""Step 7, cleanup and summary (善后与总结): the checklist, the summary and its action items."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    ActionItem,
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
    step_groups,
    touch,
)
from service.incidents.services.tasks import my_units
from service.incidents.workflow import Action
from tenants import journal, org, training
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound
from tenants.tenancy import tenant_zone

DEFAULT_CHECKLIST = [
    ("site_cleared", "现场已清理，环境恢复正常", "Site cleared and back to normal"),
    ("order_restored", "校园秩序已恢复", "Campus order restored"),
    ("materials_returned", "物资已归还或核销", "Materials returned or written off"),
    ("people_followed_up", "相关人员已回访", "People involved followed up"),
]


# --- 7. cleanup and summary -----------------------------------------------------------------------------------------


async def end_response(
    session: AsyncSession, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.end_response, actor_id)
    stale("incident", incident.version, version, incident.state)
    now = utcnow()
    incident.state, incident.response_ended_at = nxt, now
    incident.checklist = [{"key": k, "zh": zh, "en": en, "done": False} for k, zh, en in DEFAULT_CHECKLIST]
    touch(incident, now)
    await journal.record(
        session, "incident.response_ended", actor_id=actor_id, incident_id=incident.id, **drill_of(incident)
    )
    for key in ("response", "logistics"):
        await complete_step(session, incident, key, now, actor_id)
    await start_step(session, incident, "cleanup_summary", now, actor_id)
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
    stale("incident", incident.version, version, incident.state)
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
    touch(incident, now)
    await journal.record(
        session,
        "incident.checklist_updated",
        actor_id=actor_id,
        incident_id=incident.id,
        done=sum(1 for i in checklist if i["done"]),
        total=len(checklist),
        **drill_of(incident),
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
    stale("incident", incident.version, version, incident.state)
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
    touch(incident, now)
    await journal.record(
        session,
        "incident.summary_submitted",
        actor_id=actor_id,
        incident_id=incident.id,
        action_items=len(proposals),
        **drill_of(incident),
    )
    await session.flush()
    return incident


async def return_summary(
    session: AsyncSession, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None, version: int
) -> Incident:
    incident = await get_incident(session, incident_id, lock=True)
    nxt = await authorize(session, incident, Action.return_summary, actor_id)
    stale("incident", incident.version, version, incident.state)
    now = utcnow()
    incident.state = nxt
    touch(incident, now)
    await journal.record(
        session, "incident.summary_returned", actor_id=actor_id, incident_id=incident.id, **drill_of(incident)
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
    stale("incident", incident.version, version, incident.state)
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
            **drill_of(incident),
        )
    incident.state, incident.closed_at, incident.summary_approved_by = nxt, now, actor_id
    touch(incident, now)
    await complete_step(session, incident, "cleanup_summary", now, actor_id)
    await journal.record(
        session,
        "incident.summary_approved",
        actor_id=actor_id,
        incident_id=incident.id,
        action_items=len(proposals),
        **drill_of(incident),
    )
    await journal.record(
        session,
        "incident.closed",
        actor_id=actor_id,
        incident_id=incident.id,
        level=incident.level,
        minutes=int((now - incident.reported_at).total_seconds() // 60),
        **drill_of(incident),
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
    """Mark an action item done: the handling group (which runs cleanup and summary) or the people of the org unit
    that owns the item (the unit that carries the proposal out)."""
    incident = await get_incident(session, incident_id, lock=True)
    item = await session.scalar(
        select(ActionItem).where(ActionItem.id == item_id, ActionItem.incident_id == incident_id).with_for_update()
    )
    owner = item is not None and item.owner_unit_id in await my_units(session, actor_id)
    # Outsiders are refused (403) before they learn whether the item exists.
    workflow.check_action_item(
        incident.state,
        await group_roles(session, actor_id),
        step_groups(await plan_of(session, incident)),
        owner=owner,
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
        **drill_of(incident),
    )
    await session.flush()
    return item
