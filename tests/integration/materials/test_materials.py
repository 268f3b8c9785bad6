"""The materials inventory: items, the ledger, stock that never goes negative (also under concurrency)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tenants import materials
from tenants.errors import Conflict
from tests.support.journal import db_events
from tests.support.people import make_account
from tests.support.platform import FIXED_TODAY

M = "/api/v1/materials"


async def item(client: Any, t: Any, code: str = "RADIO", quantity: int = 0, **extra: Any) -> dict:
    r = await client.post(
        M + "/items",
        json={
            "category": "communication",
            "code": code,
            "name_zh": "对讲机",
            "name_en": "Walkie-talkie",
            "unit": "台",
            "location": "保卫处值班室",
            "initial_quantity": quantity,
        }
        | extra,
        headers=t.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def movement(client: Any, t: Any, item_id: str, kind: str, quantity: int, **extra: Any) -> Any:
    return await client.post(
        f"{M}/items/{item_id}/movements",
        json={"kind": kind, "quantity": quantity, "reason": "drill"} | extra,
        headers=t.headers,
    )


async def _incident(client: Any, db: Any, tenant: Any) -> str:
    """A real incident of the university (the ledger's incident_id is a foreign key now)."""
    from tests.support.plans import published

    await published(client, db, tenant)
    r = await client.post(
        "/api/v1/incidents",
        json={"title": "停水", "facts": "学生聚集", "people_count": 40, "risk_categories": ["group_event"]},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_ledger_moves_the_stock(client, tenant, db):
    incident = await _incident(client, db, tenant)  # creates the university's root unit too
    tree = (await client.get("/api/v1/org/units/tree", headers=tenant.headers)).json()
    radio = await item(client, tenant, quantity=10, org_unit_id=tree[0]["id"])
    assert radio["quantity"] == 10
    r = await movement(client, tenant, radio["id"], "issue", 4, incident_id=incident)
    assert r.status_code == 201 and r.json()["delta"] == -4 and r.json()["balance_after"] == 6
    assert (await movement(client, tenant, radio["id"], "return", 3, incident_id=incident)).json()["balance_after"] == 9
    assert (await movement(client, tenant, radio["id"], "write_off", 1)).json()["balance_after"] == 8
    assert (await movement(client, tenant, radio["id"], "adjust", -2)).json()["balance_after"] == 6
    assert (await movement(client, tenant, radio["id"], "receive", 5)).json()["balance_after"] == 11

    shown = (await client.get(f"{M}/items/{radio['id']}", headers=tenant.headers)).json()
    assert shown["quantity"] == 11
    ledger = (await client.get(f"{M}/ledger", params={"item_id": radio["id"]}, headers=tenant.headers)).json()
    assert [(e["kind"], e["delta"]) for e in ledger["items"]] == [
        ("receive", 10),
        ("issue", -4),
        ("return", 3),
        ("write_off", -1),
        ("adjust", -2),
        ("receive", 5),
    ]
    by_incident = (await client.get(f"{M}/ledger", params={"incident_id": incident}, headers=tenant.headers)).json()
    assert [e["kind"] for e in by_incident["items"]] == ["issue", "return"]
    async with db.transaction(tenant.id) as session:
        assert await materials.ledger_total(session, uuid.UUID(radio["id"])) == 11
        levels = await materials.stock_levels(session)
    assert [(s.code, s.quantity, s.unit) for s in levels] == [("RADIO", 11, "台")]

    # (The plan published for the incident journals its shortages: not ledger db_events.)
    journaled = [e for e in await db_events(db, tenant.id, "material.") if "shortage" not in e.type]
    assert [e.type for e in journaled] == [
        "material.item_created",
        "material.received",
        "material.issued",
        "material.returned",
        "material.written_off",
        "material.adjusted",
        "material.received",
    ]
    issued = journaled[2]
    assert issued.subject_id == uuid.UUID(radio["id"]) and issued.incident_id == uuid.UUID(incident)
    assert issued.payload == {"category": "communication", "quantity": 4, "delta": -4, "balance": 6}


async def test_shortfall_refused_nothing_written(client, tenant, db):
    radio = await item(client, tenant, quantity=2)
    r = await movement(client, tenant, radio["id"], "issue", 3)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("material-shortfall") and r.json()["available"] == 2
    r = await movement(client, tenant, radio["id"], "adjust", -5)
    assert r.status_code == 409
    for bad in (("issue", 0), ("issue", -1), ("receive", -3), ("adjust", 0)):
        assert (await movement(client, tenant, radio["id"], *bad)).status_code == 422
    r = await movement(client, tenant, radio["id"], "issue", 1, reason="  ")
    assert r.status_code == 422
    r = await movement(client, tenant, str(uuid.uuid4()), "issue", 1)
    assert r.status_code == 404
    assert (await client.get(f"{M}/items/{radio['id']}", headers=tenant.headers)).json()["quantity"] == 2
    ledger = (await client.get(f"{M}/ledger", params={"item_id": radio["id"]}, headers=tenant.headers)).json()
    assert len(ledger["items"]) == 1
    assert [e.type for e in await db_events(db, tenant.id, "material.issued")] == []


async def test_service_contract_issue_and_return(tenant, db):
    async with db.transaction(tenant.id) as session:
        kit = await materials.create_item(
            session,
            category=materials.Category.medical,
            code="KIT",
            name_zh="急救包",
            name_en="First-aid kit",
            unit="个",
            location=None,
            org_unit_id=None,
            expires_on=dt.date(2030, 1, 1),
            initial_quantity=1,
            actor_id=None,
        )
    actor = uuid.uuid4()
    async with db.transaction(tenant.id) as session:
        entry = await materials.issue(session, item_id=kit.id, quantity=1, reason="incident", actor_id=actor)
        assert (entry.kind, entry.delta, entry.balance_after, entry.actor_id) == ("issue", -1, 0, actor)
    with pytest.raises(Conflict):
        async with db.transaction(tenant.id) as session:
            await materials.issue(session, item_id=kit.id, quantity=1, reason="again", actor_id=actor)
    async with db.transaction(tenant.id) as session:
        entry = await materials.return_(session, item_id=kit.id, quantity=1, reason="back", actor_id=actor)
        assert entry.balance_after == 1
        assert [s.expires_on for s in await materials.stock_levels(session)] == [dt.date(2030, 1, 1)]


async def test_concurrent_issues_only_one_succeeds(tenant, db):
    """Two connections issue the last unit at once: the database lets exactly one through."""
    async with db.transaction(tenant.id) as session:
        item_id = (
            await materials.create_item(
                session,
                category=materials.Category.safety,
                code="SIGN",
                name_zh="警示标识",
                name_en="Warning sign",
                unit="块",
                location=None,
                org_unit_id=None,
                expires_on=None,
                initial_quantity=1,
                actor_id=None,
            )
        ).id
    both_in = asyncio.Barrier(2)

    async def take() -> str:
        async with db.transaction(tenant.id) as session:
            await session.execute(text("select 1"))  # both transactions are open before either issues
            await both_in.wait()
            await materials.issue(session, item_id=item_id, quantity=1, reason="race", actor_id=None)
            await asyncio.sleep(0.2)  # hold the row lock so that the other one waits on it
        return "ok"

    results = await asyncio.gather(take(), take(), return_exceptions=True)
    assert sorted(r if isinstance(r, str) else type(r).__name__ for r in results) == ["Conflict", "ok"]
    async with db.transaction(tenant.id) as session:
        assert (await materials.get_item(session, item_id)).quantity == 0
        assert await materials.ledger_total(session, item_id) == 0


async def test_database_guards_the_stock(tenant, db):
    """The app role can neither write the quantity nor rewrite the ledger; a raw negative entry is refused."""
    async with db.transaction(tenant.id) as session:
        item_id = (
            await materials.create_item(
                session,
                category=materials.Category.logistics,
                code="WATER",
                name_zh="饮用水",
                name_en="Drinking water",
                unit="箱",
                location=None,
                org_unit_id=None,
                expires_on=None,
                initial_quantity=3,
                actor_id=None,
            )
        ).id
    for statement in (
        "update material_items set quantity = 100",
        "update material_ledger set delta = 100",
        "delete from material_ledger",
        "insert into material_ledger (tenant_id, id, item_id, kind, delta, balance_after, reason, occurred_at) "
        "values (:t, gen_random_uuid(), :i, 'issue', -4, 0, 'raw', now())",
    ):
        with pytest.raises(DBAPIError):
            async with db.transaction(tenant.id) as session:
                await session.execute(text(statement), {"t": tenant.id, "i": item_id})
    async with db.transaction(tenant.id) as session:
        assert (await materials.get_item(session, item_id)).quantity == 3


async def test_items_api_roles_filters_and_isolation(clock, client, make_tenant):
    t = await make_tenant()
    other = await make_tenant()
    soon = (FIXED_TODAY + dt.timedelta(days=10)).isoformat()
    kit = await item(
        client,
        t,
        "KIT",
        5,
        category="medical",
        name_zh="急救包",
        name_en="First-aid kit",
        unit="个",
        expires_on=soon,
    )
    await item(client, t, "RADIO", 8)
    staff, _ = await make_account(client, t, "staff")

    r = await client.get(M + "/items", params={"category": "medical"}, headers=staff)
    assert r.status_code == 200 and [i["code"] for i in r.json()] == ["KIT"]
    r = await client.get(M + "/items", params={"expiring_within_days": 30}, headers=t.headers)
    assert [i["code"] for i in r.json()] == ["KIT"]
    r = await client.get(M + "/items", params={"expiring_within_days": 5}, headers=t.headers)
    assert r.json() == []
    r = await client.post(
        f"{M}/items/{kit['id']}/movements", json={"kind": "issue", "quantity": 1, "reason": "x"}, headers=staff
    )
    assert r.status_code == 403
    r = await client.patch(f"{M}/items/{kit['id']}", json={"location": "校医院"}, headers=t.headers)
    assert r.status_code == 200 and r.json()["location"] == "校医院"
    r = await client.patch(f"{M}/items/{kit['id']}", json={"quantity": 100}, headers=t.headers)
    assert r.status_code == 400
    r = await client.post(
        M + "/items",
        json={"category": "medical", "code": "KIT", "name_zh": "x", "name_en": "x", "unit": "个"},
        headers=t.headers,
    )
    assert r.status_code == 409
    r = await client.post(
        M + "/items",
        json={"category": "weapons", "code": "X", "name_zh": "x", "name_en": "x", "unit": "个"},
        headers=t.headers,
    )
    assert r.status_code == 400
    r = await client.post(
        M + "/items",
        json={
            "category": "custom",
            "code": "X",
            "name_zh": "x",
            "name_en": "x",
            "unit": "个",
            "org_unit_id": str(uuid.uuid4()),
        },
        headers=t.headers,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "org_unit_id"

    assert (await client.get(f"{M}/items/{kit['id']}", headers=other.headers)).status_code == 404
    r = await client.post(
        f"{M}/items/{kit['id']}/movements", json={"kind": "issue", "quantity": 1, "reason": "x"}, headers=other.headers
    )
    assert r.status_code == 404
    assert (await client.get(M + "/items", headers=other.headers)).json() == []
    assert (await client.get(M + "/ledger", headers=other.headers)).json()["items"] == []
