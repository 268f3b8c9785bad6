"""University administration of identity: accounts, integrator API keys, and the journal feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy import select

from service.http.deps import Caller, Input, Page, Session
from service.http.security import requires
from tenants import identity, journal, paging
from tenants.identity import Account, ApiKey, Role

TENANT_ADMIN = requires(Role.tenant_admin)


class AccountCreate(Input):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    # Checked against the password policy (XINFANG_PASSWORD_MIN_LENGTH, common passwords, email, slug): 422.
    # The account's owner must change it at first sign-in.
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]
    role: Role
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


class AccountUpdate(Input):
    role: Role | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType = msgspec.UNSET


class AccountOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: str
    display_name: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        return cls(a.id, a.email, a.role, a.display_name, a.active, a.created_at)


class PasswordReset(msgspec.Struct):
    password: str
    note: str = "shown once; a one-time password: its owner must change it at the next sign-in"


class ApiKeyCreate(Input):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=20)]


class ApiKeyOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        return cls(k.id, k.name, list(k.scopes), k.created_at, k.revoked_at)


class ApiKeyCreated(msgspec.Struct):
    key: ApiKeyOut
    secret: str
    note: str = "shown once; store it in your integration's secret store"


class EventOut(msgspec.Struct):
    id: uuid.UUID
    occurred_at: datetime
    type: str
    actor_id: uuid.UUID | None
    petition_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    payload: dict[str, Any]


class AccountController(Controller):
    path = "/api/v1/accounts"
    tags = ["identity"]

    @post("/", summary="Create an account in this university", **TENANT_ADMIN)
    async def create(self, data: JSONBody[AccountCreate], db_session: Session, principal: Caller) -> AccountOut:
        account = await identity.create_account(
            db_session,
            email=data.email,
            password=data.password,
            role=data.role,
            display_name=data.display_name,
            actor_id=principal.subject_id,
        )
        return AccountOut.of(account)

    @get("/", summary="List accounts", **TENANT_ADMIN)
    async def list(
        self,
        db_session: Session,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page[AccountOut]:
        rows, after = await paging.keyset(db_session, select(Account), Account.id, after=cursor, limit=limit)
        return Page([AccountOut.of(a) for a in rows], str(after) if after else None)

    @get("/{account_id:uuid}", summary="Show an account", **TENANT_ADMIN)
    async def show(self, account_id: FromPath[uuid.UUID], db_session: Session) -> AccountOut:
        return AccountOut.of(await identity.get_account(db_session, account_id))

    @patch("/{account_id:uuid}", summary="Change role, name, or deactivate", **TENANT_ADMIN)
    async def update(
        self,
        account_id: FromPath[uuid.UUID],
        data: JSONBody[AccountUpdate],
        db_session: Session,
        principal: Caller,
    ) -> AccountOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        account = await identity.update_account(db_session, account_id, actor_id=principal.subject_id, **changes)
        return AccountOut.of(account)

    @post(
        "/{account_id:uuid}/password-reset",
        summary="Issue a one-time password (its sessions end; it must be changed at the next sign-in)",
        status_code=200,
        **TENANT_ADMIN,
    )
    async def reset_password(
        self, account_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> PasswordReset:
        return PasswordReset(await identity.reset_password(db_session, account_id, actor_id=principal.subject_id))


class ApiKeyController(Controller):
    path = "/api/v1/api-keys"
    tags = ["identity"]

    @post("/", summary="Create an integrator API key (the secret is shown once)", **TENANT_ADMIN)
    async def create(self, data: JSONBody[ApiKeyCreate], db_session: Session, principal: Caller) -> ApiKeyCreated:
        key, secret = await identity.create_api_key(
            db_session, name=data.name, scopes=data.scopes, actor_id=principal.subject_id
        )
        return ApiKeyCreated(ApiKeyOut.of(key), secret)

    @get("/", summary="List API keys (never their secrets)", **TENANT_ADMIN)
    async def list(self, db_session: Session) -> list[ApiKeyOut]:
        keys = await db_session.scalars(select(ApiKey).order_by(ApiKey.created_at))
        return [ApiKeyOut.of(k) for k in keys]

    @delete("/{key_id:uuid}", summary="Revoke an API key", status_code=204, **TENANT_ADMIN)
    async def revoke(self, key_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> None:
        await identity.revoke_api_key(db_session, key_id, actor_id=principal.subject_id)


class JournalController(Controller):
    path = "/api/v1/journal"
    tags = ["journal"]

    @get(
        "/",
        summary="Domain events of this university, oldest first",
        **requires(Role.tenant_admin, scopes=("events:read",)),
    )
    async def list(
        self,
        db_session: Session,
        after: Annotated[int | None, QueryParameter(description="the `next_cursor` of the previous page")] = None,
        type: Annotated[str | None, QueryParameter(max_length=80)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page[EventOut]:
        query = select(journal.JournalEvent)
        if type:
            query = query.where(journal.JournalEvent.type == type)
        rows, next_seq = await paging.keyset(db_session, query, journal.JournalEvent.seq, after=after, limit=limit)
        items = [
            EventOut(
                e.id,
                e.occurred_at,
                e.type,
                e.actor_id,
                e.petition_id,
                e.incident_id,
                e.org_unit_id,
                e.subject_id,
                e.payload,
            )
            for e in rows
        ]
        return Page(items, str(next_seq) if next_seq is not None else None)
