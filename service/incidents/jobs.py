"""Scheduled incident work: overdue steps and tasks, missed bulletin updates — journaled once each.

The scheduler enqueues ``scan_incidents`` every 5 minutes; the actor scans every open incident of every active
university in its own tenant transaction. Idempotent: each notice is claimed in ``incident_reminders`` first.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import dramatiq
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on

from analytics.runtime import fanout, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.scheduler import periodic
from service.incidents import reminders
from service.incidents.models import Bulletin, Incident, IncidentStep, Task
from service.incidents.workflow import OPEN_TASK_STATES, State
from tenants import journal
from tenants.clock import utcnow
from tenants.db import Database

ensure_broker()


def every_five_minutes(now: datetime) -> str:
    return f"{now:%Y-%m-%dT%H}:{now.minute // 5}"


async def scan_tenant(db: Database, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Journal every flag now due in one university's open incidents; returns how many were journaled."""
    now = now or utcnow()
    sent = 0
    async with db.transaction(tenant_id) as session:
        incidents = (await session.scalars(select(Incident).where(Incident.state != State.closed))).all()
        ids = [incident.id for incident in incidents]
        # Three queries for all open incidents, not three per incident.
        steps: dict[uuid.UUID, list[IncidentStep]] = defaultdict(list)
        for step in await session.scalars(select(IncidentStep).where(IncidentStep.incident_id.in_(ids))):
            steps[step.incident_id].append(step)
        tasks: dict[uuid.UUID, list[Task]] = defaultdict(list)
        for task in await session.scalars(select(Task).where(Task.incident_id.in_(ids))):
            tasks[task.incident_id].append(task)
        newest = (
            select(Bulletin.incident_id, Bulletin.next_update_at)
            .where(Bulletin.incident_id.in_(ids), Bulletin.state == "published")
            .ext(distinct_on(Bulletin.incident_id))
            .order_by(Bulletin.incident_id, Bulletin.sequence.desc())
        )
        latest = {incident_id: due for incident_id, due in (await session.execute(newest)).all()}
        for incident in incidents:
            found = reminders.notices(
                now,
                active=incident.state == State.responding,
                steps=[
                    reminders.StepFacts(s.step, s.due_at, s.completed_at, s.target_minutes) for s in steps[incident.id]
                ],
                tasks=[
                    reminders.TaskFacts(t.id, t.org_unit_id, t.due_at, t.state in OPEN_TASK_STATES)
                    for t in tasks[incident.id]
                ],
                next_update_at=latest.get(incident.id),
            )
            for notice in found:
                claimed = await session.scalar(
                    text(
                        "insert into incident_reminders (tenant_id, incident_id, key, created_at) "
                        "values (:t, :i, :k, now()) on conflict do nothing returning key"
                    ),
                    {"t": tenant_id, "i": incident.id, "k": notice.key},
                )
                if claimed:
                    await journal.record(
                        session,
                        notice.type,
                        incident_id=incident.id,
                        subject_id=notice.subject_id,
                        org_unit_id=notice.org_unit_id,
                        drill=incident.drill,
                        **notice.payload,
                    )
                    sent += 1
    return sent


@dramatiq.actor(**retry.SCAN)
async def scan_incidents(period: str) -> None:
    """Scan every active university (idempotent: a repeated period journals nothing new)."""
    await fanout.run_each(scan_tenant)


@periodic("incidents.scan", every_five_minutes)
def _scan(period: str) -> list[dramatiq.Message]:
    return [scan_incidents.message(period)]
