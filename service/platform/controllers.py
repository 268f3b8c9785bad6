"""Platform administration: universities (onboarding, suspension) and platform accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import File
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.http.deps import Caller, Input, Page, Session
from service.http.security import requires
from service.platform import services
from tenants import identity, paging, tenancy
from tenants.errors import Invalid, NotFound
from tenants.identity import Role
from tenants.ids import new_id
from tenants.provinces import is_valid_code
from tenants.tenancy import Tenant, TenantStatus

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TenantCreate(Input):
    slug: Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
    name_zh: Name
    name_en: Name
    province_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
    admin_email: Annotated[str, msgspec.Meta(max_length=254)]
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "Asia/Shanghai"


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    slug: str
    name_zh: str
    name_en: str
    province_code: str
    timezone: str
    status: str
    created_at: datetime
    provisioned_at: datetime | None

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls(
            t.id,
            t.slug,
            t.name_zh,
            t.name_en,
            t.province_code,
            t.timezone,
            t.status,
            t.created_at,
            t.provisioned_at,
        )


class AdminCredential(msgspec.Struct):
    email: str
    password: str
    note: str = "shown once; the admin should change it at first sign-in"


class TenantCreated(msgspec.Struct):
    tenant: TenantOut
    admin: AdminCredential


class PlatformAccountCreate(Input):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=12, max_length=200)]
    role: Role
    province_code: Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")] | None = None


class PlatformAccountOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: str
    province_code: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, a: identity.PlatformAccount) -> PlatformAccountOut:
        return cls(a.id, a.email, a.role, a.province_code, a.active, a.created_at)


class Offboarding(Input):
    # The university's code (its slug), typed again: the one guard between a slip and a deleted university.
    confirm: Annotated[str, msgspec.Meta(max_length=63)]


class TenantOffboarded(msgspec.Struct):
    tenant_id: uuid.UUID
    slug: str
    offboarded_at: datetime
    # Rows deleted per table, equal to the rows in the archive.
    rows: dict[str, int]
    archive_sha256: str
    # Where the operators find the archive, under the installation's data directory.
    archive_file: str

    @classmethod
    def of(cls, o: services.Offboarded) -> TenantOffboarded:
        return cls(o.tenant_id, o.slug, o.offboarded_at, o.rows, o.archive_sha256, o.archive_file)


ADMIN = requires(Role.platform_admin)


class PlatformController(Controller):
    path = "/api/v1/platform"
    tags = ["platform"]

    @post("/tenants", summary="Onboard a university (returns its first admin's one-time password)", **ADMIN)
    async def create_tenant(self, data: JSONBody[TenantCreate], state: State, principal: Caller) -> TenantCreated:
        return await onboard(state, data, principal.subject_id)

    @get("/tenants", summary="List universities", **ADMIN)
    async def list_tenants(
        self,
        state: State,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        status: FromQuery[TenantStatus | None] = None,
    ) -> Page[TenantOut]:
        query = select(Tenant)
        if status:
            query = query.where(Tenant.status == status)
        async with state.db.transaction() as session:
            rows, after = await paging.keyset(session, query, Tenant.slug, after=cursor or None, limit=limit)
        return Page([TenantOut.of(t) for t in rows], after)

    @get("/tenants/{tenant_id:uuid}", summary="Show a university", **ADMIN)
    async def get_tenant(self, tenant_id: FromPath[uuid.UUID], state: State) -> TenantOut:
        async with state.db.transaction() as session:
            return TenantOut.of(await tenancy.get_tenant(session, tenant_id))

    @post("/tenants/{tenant_id:uuid}/suspend", summary="Suspend a university", status_code=200, **ADMIN)
    async def suspend(self, tenant_id: FromPath[uuid.UUID], state: State, principal: Caller) -> TenantOut:
        return await change_status(state, tenant_id, TenantStatus.suspended, principal.subject_id)

    @post("/tenants/{tenant_id:uuid}/reactivate", summary="Reactivate a university", status_code=200, **ADMIN)
    async def reactivate(self, tenant_id: FromPath[uuid.UUID], state: State, principal: Caller) -> TenantOut:
        return await change_status(state, tenant_id, TenantStatus.active, principal.subject_id)

    @get(
        "/tenants/{tenant_id:uuid}/archive",
        summary="Export a university as one archive (the .tar.gz of `xinfang tenant export`); once offboarded, the "
        "archive its offboarding kept",
        opt={"produces": ("gzip",)},
        **ADMIN,
    )
    async def export_archive(self, tenant_id: FromPath[uuid.UUID], state: State, principal: Caller) -> File:
        return await download_archive(state, tenant_id, principal.subject_id)

    @post(
        "/tenants/{tenant_id:uuid}/offboard",
        summary="Offboard a university: export it, then delete all its rows (confirm with its code)",
        status_code=200,
        **ADMIN,
    )
    async def offboard(
        self, tenant_id: FromPath[uuid.UUID], data: JSONBody[Offboarding], state: State, principal: Caller
    ) -> TenantOffboarded:
        return TenantOffboarded.of(await offboard_university(state, tenant_id, data.confirm, principal.subject_id))

    @get("/accounts", summary="List platform accounts (bureau viewers by province)", **ADMIN)
    async def list_accounts(
        self,
        db_session: Session,
        role: FromQuery[Role | None] = None,
        province_code: Annotated[str | None, QueryParameter(pattern=r"^\d{6}$")] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[PlatformAccountOut]:
        rows = await services.list_platform_accounts(db_session, role=role, province_code=province_code, active=active)
        return [PlatformAccountOut.of(a) for a in rows]

    @post(
        "/accounts/{account_id:uuid}/deactivate",
        summary="Deactivate a platform account (its sessions and tokens end)",
        status_code=200,
        **ADMIN,
    )
    async def deactivate_account(
        self, account_id: FromPath[uuid.UUID], db_session: Session, state: State, principal: Caller
    ) -> PlatformAccountOut:
        return await deactivate_account(state, db_session, account_id, principal.subject_id)

    @post("/accounts", summary="Create a platform admin or a bureau viewer", **ADMIN)
    async def create_account(self, data: JSONBody[PlatformAccountCreate], state: State) -> PlatformAccountOut:
        return await create_platform_account(state, data)


# --- what the API and the console both do --------------------------------------------------------------------


async def onboard(state: State, data: TenantCreate, actor_id: uuid.UUID | None) -> TenantCreated:
    """Create a university and its first admin (whose one-time password is in the answer)."""
    tenant_id = new_id()
    async with state.db.transaction(tenant_id) as session:
        tenant, admin, password = await tenancy.create_tenant(
            session,
            slug=data.slug,
            name_zh=data.name_zh,
            name_en=data.name_en,
            province_code=data.province_code,
            timezone=data.timezone,
            admin_email=data.admin_email,
            actor_id=actor_id,
        )
    return TenantCreated(TenantOut.of(tenant), AdminCredential(admin.email, password))


async def change_status(
    state: State, tenant_id: uuid.UUID, status: TenantStatus, actor_id: uuid.UUID | None
) -> TenantOut:
    """Suspend or reactivate a university; this process forgets its cached status and keys at once."""
    async with state.db.transaction(tenant_id) as session:
        tenant = await tenancy.get_tenant(session, tenant_id)
        await tenancy.set_status(session, tenant, status, actor_id=actor_id)
    state.authenticator.tenants.clear()
    state.authenticator.keys.clear()
    return TenantOut.of(tenant)


async def offboard_university(
    state: State, tenant_id: uuid.UUID, confirm: str, actor_id: uuid.UUID | None
) -> services.Offboarded:
    done = await services.offboard(state.db, state.settings, tenant_id, confirm, services.actor_of(actor_id))
    state.authenticator.tenants.clear()
    state.authenticator.keys.clear()
    return done


async def deactivate_account(
    state: State, session: AsyncSession, account_id: uuid.UUID, actor_id: uuid.UUID | None
) -> PlatformAccountOut:
    account = await services.deactivate_platform_account(session, account_id, actor_id=actor_id)
    state.authenticator.sessions.clear()
    state.authenticator.keys.clear()  # the account's platform tokens
    return PlatformAccountOut.of(account)


async def create_platform_account(state: State, data: PlatformAccountCreate) -> PlatformAccountOut:
    """A platform admin, or a bureau viewer of one province; its password is to be changed at first sign-in."""
    if data.role is Role.bureau_viewer and not (data.province_code and is_province(data.province_code)):
        raise Invalid(
            "a bureau viewer needs a province",
            errors=[{"field": "province_code", "message": "a GB/T 2260 province code such as 440000"}],
        )
    async with state.db.transaction() as session:
        account = await identity.create_platform_account(
            session,
            email=data.email,
            password=data.password,
            role=data.role,
            province_code=data.province_code,
            must_change_password=True,  # issued by an admin: its owner chooses their own at first sign-in
        )
    return PlatformAccountOut.of(account)


async def download_archive(state: State, tenant_id: uuid.UUID, actor_id: uuid.UUID | None) -> File:
    """A university's archive, exported now; for a university offboarded here, the archive its offboarding kept."""
    async with state.db.transaction() as session:
        tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        kept = await services.kept_archive(state.db, state.settings, tenant_id)
        if kept is None:
            raise NotFound("no such university")
        return archive_file(*kept, temporary=False)
    archive = await services.export_to_temp(state.settings, tenant_id, services.actor_of(actor_id))
    return archive_file(archive, tenant.slug)


def archive_file(archive: Path, slug: str, *, temporary: bool = True) -> File:
    """The archive as a download (streamed from disk); a temporary one is removed once sent."""
    return File(
        path=archive,
        filename=services.archive_name(slug),
        media_type="application/gzip",
        background=BackgroundTask(services.discard, archive) if temporary else None,
    )


def is_province(code: str) -> bool:
    return is_valid_code(code) and code.endswith("0000")
