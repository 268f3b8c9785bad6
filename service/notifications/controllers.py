"""HTTP for notifications: a staff member's feed and preferences; the petitioner's opt-out (by tracking number
and lookup code, or by the link every message carries)."""

from __future__ import annotations

import builtins
import hmac
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from service.http.deps import Caller, Input, Page, Session
from service.http.guards import PUBLIC, STAFF
from service.http.public import enter_tenant
from service.notifications import services
from service.notifications.dispatch import opt_out_token, preferences
from service.notifications.models import KINDS, Kind, Notification, Preference
from service.petitions.controllers import by_lookup_code
from service.petitions.models import Petition
from service.petitions.schemas import LookupIn
from tenants import journal
from tenants.clock import utcnow
from tenants.errors import Invalid, NotFound
from tenants.identity import Principal


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    event_type: str
    event_id: uuid.UUID
    petition_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            n.id,
            n.kind,
            n.event_type,
            n.event_id,
            n.petition_id,
            n.incident_id,
            n.org_unit_id,
            n.subject_id,
            n.created_at,
            n.read_at,
        )


class PreferenceIO(Input):
    kind: Kind
    feed: bool = True
    email: bool = True


class ReadAllOut(msgspec.Struct):
    read: int


class OptedOut(msgspec.Struct):
    opted_out: bool = True


def _account(principal: Principal) -> uuid.UUID:
    assert principal.subject_id is not None
    return principal.subject_id


async def _preferences(session: Session, account_id: uuid.UUID) -> list[PreferenceIO]:
    return [PreferenceIO(kind=k, feed=f, email=e) for k, (f, e) in (await preferences(session, account_id)).items()]


class NotificationController(Controller):
    """My notification feed (newest first) and which kinds reach me by which channel."""

    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/", summary="My notifications, newest first (keyset paging by cursor)", **STAFF)
    async def list(
        self,
        db_session: Session,
        principal: Caller,
        unread: FromQuery[bool] = False,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page[NotificationOut]:
        rows, after = await services.feed(db_session, _account(principal), unread=unread, cursor=cursor, limit=limit)
        return Page([NotificationOut.of(n) for n in rows], str(after) if after else None)

    @post("/{notification_id:uuid}/read", summary="Mark one of my notifications read", status_code=200, **STAFF)
    async def read(
        self, notification_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> NotificationOut:
        return NotificationOut.of(await services.mark_read(db_session, _account(principal), notification_id))

    @post("/read-all", summary="Mark all my notifications read", status_code=200, **STAFF)
    async def read_all(self, db_session: Session, principal: Caller) -> ReadAllOut:
        return ReadAllOut(await services.mark_all_read(db_session, _account(principal)))

    @get("/preferences", summary="Which kinds reach me, in the feed and by email", **STAFF)
    async def get_preferences(self, db_session: Session, principal: Caller) -> builtins.list[PreferenceIO]:
        return await _preferences(db_session, _account(principal))

    @put("/preferences", summary="Choose which kinds reach me, in the feed and by email", **STAFF)
    async def put_preferences(
        self, data: JSONBody[builtins.list[PreferenceIO]], db_session: Session, principal: Caller
    ) -> builtins.list[PreferenceIO]:
        kinds = [p.kind for p in data]
        if len(set(kinds)) != len(kinds):
            raise Invalid("each kind at most once", errors=[{"field": "kind", "message": "repeated"}])
        account_id = _account(principal)
        now = utcnow()
        for p in data:
            assert p.kind in KINDS
            await db_session.execute(
                insert(Preference)
                .values(account_id=account_id, kind=p.kind, feed=p.feed, email=p.email, updated_at=now)
                .on_conflict_do_update(
                    index_elements=[Preference.tenant_id, Preference.account_id, Preference.kind],
                    set_={"feed": p.feed, "email": p.email, "updated_at": now},
                )
            )
        await db_session.flush()
        return await _preferences(db_session, account_id)

    @get("/unread-count", summary="How many of my notifications are unread", **STAFF)
    async def unread_count(self, db_session: Session, principal: Caller) -> dict[str, int]:
        return {"unread": await services.unread_count(db_session, _account(principal))}


async def _opt_out(session: Session, petition: Petition) -> None:
    """Clear the consent (and the contact it was given for); journaled once."""
    if petition.notify_consent or petition.notify_email or petition.notify_phone:
        petition.notify_consent = False
        petition.notify_email = None
        petition.notify_phone = None
        await journal.record(session, "notification.opted_out", petition_id=petition.id)


class PublicNotificationController(Controller):
    """The petitioner's opt-out: with the tracking number and lookup code, or by the link in every message."""

    path = "/api/v1/t/{slug:str}/notifications"
    tags = ["petitions (public)"]

    @post(
        "/opt-out",
        summary="Stop notifications on my petition (tracking number and lookup code)",
        status_code=200,
        **PUBLIC,
    )
    async def opt_out(
        self,
        slug: FromPath[str],
        data: JSONBody[LookupIn],
        db_session: Session,
        state: State,
        request: Request[Any, Any, Any],
    ) -> OptedOut:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        await _opt_out(db_session, petition)
        return OptedOut()

    @get(
        "/opt-out/{petition_id:uuid}/{token:str}",
        summary="Stop notifications on a petition: the link every message carries",
        media_type="text/plain; charset=utf-8",
        **PUBLIC,
    )
    async def opt_out_link(
        self,
        slug: FromPath[str],
        petition_id: FromPath[uuid.UUID],
        token: FromPath[str],
        db_session: Session,
        state: State,
    ) -> Response[str]:
        await enter_tenant(state, slug)
        petition = await db_session.scalar(select(Petition).where(Petition.id == petition_id))
        if petition is None or not hmac.compare_digest(token, opt_out_token(petition_id)):
            raise NotFound("no such link")
        await _opt_out(db_session, petition)
        return Response("您已退订该信访事项的通知。 You will receive no more notifications on this petition.\n")
