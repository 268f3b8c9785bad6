"""Tenants (universities): the global table, onboarding, suspension, and provisioning."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import identity, journal, org
from tenants.cache import TTLCache
from tenants.clock import utcnow
from tenants.db import Base, require_tenant, tenant_statements
from tenants.errors import Conflict, Invalid, NotFound
from tenants.ids import new_id
from tenants.plans import services as plans
from tenants.provinces import is_valid_code

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class TenantStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"


class Tenant(Base):
    """A university. Global table (a reference table on Citus): no tenant_id, no row-level security."""

    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    province_code: Mapped[str] = mapped_column(String(6), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Shanghai")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=TenantStatus.active)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    suspended_at: Mapped[datetime | None]
    provisioned_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("status in ('active', 'suspended')", name="status"),
        CheckConstraint("province_code ~ '^[0-9]{6}$'", name="province_code"),
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def validate_new_tenant(slug: str, province_code: str, timezone: str) -> None:
    errors = []
    if not SLUG.match(slug):
        errors.append({"field": "slug", "message": "lowercase letters, digits and hyphens, 1-63 characters"})
    if not is_valid_code(province_code):
        errors.append({"field": "province_code", "message": "a GB/T 2260 six-digit code of a province"})
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append({"field": "timezone", "message": f"unknown time zone {timezone!r}"})
    if errors:
        raise Invalid("the university cannot be created", errors=errors)


async def create_tenant(
    session: AsyncSession,
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    province_code: str,
    timezone: str,
    admin_email: str,
    actor_id: uuid.UUID | None,
) -> tuple[Tenant, identity.Account, str]:
    """Create a university and its first tenant admin; returns the admin's one-time password.

    The session must have been opened in the new tenant's context: pass ``tenant_id`` to
    ``Database.transaction`` with an id from ``new_id()``; the tenant row takes that id.
    """
    validate_new_tenant(slug, province_code, timezone)
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise Conflict(f"a university with slug {slug!r} exists", code="slug-taken")
    tenant_id = require_tenant()
    tenant = Tenant(
        id=tenant_id,
        slug=slug,
        name_zh=name_zh,
        name_en=name_en,
        province_code=province_code,
        timezone=timezone,
    )
    session.add(tenant)
    await session.flush()
    password = identity.generate_password()
    admin = await identity.create_account(
        session,
        email=admin_email,
        password=password,
        role=identity.Role.tenant_admin,
        display_name=None,
        actor_id=actor_id,
    )
    await journal.record(session, "tenant.created", actor_id=actor_id, subject_id=tenant.id, slug=slug)
    return tenant, admin, password


async def active_tenant_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every active university (what the periodic sweeps visit); suspended ones are skipped."""
    return list(await session.scalars(select(Tenant.id).where(Tenant.status == TenantStatus.active)))


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("no such university")
    return tenant


async def find_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.slug == slug))


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"no university {slug!r}")
    return tenant


async def set_status(
    session: AsyncSession, tenant: Tenant, status: TenantStatus, *, actor_id: uuid.UUID | None
) -> Tenant:
    """Suspend or reactivate; journaled in the tenant's own journal (run in the tenant's context)."""
    if tenant.status == status:
        return tenant
    tenant.status = status
    tenant.suspended_at = utcnow() if status is TenantStatus.suspended else None
    event = "tenant.suspended" if status is TenantStatus.suspended else "tenant.reactivated"
    await journal.record(session, event, actor_id=actor_id, subject_id=tenant.id)
    await session.flush()
    return tenant


async def change_timezone(session: AsyncSession, timezone: str, *, actor_id: uuid.UUID | None) -> ZoneInfo:
    """Change the current university's time zone (an IANA name): its local days, deadlines' working days and
    report periods follow it from now on; what is stored stays in UTC. Journaled; the zone cache of this process
    is cleared, others follow within a minute."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "unknown time zone", errors=[{"field": "timezone", "message": f"unknown time zone {timezone!r}"}]
        ) from None
    tenant = await session.scalar(select(Tenant).where(Tenant.id == require_tenant()).with_for_update())
    if tenant is None:
        raise NotFound("no such university")
    if tenant.timezone != timezone:
        previous, tenant.timezone = tenant.timezone, timezone
        await journal.record(
            session,
            "tenant.timezone_changed",
            actor_id=actor_id,
            subject_id=tenant.id,
            timezone=timezone,
            previous_timezone=previous,
        )
        await session.flush()
    _zones.put(tenant.id, zone)
    return zone


async def provision(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Finish onboarding (run by a background job); idempotent. Returns False when already provisioned."""
    tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id).with_for_update())
    if tenant is None:
        raise NotFound("no such university")
    if tenant.provisioned_at is not None:
        return False
    tenant.provisioned_at = utcnow()
    await org.seed_default_groups(session)
    await plans.ensure_default_draft(session)
    await journal.record(session, "tenant.provisioned", subject_id=tenant.id)
    return True


# A university's zone changes rarely (its admin may correct it): cached per process for a minute, cleared at once
# in the process that changes it.
_zones = TTLCache(60.0)


async def tenant_zone(session: AsyncSession | asyncpg.Connection) -> ZoneInfo:
    """The current tenant's time zone (cached for a minute). ``session`` may also be an asyncpg
    connection (``Database.intake_connection`` or ``driver_transaction``)."""
    tenant_id = require_tenant()
    zone = _zones.get(tenant_id)
    if zone is None:
        if isinstance(session, AsyncSession):
            name = await session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
        else:
            async with tenant_statements(session, tenant_id):
                name = await session.fetchval("select timezone from tenants where id = $1", tenant_id)
        zone = ZoneInfo(name or "Asia/Shanghai")
        _zones.put(tenant_id, zone)
    return zone
