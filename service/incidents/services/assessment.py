"""Step 2, assessment (研判): the level suggested by the plan's rules and the one decided."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import (
    Incident,
)
from service.incidents.services.common import (
    authorize,
    complete_step,
    drill_of,
    get_incident,
    plan_of,
    stale,
    start_step,
    touch,
)
from service.incidents.workflow import Action
from tenants import journal
from tenants.clock import utcnow
from tenants.errors import Invalid
from tenants.plans import rules
from tenants.plans.content import PlanContent

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
    stale("incident", incident.version, version, incident.state)
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
    touch(incident, now)
    await journal.record(
        session,
        "incident.assessed",
        actor_id=actor_id,
        incident_id=incident.id,
        suggested_level=incident.suggested_level,
        level=level,
        overridden=overridden,
        **drill_of(incident),
    )
    await complete_step(session, incident, "assessment", now, actor_id)
    await start_step(session, incident, "instruction", now, actor_id)
    await session.flush()
    return incident
