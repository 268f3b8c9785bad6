"""Accounts and the org chart through the API: an account of a role signed in, units, people linked to accounts."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.platform import TenantHandle, sign_in


async def make_account(client: Any, tenant: Any, role: str) -> tuple[dict[str, str], str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@{tenant.slug}.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": role, "display_name": "张三"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return (await sign_in(client, tenant.slug, email, "a-long-password-1")).headers, r.json()["id"]


async def make_unit(client: Any, tenant: Any, kind: str, code: str, parent: str | None) -> str:
    r = await client.post(
        "/api/v1/org/units",
        json={"kind": kind, "code": code, "name_zh": code, "name_en": code, "parent_id": parent},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def link_person(client: Any, tenant: Any, account_id: str, unit_id: str) -> None:
    r = await client.post(
        "/api/v1/org/people",
        json={"staff_number": uuid.uuid4().hex[:10], "name_zh": "职员", "unit_id": unit_id, "account_id": account_id},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text


U = "/api/v1/org/units"


P = "/api/v1/org/people"


G = "/api/v1/org/groups"


async def unit(client: Any, t: Any, code: str, parent: str | None, kind: str = "office", **extra: Any) -> dict:
    r = await client.post(
        U + "/",
        json={"kind": kind, "code": code, "name_zh": f"{code}处", "name_en": f"{code} office", "parent_id": parent}
        | extra,
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def root(client: Any, t: Any) -> dict:
    return await unit(client, t, "UNIV", None, kind="university")


async def person(client: Any, t: Any, unit_id: str, number: str, **extra: Any) -> dict:
    r = await client.post(
        P + "/",
        json={"staff_number": number, "name_zh": "张三", "unit_id": unit_id, "title_zh": "处长"} | extra,
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


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
