"""The demo university that ``make run`` seeds, and the credentials written to ``demo-credentials.json``.

Idempotent: a second run keeps the university and the credentials already written; missing credentials are
re-issued (a new platform token, a new admin password, a new integrator key).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.petitions.seed import seed_demo_categories
from tenants import identity, tenancy
from tenants.db import Database
from tenants.identity import Role
from tenants.ids import new_id

DEMO_SLUG = "demo"
PLATFORM_ADMIN_EMAIL = "admin@xinfang.local"
TENANT_ADMIN_EMAIL = "admin@demo.edu.cn"


async def seed_demo(db: Database, known: dict[str, Any]) -> dict[str, Any]:
    """Ensure the demo university exists; returns the credentials (``known`` plus whatever was re-issued)."""
    creds = dict(known)
    async with db.transaction() as session:
        admin = await session.scalar(
            select(identity.PlatformAccount).where(identity.PlatformAccount.email == PLATFORM_ADMIN_EMAIL)
        )
        if admin is None:
            creds["platform_admin_password"] = identity.generate_password()
            admin = await identity.create_platform_account(
                session,
                email=PLATFORM_ADMIN_EMAIL,
                password=creds["platform_admin_password"],
                role=Role.platform_admin,
            )
            creds.pop("platform_admin_token", None)
        if "platform_admin_token" not in creds:
            creds["platform_admin_token"] = await identity.create_platform_token(session, admin, "demo")
        creds["platform_admin_email"] = PLATFORM_ADMIN_EMAIL
        tenant = await session.scalar(select(tenancy.Tenant).where(tenancy.Tenant.slug == DEMO_SLUG))
    if tenant is None:
        tenant_id = new_id()
        async with db.transaction(tenant_id) as session:
            tenant, _, password = await tenancy.create_tenant(
                session,
                slug=DEMO_SLUG,
                name_zh="示范大学",
                name_en="Demo University",
                province_code="440000",
                timezone="Asia/Shanghai",
                admin_email=TENANT_ADMIN_EMAIL,
                actor_id=admin.id,
            )
            creds["tenant_admin_password"] = password
            creds.pop("integrator_api_key", None)
    async with db.transaction(tenant.id) as session:
        if "tenant_admin_password" not in creds:
            account = await session.scalar(select(identity.Account).where(identity.Account.email == TENANT_ADMIN_EMAIL))
            creds["tenant_admin_password"] = identity.generate_password()
            if account is not None:
                account.password_hash = identity.hash_password(creds["tenant_admin_password"])
        if "integrator_api_key" not in creds:
            _, creds["integrator_api_key"] = await identity.create_api_key(
                session,
                name="demo integrator",
                scopes=["events:read", "webhooks:manage", "petitions:read"],
                actor_id=None,
            )
        if "open311_api_key" not in creds:
            _, creds["open311_api_key"] = await identity.create_api_key(
                session, name="demo Open311 client", scopes=["open311"], actor_id=None
            )
        await seed_demo_categories(session)
    creds.update(tenant_slug=DEMO_SLUG, tenant_id=str(tenant.id), tenant_admin_email=TENANT_ADMIN_EMAIL)
    return creds
