"""Step 1, report (报告): an incident reported by anyone on duty or escalated from group petitions."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import (
    Incident,
    IncidentPetition,
    IncidentStep,
)
from service.incidents.services.common import complete_step, drill_of, plan_cache, start_step
from service.incidents.workflow import State
from service.petitions.models import EscalatedPetition, EscalationRequest, Petition
from service.petitions.services import require_handled
from tenants import journal, org
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound
from tenants.identity import Principal
from tenants.ids import new_id
from tenants.plans.services import content_of, published_version

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
    plan_cache.setdefault(version.id, content)
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
        **drill_of(incident),
    )
    await complete_step(session, incident, "report", now, actor)
    await start_step(session, incident, "assessment", now, actor)
    await session.flush()
    return incident
