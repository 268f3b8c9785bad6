"""Reception day rules: sessions (the office), bookings (petitioners; capacity never exceeded under
concurrency), visits registered as petitions of channel ``visit``, and a leader's personal charge (包案).

Capacity: a booking raises ``booked`` by one conditional UPDATE (``booked < capacity``) that locks the session
row, so concurrent bookings queue on it and the one past the last slot finds no row (409 ``session-full``); the
table's check (``booked between 0 and capacity``) holds it too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions import services as petitions
from service.petitions.models import Petition
from service.petitions.scope import OFFICE_ROLES
from service.reception.models import Booking, ReceptionSession
from tenants import journal, org
from tenants.clock import utcnow
from tenants.db import Database
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.identity import Principal
from tenants.tenancy import tenant_zone


def _validate(starts_at: datetime, ends_at: datetime, capacity: int, now: datetime) -> None:
    errors = []
    if ends_at <= starts_at:
        errors.append({"field": "ends_at", "message": "after starts_at"})
    if starts_at <= now:
        errors.append({"field": "starts_at", "message": "in the future"})
    if not 1 <= capacity <= 500:
        errors.append({"field": "capacity", "message": "between 1 and 500"})
    if errors:
        raise Invalid("the reception session is invalid", errors=errors)


async def _leader(session: AsyncSession, person_id: uuid.UUID) -> org.Person:
    person = await session.scalar(select(org.Person).where(org.Person.id == person_id))
    if person is None or not person.active:
        raise Invalid("no such active person", errors=[{"field": "leader_person_id", "message": "unknown person"}])
    return person


async def held_on(session: AsyncSession, row: ReceptionSession) -> str:
    return row.starts_at.astimezone(await tenant_zone(session)).date().isoformat()


async def create_session(session: AsyncSession, *, actor_id: uuid.UUID | None, **values: Any) -> ReceptionSession:
    _validate(values["starts_at"], values["ends_at"], values["capacity"], utcnow())
    await _leader(session, values["leader_person_id"])
    row = ReceptionSession(**values, booked=0, cancelled=False, created_by=actor_id)
    session.add(row)
    await session.flush()
    await journal.record(
        session,
        "reception.session_created",
        actor_id=actor_id,
        subject_id=row.id,
        held_on=await held_on(session, row),
        capacity=row.capacity,
    )
    return row


async def get_session(session: AsyncSession, session_id: uuid.UUID, *, lock: bool = False) -> ReceptionSession:
    query = select(ReceptionSession).where(ReceptionSession.id == session_id)
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("no such reception session")
    return row


async def list_sessions(
    session: AsyncSession, *, upcoming_only: bool = False, include_cancelled: bool = True
) -> list[ReceptionSession]:
    query = select(ReceptionSession)
    if upcoming_only:
        query = query.where(ReceptionSession.ends_at > utcnow())
    if not include_cancelled:
        query = query.where(ReceptionSession.cancelled.is_(False))
    return list(await session.scalars(query.order_by(ReceptionSession.starts_at, ReceptionSession.id)))


async def update_session(
    session: AsyncSession, session_id: uuid.UUID, *, actor_id: uuid.UUID | None, **changes: Any
) -> ReceptionSession:
    row = await get_session(session, session_id, lock=True)
    if row.cancelled:
        raise Conflict("the session was cancelled / 本场接访已取消", code="session-cancelled")
    merged = {k: changes.get(k, getattr(row, k)) for k in ("starts_at", "ends_at", "capacity")}
    _validate(merged["starts_at"], merged["ends_at"], merged["capacity"], utcnow())
    if merged["capacity"] < row.booked:
        raise Conflict(f"{row.booked} slots are booked already", code="capacity-below-bookings", booked=row.booked)
    if "leader_person_id" in changes:
        await _leader(session, changes["leader_person_id"])
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    await session.flush()
    await journal.record(
        session, "reception.session_updated", actor_id=actor_id, subject_id=row.id, changed=sorted(changes)
    )
    return row


async def cancel_session(session: AsyncSession, session_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
    row = await get_session(session, session_id, lock=True)
    if row.cancelled:
        return
    row.cancelled, row.updated_at = True, utcnow()
    await session.flush()
    await journal.record(
        session,
        "reception.session_cancelled",
        actor_id=actor_id,
        subject_id=row.id,
        held_on=await held_on(session, row),
    )


async def bookings(session: AsyncSession, session_id: uuid.UUID) -> list[tuple[Booking, str]]:
    await get_session(session, session_id)
    rows = await session.execute(
        select(Booking, Petition.tracking_number)
        .join(Petition, Petition.id == Booking.petition_id)
        .where(Booking.session_id == session_id)
        .order_by(Booking.slot)
    )
    return [(b, n) for b, n in rows.all()]


@dataclass(frozen=True)
class Booked:
    booking: Booking
    petition_id: uuid.UUID
    tracking_number: str
    lookup_code: str | None  # only for a petition submitted with the booking


async def _take_slot(session: AsyncSession, session_id: uuid.UUID) -> int:
    """One more slot of the session, or 409: the conditional UPDATE locks the row, so bookings queue on it."""
    await get_session(session, session_id)
    slot = await session.scalar(
        update(ReceptionSession)
        .where(
            ReceptionSession.id == session_id,
            ReceptionSession.cancelled.is_(False),
            ReceptionSession.starts_at > utcnow(),
            ReceptionSession.booked < ReceptionSession.capacity,
        )
        .values(booked=ReceptionSession.booked + 1)
        .returning(ReceptionSession.booked)
        .execution_options(synchronize_session=False)
    )
    if slot is None:
        row = await get_session(session, session_id)
        if row.cancelled:
            raise Conflict("the session was cancelled / 本场接访已取消", code="session-cancelled")
        if row.starts_at <= utcnow():
            raise Conflict(
                "the session has begun; book another / 本场接访已开始，请预约其他场次", code="session-started"
            )
        raise Conflict(
            "every slot of this session is booked / 本场接访已约满", code="session-full", capacity=row.capacity
        )
    return int(slot)


async def _link(session: AsyncSession, session_id: uuid.UUID, petition_id: uuid.UUID, *, new: bool) -> Booking:
    taken = await session.scalar(
        select(Booking.id).where(Booking.session_id == session_id, Booking.petition_id == petition_id)
    )
    if taken is not None:
        raise Conflict(
            "this petition has a slot in this session already / 该信访事项已预约本场接访", code="already-booked"
        )
    slot = await _take_slot(session, session_id)
    booking = Booking(session_id=session_id, petition_id=petition_id, slot=slot)
    session.add(booking)
    await session.execute(
        update(Petition)
        .where(Petition.id == petition_id, Petition.reception_session_id.is_(None))
        .values(reception_session_id=session_id)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await journal.record(session, "reception.booked", petition_id=petition_id, subject_id=session_id, new_petition=new)
    return booking


async def book_existing(session: AsyncSession, session_id: uuid.UUID, petition: Petition) -> Booked:
    booking = await _link(session, session_id, petition.id, new=False)
    return Booked(booking, petition.id, petition.tracking_number, None)


async def book_new(
    session: AsyncSession, db: Database, session_id: uuid.UUID, data: petitions.Submission, *, principal: Principal
) -> Booked:
    """Submit the petition through the intake service (channel ``visit``) and book its slot, in one transaction."""
    await get_session(session, session_id)
    submitted = await petitions.submit(session, db, data, principal=principal)
    assert submitted.petition is not None
    booking = await _link(session, session_id, submitted.petition.id, new=True)
    return Booked(booking, submitted.petition.id, submitted.petition.tracking_number, submitted.lookup_code)


async def register_visit(
    session: AsyncSession,
    db: Database,
    session_id: uuid.UUID,
    data: petitions.Submission,
    *,
    principal: Principal,
    in_charge: bool,
) -> tuple[uuid.UUID, str, str]:
    """A visit held at the session, registered by staff as a petition of channel ``visit`` linked to the session
    (and, ``in_charge``, taken in personal charge by its leader)."""
    row = await get_session(session, session_id)
    if row.cancelled:
        raise Conflict("the session was cancelled / 本场接访已取消", code="session-cancelled")
    submitted = await petitions.submit(session, db, data, principal=principal, registered_by=principal.subject_id)
    assert submitted.petition is not None
    pid = submitted.petition.id
    await session.execute(
        update(Petition)
        .where(Petition.id == pid)
        .values(reception_session_id=session_id)
        .execution_options(synchronize_session=False)
    )
    await journal.record(
        session, "reception.visit_registered", actor_id=principal.subject_id, petition_id=pid, subject_id=session_id
    )
    if in_charge:
        await take_charge(session, session_id, pid, principal=principal)
    return pid, submitted.petition.tracking_number, submitted.lookup_code


async def take_charge(
    session: AsyncSession, session_id: uuid.UUID, petition_id: uuid.UUID, *, principal: Principal
) -> Petition:
    """The session's receiving leader takes personal charge of a petition of the session (包案): the leader
    themself (the account linked to the person) or the petition office on their behalf."""
    row = await get_session(session, session_id)
    leader = await _leader(session, row.leader_person_id)
    if principal.role not in OFFICE_ROLES and (
        principal.subject_id is None or leader.account_id != principal.subject_id
    ):
        raise Forbidden("only the receiving leader or the petition office records a personal charge")
    petition = await session.scalar(
        select(Petition).where(Petition.id == petition_id).with_for_update().execution_options(populate_existing=True)
    )
    linked = petition is not None and (
        petition.reception_session_id == session_id
        or await session.scalar(
            select(Booking.id).where(Booking.session_id == session_id, Booking.petition_id == petition_id)
        )
    )
    if petition is None or not linked:
        raise NotFound("no such petition at this reception session")
    if petition.in_charge_person_id == leader.id:
        return petition
    petition.in_charge_person_id = leader.id
    petition.updated_at = utcnow()
    await session.flush()
    await journal.record(
        session,
        "reception.in_charge_taken",
        actor_id=principal.subject_id,
        petition_id=petition.id,
        subject_id=session_id,
        org_unit_id=leader.unit_id,
    )
    return petition
