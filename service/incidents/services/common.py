"""What every step uses: the pinned plan and the acting account's group roles, reading an incident with
its rows, and the step bookkeeping (due times, completion, the workflow check)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    Incident,
    IncidentStep,
)
from service.incidents.workflow import Action, State
from tenants import journal, org
from tenants.db import require_tenant
from tenants.errors import Conflict, NotFound
from tenants.plans.content import PlanContent
from tenants.plans.services import content_of, get_version

# --- plan and people ----------------------------------------------------------------------------------------------

# Published plan versions never change: their content is cached per process by version id.
plan_cache: dict[uuid.UUID, PlanContent] = {}


async def plan_of(session: AsyncSession, incident: Incident) -> PlanContent:
    content = plan_cache.get(incident.plan_version_id)
    if content is None:
        content = plan_cache[incident.plan_version_id] = content_of(
            await get_version(session, incident.plan_version_id)
        )
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


def stale(kind: str, current: int, given: int | None, state: str) -> None:
    if given is not None and given != current:
        raise Conflict(f"the {kind} changed since version {given}", code="stale-version", version=current, state=state)


def drill_of(incident: Incident) -> dict[str, Any]:
    return {"drill": incident.drill}


# --- reading ------------------------------------------------------------------------------------------------------


async def get_incident(session: AsyncSession, incident_id: uuid.UUID, *, lock: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    incident = await session.scalar(query.with_for_update() if lock else query)
    if incident is None:
        raise NotFound("no such incident")
    return incident


# --- steps --------------------------------------------------------------------------------------------------------


async def step_row(session: AsyncSession, incident: Incident, key: str) -> IncidentStep:
    row = await session.get(IncidentStep, (require_tenant(), incident.id, key))
    assert row is not None, key
    return row


async def start_step(session: AsyncSession, incident: Incident, key: str, now: datetime, actor_id: Any) -> None:
    row = await step_row(session, incident, key)
    if row.started_at is None:
        row.started_at = now
        await journal.record(
            session, "incident.step_started", actor_id=actor_id, incident_id=incident.id, step=key, **drill_of(incident)
        )


async def complete_step(session: AsyncSession, incident: Incident, key: str, now: datetime, actor_id: Any) -> None:
    await start_step(session, incident, key, now, actor_id)
    row = await step_row(session, incident, key)
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
            **drill_of(incident),
        )


def touch(incident: Incident, now: datetime) -> None:
    incident.version += 1
    incident.updated_at = now
