"""Step 5, logistics (后勤保障): requests met from the materials inventory, with live stock."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import workflow
from service.incidents.models import (
    LOGISTICS_CATEGORIES,
    LogisticsRequest,
)
from service.incidents.services.common import authorize, drill_of, get_incident, stale
from service.incidents.workflow import Action, LogisticsAction, LogisticsState
from tenants import journal, materials
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound

# Which inventory categories may meet a logistics request (a venue is arranged, not issued).
MATERIAL_CATEGORIES = {
    "water": ("logistics",),
    "medical": ("medical",),
    "materials": ("communication", "safety", "logistics", "custom"),
    "venue": (),
}


# --- 5. logistics -------------------------------------------------------------------------------------------------


def available_in(
    stock: Sequence[tuple[uuid.UUID, str, int, bool]], category: str, item_id: uuid.UUID | None
) -> int | None:
    """Stock that could meet a request, from the inventory's rows ``(id, category, quantity, active)``: the
    named item's quantity, else the sum over the active items of the categories that fit (None for a venue,
    which is arranged rather than issued)."""
    if item_id is not None:
        return next((q for i, _, q, _ in stock if i == item_id), 0)
    cats = MATERIAL_CATEGORIES[category]
    if not cats:
        return None
    return sum(q for _, c, q, active in stock if active and c in cats)


async def inventory(session: AsyncSession) -> list[tuple[uuid.UUID, str, int, bool]]:
    """The inventory's rows as ``available_in`` reads them (one query)."""
    rows = await session.execute(
        select(
            materials.MaterialItem.id,
            materials.MaterialItem.category,
            materials.MaterialItem.quantity,
            materials.MaterialItem.active,
        )
    )
    return [(i, c, int(q), bool(a)) for i, c, q, a in rows.all()]


async def available_for(session: AsyncSession, category: str, item_id: uuid.UUID | None) -> int | None:
    """Stock that could meet a request now (None for a venue, which is arranged rather than issued)."""
    return available_in(await inventory(session), category, item_id)


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
        state=LogisticsState.requested.value,
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
        **drill_of(incident),
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
    workflow.logistics_transition(request.state, LogisticsAction.fulfil)  # 409 unless still requested
    stale("logistics request", request.version, version, request.state)
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
    outcome = workflow.logistics_transition(
        request.state, LogisticsAction.fulfil_short if short else LogisticsAction.fulfil
    )
    request.state, request.version, request.fulfilled_at = outcome.value, request.version + 1, utcnow()
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
        **drill_of(incident),
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
        **drill_of(incident),
    )
    return request
