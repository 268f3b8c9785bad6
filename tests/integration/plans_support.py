"""Helpers of the plan integration tests: provisioning, signing in a staff member, reading the journal."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import TenantHandle, auth


async def provision(db: Any, tenant: TenantHandle) -> None:
    """What the onboarding job does (tests run no worker)."""
    from tenants import tenancy

    async with db.transaction(tenant.id) as session:
        await tenancy.provision(session, tenant.id)


async def staff_headers(client: Any, tenant: TenantHandle, role: str = "staff") -> dict[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:6]}@{tenant.slug}.edu.cn"
    password = "staff-password-123"
    r = await client.post(
        "/api/v1/accounts", json={"email": email, "password": password, "role": role}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    login = await client.post("/api/v1/auth/login", json={"tenant": tenant.slug, "email": email, "password": password})
    assert login.status_code == 200, login.text
    return auth(login.json()["access_token"])


async def events(client: Any, tenant: TenantHandle, type: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/journal/", params={"type": type, "limit": 500}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def draft(client: Any, tenant: TenantHandle) -> dict[str, Any]:
    """The university's draft (opened at provisioning)."""
    r = await client.get("/api/v1/plans/versions", headers=tenant.headers)
    assert r.status_code == 200, r.text
    summary = next(v for v in r.json() if v["status"] == "draft")
    r = await client.get(f"/api/v1/plans/versions/{summary['id']}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
