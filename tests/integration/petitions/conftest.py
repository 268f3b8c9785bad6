from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import sign_in


@dataclass
class University:
    tenant: Any
    slug: str
    staff: dict[str, str]
    officer: dict[str, str]
    petitioner: dict[str, str]
    petitioner_id: str
    unit_a: str
    unit_b: str

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.headers


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


async def make_university(client: Any, make_tenant: Any, timezone: str = "Asia/Shanghai") -> University:
    """A university with two offices, two categories routed to them, and a staff, an officer and a petitioner."""
    tenant = await make_tenant(timezone=timezone)
    root = await make_unit(client, tenant, "university", "ROOT", None)
    unit_a = await make_unit(client, tenant, "office", "HQGLC", root)
    unit_b = await make_unit(client, tenant, "office", "JWC", root)
    for code, name, unit in (("dormitory", "宿舍", unit_a), ("canteen", "食堂", unit_b)):
        r = await client.post(
            "/api/v1/petition-categories",
            json={"code": code, "name_zh": name, "name_en": code.title(), "default_org_unit_id": unit},
            headers=tenant.headers,
        )
        assert r.status_code == 201, r.text
    staff, _ = await make_account(client, tenant, "staff")
    officer, _ = await make_account(client, tenant, "petition_officer")
    petitioner, pid = await make_account(client, tenant, "petitioner")
    return University(tenant, tenant.slug, staff, officer, petitioner, pid, unit_a, unit_b)


@pytest.fixture
async def uni(client: Any, make_tenant: Any) -> University:
    return await make_university(client, make_tenant)


def petition_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "category": "dormitory",
        "subject": "宿舍热水供应不足",
        "content": "三号宿舍楼近两周每晚十点后没有热水，多次报修未解决。",
        "location_text": "三号宿舍楼",
        "lat": 23.1,
        "long": 113.3,
        "petitioner": {"name": "李四", "phone": "13800000000", "number": "2024001234"},
    }
    body.update(overrides)
    return body


async def journal_of(client: Any, uni: University, petition_id: str | None = None) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/journal", params={"limit": 500}, headers=uni.admin)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return [e for e in items if petition_id is None or e["petition_id"] == petition_id]
