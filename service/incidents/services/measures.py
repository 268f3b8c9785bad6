"""Step 4, response measures (处置措施)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import (
    Measure,
)
from service.incidents.services.common import authorize, drill_of, get_incident, plan_of
from service.incidents.workflow import Action
from tenants import journal, org
from tenants.clock import utcnow
from tenants.errors import Invalid

# Measure kinds of the contract, and the seed plan's measure keys they stand for.
MEASURE_KINDS = {
    "communication_coordination": "communication",
    "keeping_order": "order",
    "psychological_support": "psychological",
}


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
        **drill_of(incident),
    )
    return measure
