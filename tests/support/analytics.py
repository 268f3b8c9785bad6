"""A university for the analytics tests, in a given time zone."""

from __future__ import annotations

from typing import Any

from tests.support.casework import University
from tests.support.people import make_account, make_unit


async def university(client: Any, make_tenant: Any, zone: str) -> University:
    tenant = await make_tenant(timezone=zone)
    root = await make_unit(client, tenant, "university", "ROOT", None)
    unit_a = await make_unit(client, tenant, "office", "HQGLC", root)
    unit_b = await make_unit(client, tenant, "office", "JWC", root)
    r = await client.post(
        "/api/v1/petition-categories",
        json={"code": "dormitory", "name_zh": "宿舍", "name_en": "Dormitory", "default_org_unit_id": unit_a},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    staff, _ = await make_account(client, tenant, "staff")
    officer, _ = await make_account(client, tenant, "petition_officer")
    petitioner, pid = await make_account(client, tenant, "petitioner")
    return University(tenant, tenant.slug, staff, officer, petitioner, pid, unit_a, unit_b)
