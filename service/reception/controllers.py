"""HTTP for leaders' reception days: the office's sessions, the public schedule and booking, visits, 包案."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from sqlalchemy import select

from service.http.deps import Caller, Session
from service.http.guards import OFFICE, PUBLIC, STAFF
from service.http.public import enter_tenant
from service.petitions import services as petitions
from service.petitions.controllers import by_lookup_code, submission
from service.reception import schemas as s
from service.reception import services
from tenants import org
from tenants.errors import Invalid
from tenants.tenancy import tenant_zone


def _visit(data: Any) -> petitions.Submission:
    return dataclasses.replace(submission(data), channel="visit")


class ReceptionController(Controller):
    path = "/api/v1/reception-sessions"
    tags = ["reception"]

    @post("/", summary="Schedule a leaders' reception session", **OFFICE)
    async def create(self, data: JSONBody[s.SessionIn], db_session: Session, principal: Caller) -> s.SessionOut:
        row = await services.create_session(
            db_session, actor_id=principal.subject_id, **{f: getattr(data, f) for f in data.__struct_fields__}
        )
        return s.SessionOut.of(row)

    @get("/", summary="Every reception session, soonest first", **STAFF)
    async def list(self, db_session: Session) -> list[s.SessionOut]:
        return [s.SessionOut.of(r) for r in await services.list_sessions(db_session)]

    @get("/{session_id:uuid}", summary="One reception session", **STAFF)
    async def show(self, session_id: FromPath[uuid.UUID], db_session: Session) -> s.SessionOut:
        return s.SessionOut.of(await services.get_session(db_session, session_id))

    @patch("/{session_id:uuid}", summary="Change a reception session (never below its bookings)", **OFFICE)
    async def update(
        self, session_id: FromPath[uuid.UUID], data: JSONBody[s.SessionPatch], db_session: Session, principal: Caller
    ) -> s.SessionOut:
        changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None}
        if not changes:
            raise Invalid("nothing to change")
        row = await services.update_session(db_session, session_id, actor_id=principal.subject_id, **changes)
        return s.SessionOut.of(row)

    @delete("/{session_id:uuid}", summary="Cancel a reception session", status_code=204, **OFFICE)
    async def cancel(self, session_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> None:
        await services.cancel_session(db_session, session_id, actor_id=principal.subject_id)

    @get("/{session_id:uuid}/bookings", summary="The slots booked at a session", **OFFICE)
    async def bookings(self, session_id: FromPath[uuid.UUID], db_session: Session) -> builtins.list[s.BookingOut]:
        return [s.BookingOut.of(b, n) for b, n in await services.bookings(db_session, session_id)]

    @post("/{session_id:uuid}/visits", summary="Register a visit held at the session as a petition (channel visit)",
          **OFFICE)  # fmt: skip
    async def visit(
        self,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[s.VisitIn],
        db_session: Session,
        principal: Caller,
        state: State,
    ) -> s.VisitOut:
        pid, number, code = await services.register_visit(
            db_session, state.db, session_id, _visit(data), principal=principal, in_charge=data.in_charge
        )
        leader = (await services.get_session(db_session, session_id)).leader_person_id if data.in_charge else None
        return s.VisitOut(petition_id=pid, tracking_number=number, lookup_code=code, in_charge_person_id=leader)

    @post("/{session_id:uuid}/in-charge", summary="The receiving leader takes personal charge of a petition (包案)",
          status_code=200, **STAFF)  # fmt: skip
    async def in_charge(
        self, session_id: FromPath[uuid.UUID], data: JSONBody[s.InChargeIn], db_session: Session, principal: Caller
    ) -> dict[str, Any]:
        petition = await services.take_charge(db_session, session_id, data.petition_id, principal=principal)
        return {"petition_id": petition.id, "in_charge_person_id": petition.in_charge_person_id}


class PublicReceptionController(Controller):
    path = "/api/v1/t/{slug:str}/reception-sessions"
    tags = ["reception (public)"]

    @get("/", summary="The upcoming leaders' reception sessions (public; no personal data)", **PUBLIC)
    async def schedule(self, slug: FromPath[str], state: State, db_session: Session) -> list[s.PublicSessionOut]:
        await enter_tenant(state, slug)
        return await public_schedule(db_session)

    @post("/{session_id:uuid}/bookings", summary="Book a slot: with a tracking number and lookup code, or a new "
          "petition", **PUBLIC)  # fmt: skip
    async def book(
        self,
        slug: FromPath[str],
        session_id: FromPath[uuid.UUID],
        data: JSONBody[s.BookingIn],
        db_session: Session,
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
    ) -> s.BookedOut:
        if (data.existing is None) == (data.petition is None):
            raise Invalid(
                "give an existing petition or a new one",
                errors=[{"field": "existing", "message": "exactly one of existing and petition"}],
            )
        if data.existing is not None:
            petition = await by_lookup_code(
                state, request, db_session, slug, data.existing.tracking_number, data.existing.lookup_code
            )
            booked = await services.book_existing(db_session, session_id, petition)
        else:
            assert data.petition is not None
            await enter_tenant(state, slug)
            booked = await services.book_new(
                db_session, state.db, session_id, _visit(data.petition), principal=principal
            )
        return s.BookedOut(
            booking_id=booked.booking.id,
            session_id=session_id,
            slot=booked.booking.slot,
            petition_id=booked.petition_id,
            tracking_number=booked.tracking_number,
            lookup_code=booked.lookup_code,
        )


async def public_schedule(db_session: Session) -> list[s.PublicSessionOut]:
    """The upcoming sessions as the public sees them (the API and the student's page alike): the leader by post,
    never by name; times in the university's zone."""
    zone = await tenant_zone(db_session)
    rows = await services.list_sessions(db_session, upcoming_only=True, include_cancelled=False)
    leaders = [r.leader_person_id for r in rows]
    titles = {
        p: (zh, en)
        for p, zh, en in (
            await db_session.execute(
                select(org.Person.id, org.Person.title_zh, org.Person.title_en).where(org.Person.id.in_(leaders))
            )
        ).all()
    }
    return [s.PublicSessionOut.of(r, zone, *titles.get(r.leader_person_id, (None, None))) for r in rows]
