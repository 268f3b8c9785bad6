"""Public routes of one university (``/api/v1/t/{slug}/...``): the slug names the tenant of the request."""

from __future__ import annotations

import uuid

from litestar.datastructures import State
from sqlalchemy import select

from service.http.security import refuse_foreign
from tenants.cache import TTLCache
from tenants.db import set_tenant
from tenants.errors import NotFound, TenantSuspended
from tenants.tenancy import Tenant, TenantStatus

# Slug -> (tenant id, time zone name): both immutable, so cached; the status is checked through the authenticator's
# cache, which honours XINFANG_TENANT_CACHE_SECONDS like every authenticated request.
_slugs = TTLCache(300.0)


async def enter_tenant(state: State, slug: str) -> uuid.UUID:
    """Resolve a public route's university, refuse a suspended one and another university's (or the platform's)
    credentials, and make it the request's tenant context."""
    tenant_id = _slugs.get(slug)
    if tenant_id is None:
        async with state.db.sessionmaker() as session:
            tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        if tenant_id is None:
            raise NotFound(f"no university {slug!r}")
        _slugs.put(slug, tenant_id)
    refuse_foreign(tenant_id)
    if await state.authenticator.tenant_status(tenant_id) == TenantStatus.suspended:
        raise TenantSuspended("this university's account is suspended")
    set_tenant(tenant_id)
    return tenant_id
