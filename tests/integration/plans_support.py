"""Helpers of the plan integration tests: provisioning, signing in a staff member, reading the journal."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import TenantHandle, sign_in


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
    return (await sign_in(client, tenant.slug, email, password)).headers


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


async def root_unit(client: Any, tenant: TenantHandle) -> str:
    r = await client.post(
        "/api/v1/org/units",
        json={"kind": "university", "code": "ROOT", "name_zh": "测试大学", "name_en": "Test University"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]  # type: ignore[no-any-return]


async def add_person(
    client: Any,
    tenant: TenantHandle,
    unit_id: str,
    name_zh: str,
    name_en: str | None = None,
    title_zh: str | None = None,
    title_en: str | None = None,
) -> str:
    r = await client.post(
        "/api/v1/org/people",
        json={
            "staff_number": f"S-{uuid.uuid4().hex[:8]}",
            "name_zh": name_zh,
            "name_en": name_en,
            "title_zh": title_zh,
            "title_en": title_en,
            "unit_id": unit_id,
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]  # type: ignore[no-any-return]
