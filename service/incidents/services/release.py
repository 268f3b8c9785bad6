"""Step 6, information release (信息发布): bulletins drafted, approved, published and corrected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    AUDIENCES,
    Bulletin,
    Incident,
)
from service.incidents.services.common import authorize, complete_step, drill_of, get_incident, plan_of, stale
from service.incidents.workflow import Action, BulletinAction, BulletinState, State
from tenants import journal
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound

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
        if target is None or target.state != BulletinState.published:
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
        state=BulletinState.draft.value,
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
        **drill_of(incident),
    )
    return bulletin


async def approve_bulletin(
    session: AsyncSession, incident_id: uuid.UUID, bulletin_id: uuid.UUID, *, version: int, actor_id: uuid.UUID | None
) -> Bulletin:
    incident = await get_incident(session, incident_id, lock=True)
    await authorize(session, incident, Action.approve_bulletin, actor_id)
    bulletin = await get_bulletin(session, incident_id, bulletin_id, lock=True)
    nxt = workflow.bulletin_transition(bulletin.state, BulletinAction.approve)
    stale("bulletin", bulletin.version, version, bulletin.state)
    if not workflow.four_eyes(bulletin.drafted_by, actor_id):
        raise Conflict(
            "a bulletin is approved by someone other than its author (four eyes)",
            code="four-eyes",
            state=bulletin.state,
        )
    bulletin.state, bulletin.version = nxt.value, bulletin.version + 1
    bulletin.approved_by, bulletin.approved_at = actor_id, utcnow()
    await session.flush()
    await journal.record(
        session,
        "bulletin.approved",
        actor_id=actor_id,
        incident_id=incident.id,
        subject_id=bulletin.id,
        **drill_of(incident),
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
    nxt = workflow.bulletin_transition(bulletin.state, BulletinAction.publish)
    stale("bulletin", bulletin.version, version, bulletin.state)
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
    bulletin.state, bulletin.sequence, bulletin.version = nxt.value, sequence, bulletin.version + 1
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
        **drill_of(incident),
    )
    if bulletin.corrects_id is not None:
        await journal.record(
            session,
            "bulletin.corrected",
            **common,
            corrects_id=str(bulletin.corrects_id),
            kind=bulletin.kind,
            **drill_of(incident),
        )
    await complete_step(session, incident, "information_release", now, actor_id)
    return bulletin


async def published_bulletins(session: AsyncSession, incident_id: uuid.UUID) -> list[Bulletin]:
    rows = await session.scalars(
        select(Bulletin)
        .where(Bulletin.incident_id == incident_id, Bulletin.state == BulletinState.published)
        .order_by(Bulletin.sequence)
    )
    return list(rows.all())


async def find_public(session: AsyncSession, token: str) -> Incident:
    incident = await session.scalar(select(Incident).where(Incident.public_token == token))
    if incident is None:
        raise NotFound("no such incident")
    return incident
