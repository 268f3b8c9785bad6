"""Reading incidents: the list, the detail with its rows, the incidents of a petition."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import (
    ActionItem,
    Bulletin,
    Incident,
    IncidentPetition,
    IncidentStep,
    LogisticsRequest,
    Measure,
    Task,
)
from service.incidents.services.common import get_incident
from service.incidents.services.logistics import available_in, inventory
from service.incidents.workflow import LogisticsState
from service.petitions import scope as petition_scope
from service.petitions.models import Petition
from tenants.errors import NotFound
from tenants.identity import Principal
from tenants.plans.content import STEP_KEYS


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
        await _available(session, logistics),
    )


async def _available(session: AsyncSession, logistics: list[LogisticsRequest]) -> dict[uuid.UUID, int | None]:
    """Stock that could meet each open request now, from one read of the inventory (whatever their number)."""
    waiting = [r for r in logistics if r.state == LogisticsState.requested]
    if not waiting:
        return {}
    stock = await inventory(session)
    return {r.id: available_in(stock, r.category, r.item_id) for r in waiting}


async def incidents_of_petition(session: AsyncSession, petition_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(IncidentPetition.incident_id).where(IncidentPetition.petition_id == petition_id)
    )
    return list(rows.all())


async def board_stamp(session: AsyncSession, incident_id: uuid.UUID) -> str:
    """A cheap fingerprint of everything an incident's board shows: it changes whenever anyone acts on the
    incident (its version, and the versions and counts of its tasks, bulletins, logistics requests, measures and
    action items), so a watching board knows when to fetch itself again. One round trip on indexed keys."""

    def agg(model: Any, value: Any) -> Any:
        return select(value).where(model.incident_id == incident_id).scalar_subquery()

    row = (
        await session.execute(
            select(
                Incident.version,
                agg(Task, func.count() + func.coalesce(func.sum(Task.version), 0)),
                agg(Bulletin, func.count() + func.coalesce(func.sum(Bulletin.version), 0)),
                agg(LogisticsRequest, func.count() + func.coalesce(func.sum(LogisticsRequest.version), 0)),
                agg(Measure, func.count()),
                agg(ActionItem, func.count(ActionItem.done_at)),
            ).where(Incident.id == incident_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such incident")
    return "-".join(str(v) for v in row)
