"""A university with open warnings raised by a surge of petitions, for the tests that act on warnings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from analytics.warnings import services as warning_scan
from analytics.warnings.rules import Method
from tenants.clock import utcnow
from tests.support.emergency import University, make_university
from tests.support.people import make_account, make_unit

SURGE = 6
LAT, LONG = 36.0671, 120.3826

METHOD = Method()


async def surging_university(client: Any, db: Any, platform_token: str) -> tuple[University, dict[str, Any]]:
    """A university with a published plan and its groups, and the open warning raised by six petitions on the
    canteen from one place (one surge: led by the category, with the unit and the place as related keys);
    returns the warning as the API shows it."""
    from service.petitions import services
    from tenants.identity import Principal, Role

    uni = await make_university(client, db, platform_token)
    r = await client.post(
        "/api/v1/petition-categories",
        json={"code": "canteen", "name_zh": "食堂", "name_en": "Canteen", "default_org_unit_id": uni.units["HQGLC"]},
        headers=uni.headers["admin"],
    )
    assert r.status_code == 201, r.text
    staff = Principal(kind="account", role=Role.tenant_admin, subject_id=uuid.uuid4(), tenant_id=uni.tenant.id)
    for i in range(SURGE):
        async with db.transaction(uni.tenant.id) as session:
            data = services.Submission(
                kind="complaint", category="canteen", subject="饭菜", content="吃了以后不舒服", channel="online",
                petitioner_name=f"学生{i}", petitioner_phone="13800000000", lat=LAT, long=LONG,
            )  # fmt: skip
            await services.submit(session, db, data, principal=staff)
    async with db.transaction(uni.tenant.id) as session:
        raised = await warning_scan.scan(session, now=utcnow() + timedelta(minutes=1), method=Method())
    assert len(raised) == 1
    [warning] = (await client.get("/api/v1/warnings/", headers=uni.headers["admin"])).json()
    return uni, warning


async def warning_university(client: Any, db: Any, tenant: Any) -> dict[str, Any]:
    from tenants import tenancy

    async with db.transaction(tenant.id) as session:
        await tenancy.provision(session, tenant.id)
    root = await make_unit(client, tenant, "university", "ROOT", None)
    canteen = await make_unit(client, tenant, "office", "HQ", root)
    r = await client.post(
        "/api/v1/petition-categories",
        json={"code": "canteen", "name_zh": "食堂", "name_en": "Canteen", "default_org_unit_id": canteen},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    member, member_id = await make_account(client, tenant, "staff")
    outsider, _ = await make_account(client, tenant, "staff")
    person = await client.post(
        "/api/v1/org/people",
        json={"staff_number": uuid.uuid4().hex[:10], "name_zh": "值班员", "unit_id": canteen, "account_id": member_id},
        headers=tenant.headers,
    )
    assert person.status_code == 201, person.text
    r = await client.post(
        "/api/v1/org/groups/handling/members",
        json={"person_id": person.json()["id"], "role": "member"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return {"unit": canteen, "member": member, "outsider": outsider}


async def submit_petitions(
    db: Any, tenant: Any, n: int, *, lat: float | None = None, long: float | None = None
) -> None:
    from service.petitions import services
    from tenants.identity import Principal, Role

    staff = Principal(kind="account", role=Role.tenant_admin, subject_id=uuid.uuid4(), tenant_id=tenant.id)
    for i in range(n):
        async with db.transaction(tenant.id) as session:
            data = services.Submission(
                kind="complaint", category="canteen", subject="饭菜", content="吃了以后不舒服", channel="online",
                petitioner_name=f"学生{i}", petitioner_phone="13800000000", lat=lat, long=long,
            )  # fmt: skip
            await services.submit(session, db, data, principal=staff)


async def scan_at(db: Any, tenant: Any, at: Any) -> list[Any]:
    async with db.transaction(tenant.id) as session:
        return await warning_scan.scan(session, now=at, method=METHOD)
