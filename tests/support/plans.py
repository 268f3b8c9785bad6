"""The emergency plan in tests: provisioning (what the onboarding job does), the draft, a published version."""

from __future__ import annotations

from typing import Any

from tests.support.people import add_person, root_unit
from tests.support.platform import TenantHandle

LEADERS = {
    "leadership": ("王建国", "Wang Jianguo", "校党委书记", "Party Secretary"),
    "handling": ("张伟", "Zhang Wei", "学生处处长", "Director of Student Affairs"),
    "info_release": ("刘芳", "Liu Fang", "宣传部部长", "Head of Publicity"),
    "logistics": ("陈静", "Chen Jing", "后勤管理处处长", "Director of Logistics"),
}


async def fill_groups(client: Any, tenant: Any, groups: tuple[str, ...] = tuple(LEADERS)) -> dict[str, str]:
    """A root unit, one person per group, each made its group's leader; returns person ids by group."""
    root = await root_unit(client, tenant)
    people = {}
    for key in groups:
        people[key] = await add_person(client, tenant, root, *LEADERS[key])
        r = await client.post(
            f"/api/v1/org/groups/{key}/members",
            json={"person_id": people[key], "role": "leader"},
            headers=tenant.headers,
        )
        assert r.status_code in (200, 201), r.text
    return people


async def provision(db: Any, tenant: TenantHandle) -> None:
    """What the onboarding job does (tests run no worker)."""
    from tenants import tenancy

    async with db.transaction(tenant.id) as session:
        await tenancy.provision(session, tenant.id)


async def draft(client: Any, tenant: TenantHandle) -> dict[str, Any]:
    """The university's draft (opened at provisioning)."""
    r = await client.get("/api/v1/plans/versions", headers=tenant.headers)
    assert r.status_code == 200, r.text
    summary = next(v for v in r.json() if v["status"] == "draft")
    r = await client.get(f"/api/v1/plans/versions/{summary['id']}", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def published(client: Any, db: Any, tenant: Any) -> tuple[dict[str, Any], dict[str, str]]:
    await provision(db, tenant)
    people = await fill_groups(client, tenant)
    body = await draft(client, tenant)
    r = await client.post(f"/api/v1/plans/versions/{body['version']['id']}/publish", headers=tenant.headers)
    assert r.status_code == 200, r.text
    return r.json(), people
