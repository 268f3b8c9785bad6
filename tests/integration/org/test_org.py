"""The organization chart through the API: units (tree, move, cycles, deactivation), people, emergency groups."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text

from tenants import org, tenancy
from tests.support.journal import db_events
from tests.support.people import G, P, U, make_account, person, root, unit


async def provision(db: Any, tenant_id: uuid.UUID) -> None:
    async with db.transaction(tenant_id) as session:
        await tenancy.provision(session, tenant_id)


# --- units ------------------------------------------------------------------------------------------------------


async def test_unit_tree_create_rename_list(client, tenant, db):
    u = await root(client, tenant)
    a = await unit(client, tenant, "XSC", u["id"])
    c = await unit(client, tenant, "CS", u["id"], kind="college")
    await unit(client, tenant, "CS-LAB", c["id"], kind="center")

    r = await client.patch(f"{U}/{a['id']}", json={"name_zh": "学生工作处"}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["name_zh"] == "学生工作处"

    tree = (await client.get(U + "/tree", headers=tenant.headers)).json()
    assert [n["code"] for n in tree] == ["UNIV"]
    assert sorted(n["code"] for n in tree[0]["children"]) == ["CS", "XSC"]
    cs = next(n for n in tree[0]["children"] if n["code"] == "CS")
    assert [n["code"] for n in cs["children"]] == ["CS-LAB"]

    colleges = (await client.get(U + "/", params={"kind": "college"}, headers=tenant.headers)).json()
    assert [x["code"] for x in colleges["items"]] == ["CS"]
    found = (await client.get(U + "/", params={"q": "学生工作"}, headers=tenant.headers)).json()
    assert [x["code"] for x in found["items"]] == ["XSC"]
    children = (await client.get(U + "/", params={"parent_id": u["id"], "limit": 1}, headers=tenant.headers)).json()
    assert len(children["items"]) == 1 and children["next_cursor"] == "CS"

    kinds = [(e.type, e.payload.get("kind")) for e in await db_events(db, tenant.id, "orgunit.")]
    assert kinds[:4] == [
        ("orgunit.created", "university"),
        ("orgunit.created", "office"),
        ("orgunit.created", "college"),
        ("orgunit.created", "center"),
    ]
    renamed = [e for e in await db_events(db, tenant.id, "orgunit.renamed")]
    assert renamed[0].org_unit_id == uuid.UUID(a["id"]) and renamed[0].payload == {"changed": ["name_zh"]}


async def test_unit_bad_input(client, tenant, db):
    u = await root(client, tenant)
    # A second root, a non-root without parent, an unknown parent, a duplicate code, a bad kind.
    r = await client.post(
        U + "/", json={"kind": "university", "code": "U2", "name_zh": "x", "name_en": "x"}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["type"].endswith("org-university-exists")
    r = await client.post(
        U + "/", json={"kind": "office", "code": "O1", "name_zh": "x", "name_en": "x"}, headers=tenant.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"
    r = await client.post(
        U + "/",
        json={"kind": "office", "code": "O1", "name_zh": "x", "name_en": "x", "parent_id": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    assert r.status_code == 404
    await unit(client, tenant, "O1", u["id"])
    r = await client.post(
        U + "/",
        json={"kind": "office", "code": "O1", "name_zh": "x", "name_en": "x", "parent_id": u["id"]},
        headers=tenant.headers,
    )
    assert r.status_code == 409 and r.json()["type"].endswith("org-unit-code-taken")
    r = await client.post(
        U + "/",
        json={"kind": "ministry", "code": "O2", "name_zh": "x", "name_en": "x", "parent_id": u["id"]},
        headers=tenant.headers,
    )
    assert r.status_code == 400
    r = await client.patch(f"{U}/{u['id']}", json={"name_zh": "  "}, headers=tenant.headers)
    assert r.status_code == 422
    async with db.transaction(tenant.id) as session:
        count = await session.scalar(select(text("count(*)")).select_from(org.OrgUnit))
    assert count == 2


async def test_move_and_cycle_refused(client, tenant, db):
    u = await root(client, tenant)
    a = await unit(client, tenant, "A", u["id"])
    b = await unit(client, tenant, "B", a["id"])
    c = await unit(client, tenant, "C", b["id"])
    d = await unit(client, tenant, "D", u["id"])

    r = await client.post(f"{U}/{a['id']}/move", json={"parent_id": c["id"]}, headers=tenant.headers)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["type"].endswith("org-cycle")
    assert [x["code"] for x in body["cycle"]] == ["A", "B", "C", "A"]
    # The refusal names the units along the cycle (the console shows them in the page's language).
    assert [x["name_zh"] for x in body["cycle"]] == [a["name_zh"], b["name_zh"], c["name_zh"], a["name_zh"]]
    assert body["detail"].endswith(" → ".join(f"{x['name_en']} ({x['code']})" for x in (a, b, c, a)))
    r = await client.post(f"{U}/{a['id']}/move", json={"parent_id": a["id"]}, headers=tenant.headers)
    assert r.status_code == 409 and [x["code"] for x in r.json()["cycle"]] == ["A", "A"]
    r = await client.post(f"{U}/{u['id']}/move", json={"parent_id": a["id"]}, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("org-root-immovable")
    r = await client.post(f"{U}/{a['id']}/move", json={"parent_id": str(uuid.uuid4())}, headers=tenant.headers)
    assert r.status_code == 404

    r = await client.post(f"{U}/{b['id']}/move", json={"parent_id": d["id"]}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["parent_id"] == d["id"]
    moved = await db_events(db, tenant.id, "orgunit.moved")
    assert len(moved) == 1
    assert moved[0].payload == {"from_parent_id": a["id"], "to_parent_id": d["id"]}
    # C came along with B.
    tree = (await client.get(U + "/tree", headers=tenant.headers)).json()
    d_node = next(n for n in tree[0]["children"] if n["code"] == "D")
    assert d_node["children"][0]["code"] == "B" and d_node["children"][0]["children"][0]["code"] == "C"


async def test_deactivate(client, tenant, db):
    u = await root(client, tenant)
    a = await unit(client, tenant, "A", u["id"])
    b = await unit(client, tenant, "B", a["id"])
    r = await client.post(f"{U}/{a['id']}/deactivate", headers=tenant.headers)
    assert r.status_code == 409 and r.json()["active_children"] == 1
    r = await client.post(f"{U}/{b['id']}/deactivate", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["active"] is False
    r = await client.post(f"{U}/{a['id']}/deactivate", headers=tenant.headers)
    assert r.status_code == 200
    # Still there for history; hidden from the active tree; nothing may be hung below it.
    assert (await client.get(f"{U}/{a['id']}", headers=tenant.headers)).json()["active"] is False
    tree = (await client.get(U + "/tree", headers=tenant.headers)).json()
    assert tree[0]["children"] == []
    full = (await client.get(U + "/tree", params={"include_inactive": True}, headers=tenant.headers)).json()
    assert full[0]["children"][0]["code"] == "A"
    r = await client.post(
        U + "/",
        json={"kind": "office", "code": "Z", "name_zh": "x", "name_en": "x", "parent_id": a["id"]},
        headers=tenant.headers,
    )
    assert r.status_code == 409
    assert len(await db_events(db, tenant.id, "orgunit.deactivated")) == 2


async def test_no_hard_delete_grant(db, tenant):
    async with db.transaction(tenant.id) as session:
        privileges = await session.scalar(text("select has_table_privilege(current_user, 'org_units', 'delete')"))
    assert privileges is False


# --- roles and tenants ------------------------------------------------------------------------------------------


async def test_roles_and_tenant_isolation(client, make_tenant):
    t = await make_tenant()
    other = await make_tenant()
    u = await root(client, t)
    p = await person(client, t, u["id"], "T001")
    staff, _ = await make_account(client, t, "staff")
    petitioner, _ = await make_account(client, t, "petitioner")

    assert (await client.get(f"{U}/{u['id']}", headers=staff)).status_code == 200
    assert (await client.get(f"{P}/{p['id']}", headers=staff)).status_code == 200
    assert (await client.get(G + "/", headers=staff)).status_code == 200
    r = await client.patch(f"{U}/{u['id']}", json={"name_zh": "x"}, headers=staff)
    assert r.status_code == 403
    r = await client.post(P + "/", json={"staff_number": "S", "name_zh": "x", "unit_id": u["id"]}, headers=staff)
    assert r.status_code == 403
    assert (await client.get(U + "/", headers=petitioner)).status_code == 403
    assert (await client.get(U + "/")).status_code == 401

    # Another university sees nothing of this one.
    assert (await client.get(f"{U}/{u['id']}", headers=other.headers)).status_code == 404
    assert (await client.get(f"{P}/{p['id']}", headers=other.headers)).status_code == 404
    r = await client.patch(f"{U}/{u['id']}", json={"name_zh": "x"}, headers=other.headers)
    assert r.status_code == 404
    assert (await client.get(U + "/", headers=other.headers)).json()["items"] == []
    r = await client.post(
        P + "/", json={"staff_number": "X1", "name_zh": "x", "unit_id": u["id"]}, headers=other.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"


# --- people -----------------------------------------------------------------------------------------------------


async def test_people_encrypted_and_searchable(client, tenant, db):
    u = await root(client, tenant)
    office = await unit(client, tenant, "XSC", u["id"])
    _, account_id = await make_account(client, tenant, "staff")
    p = await person(
        client,
        tenant,
        office["id"],
        " js-0042 ",
        name_zh="李四",
        name_en="Li Si",
        title_zh="学生处处长",
        title_en="Director of Student Affairs",
        account_id=account_id,
    )
    assert p["staff_number"] == "JS-0042" and p["name_zh"] == "李四"

    async with db.transaction(tenant.id) as session:
        raw = (
            await session.execute(text("select name_zh, staff_number from people where id = :i"), {"i": p["id"]})
        ).one()
        assert "李四".encode() not in bytes(raw.name_zh) and b"JS-0042" not in bytes(raw.staff_number)
        assert await org.person_ids_of_account(session, uuid.UUID(account_id)) == [uuid.UUID(p["id"])]

    found = (await client.get(P + "/", params={"staff_number": "js-0042"}, headers=tenant.headers)).json()
    assert [x["id"] for x in found["items"]] == [p["id"]]
    r = await client.get(P + "/", params={"unit_id": u["id"], "include_subunits": True}, headers=tenant.headers)
    assert [x["id"] for x in r.json()["items"]] == [p["id"]]
    r = await client.get(P + "/", params={"unit_id": u["id"]}, headers=tenant.headers)
    assert r.json()["items"] == []

    r = await client.post(
        P + "/", json={"staff_number": "JS-0042", "name_zh": "王五", "unit_id": office["id"]}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["type"].endswith("staff-number-taken")
    r = await client.post(
        P + "/",
        json={"staff_number": "N", "name_zh": "王五", "unit_id": str(uuid.uuid4()), "account_id": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["account_id", "unit_id"]

    r = await client.patch(
        f"{P}/{p['id']}", json={"title_zh": "学生处副处长", "account_id": None}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["account_id"] is None and r.json()["title_zh"] == "学生处副处长"

    created, updated = (
        await db_events(db, tenant.id, "person.created"),
        await db_events(db, tenant.id, "person.updated"),
    )
    assert created[0].subject_id == uuid.UUID(p["id"]) and created[0].payload == {"linked": True}
    assert updated[0].payload == {"changed": ["title_zh", "account_id"]}
    for e in created + updated:
        assert "李四" not in str(e.payload) and "JS-0042" not in str(e.payload)


# --- emergency groups -------------------------------------------------------------------------------------------


async def test_default_groups_seeded_on_provision_idempotently(client, tenant, db):
    await provision(db, tenant.id)
    async with db.transaction(tenant.id) as session:
        assert await org.seed_default_groups(session) == 0
        roster = await org.group_roster(session)
    assert list(roster) == ["handling", "info_release", "leadership", "logistics"]
    assert roster["leadership"].name_zh == "领导小组"
    assert roster["handling"].leader_person_id is None and roster["handling"].account_ids == frozenset()
    groups = (await client.get(G + "/", headers=tenant.headers)).json()
    leadership = next(g for g in groups if g["key"] == "leadership")
    assert leadership["leader_post_zh"] == "校党委书记" and leadership["members"] == []
    assert len(await db_events(db, tenant.id, "group.created")) == 4


async def test_group_members_and_single_leader(client, tenant, db):
    await provision(db, tenant.id)
    u = await root(client, tenant)
    _, account_id = await make_account(client, tenant, "staff")
    a = await person(client, tenant, u["id"], "P1", account_id=account_id)
    b = await person(client, tenant, u["id"], "P2")
    c = await person(client, tenant, u["id"], "P3")

    url = G + "/handling/members"
    assert (
        await client.post(url, json={"person_id": a["id"], "role": "leader"}, headers=tenant.headers)
    ).status_code == 201
    r = await client.post(url, json={"person_id": b["id"], "role": "leader"}, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("group-leader-taken")
    assert (
        await client.post(url, json={"person_id": b["id"], "role": "deputy"}, headers=tenant.headers)
    ).status_code == 201
    assert (
        await client.post(url, json={"person_id": c["id"], "role": "member"}, headers=tenant.headers)
    ).status_code == 201
    r = await client.post(url, json={"person_id": c["id"], "role": "member"}, headers=tenant.headers)
    assert r.status_code == 409
    r = await client.post(url, json={"person_id": str(uuid.uuid4()), "role": "member"}, headers=tenant.headers)
    assert r.status_code == 422
    r = await client.post(G + "/nope/members", json={"person_id": c["id"], "role": "member"}, headers=tenant.headers)
    assert r.status_code == 404
    r = await client.patch(f"{url}/{c['id']}", json={"role": "leader"}, headers=tenant.headers)
    assert r.status_code == 409

    async with db.transaction(tenant.id) as session:
        roster = (await org.group_roster(session))["handling"]
    assert roster.leader_person_id == uuid.UUID(a["id"])
    assert roster.deputy_person_ids == (uuid.UUID(b["id"]),)
    assert roster.member_person_ids == (uuid.UUID(c["id"]),)
    assert roster.account_ids == frozenset({uuid.UUID(account_id)})

    # Hand over the lead: the old leader steps down, the deputy takes over.
    r = await client.patch(f"{url}/{a['id']}", json={"role": "member"}, headers=tenant.headers)
    assert r.status_code == 200
    r = await client.patch(f"{url}/{b['id']}", json={"role": "leader"}, headers=tenant.headers)
    assert r.status_code == 200
    assert (await client.delete(f"{url}/{c['id']}", headers=tenant.headers)).status_code == 204
    assert (await client.delete(f"{url}/{c['id']}", headers=tenant.headers)).status_code == 404
    group = (await client.get(G + "/handling", headers=tenant.headers)).json()
    assert {(m["person_id"], m["role"]) for m in group["members"]} == {(a["id"], "member"), (b["id"], "leader")}

    types = [e.type for e in await db_events(db, tenant.id, "group.member")]
    assert types == [
        "group.member_added",
        "group.member_added",
        "group.member_added",
        "group.member_role_changed",
        "group.member_role_changed",
        "group.member_removed",
    ]


async def test_second_leader_refused_by_the_database(tenant, db):
    """The partial unique index holds even when the application check is bypassed."""
    await provision(db, tenant.id)
    async with db.transaction(tenant.id) as session:
        u = await org.create_unit(
            session, kind=org.UnitKind.university, code="U", name_zh="大学", name_en="U", parent_id=None, actor_id=None
        )
        people = [
            await org.create_person(
                session,
                staff_number=f"L{i}",
                name_zh="甲",
                name_en=None,
                title_zh=None,
                title_en=None,
                unit_id=u.id,
                account_id=None,
                actor_id=None,
            )
            for i in range(2)
        ]
        group = await org.get_group(session, "leadership")
        session.add(org.GroupMember(group_id=group.id, person_id=people[0].id, role="leader"))
        await session.flush()
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with db.transaction(tenant.id) as session:
            session.add(org.GroupMember(group_id=group.id, person_id=people[1].id, role="leader"))
            await session.flush()


async def test_custom_group(client, tenant, db):
    await provision(db, tenant.id)
    body = {
        "key": "medical_aid",
        "name_zh": "医疗救护组",
        "name_en": "Medical aid group",
        "duties_zh": "现场医疗救护",
        "duties_en": "Medical aid on site",
    }
    r = await client.post(G + "/", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert (await client.post(G + "/", json=body, headers=tenant.headers)).status_code == 409
    r = await client.post(G + "/", json=body | {"key": "Bad Key"}, headers=tenant.headers)
    assert r.status_code == 400
    r = await client.patch(G + "/medical_aid", json={"leader_post_zh": "校医院院长"}, headers=tenant.headers)
    assert r.status_code == 200 and r.json()["leader_post_zh"] == "校医院院长"
    r = await client.patch(G + "/logistics", json={"duties_en": "Water, first aid, venue."}, headers=tenant.headers)
    assert r.status_code == 200
    async with db.transaction(tenant.id) as session:
        assert "medical_aid" in await org.group_roster(session)
    updated = await db_events(db, tenant.id, "group.updated")
    assert [e.payload for e in updated] == [
        {"key": "medical_aid", "changed": ["leader_post_zh"]},
        {"key": "logistics", "changed": ["duties_en"]},
    ]


async def test_concurrent_moves_cannot_build_a_cycle(tenant, db):
    """A below B and B below A at the same time: the tree lock makes the second see the first, and refuse."""
    async with db.transaction(tenant.id) as session:
        u = await org.create_unit(
            session, kind=org.UnitKind.university, code="U", name_zh="大学", name_en="U", parent_id=None, actor_id=None
        )
        a = await org.create_unit(
            session, kind=org.UnitKind.office, code="A", name_zh="甲", name_en="A", parent_id=u.id, actor_id=None
        )
        b = await org.create_unit(
            session, kind=org.UnitKind.office, code="B", name_zh="乙", name_en="B", parent_id=u.id, actor_id=None
        )
    both_in = asyncio.Barrier(2)

    async def move(unit_id: uuid.UUID, parent_id: uuid.UUID) -> str:
        async with db.transaction(tenant.id) as session:
            await session.execute(text("select 1"))
            await both_in.wait()
            await org.move_unit(session, unit_id, parent_id=parent_id, actor_id=None)
            await asyncio.sleep(0.2)
        return "ok"

    results = await asyncio.gather(move(a.id, b.id), move(b.id, a.id), return_exceptions=True)
    assert sorted(r if isinstance(r, str) else type(r).__name__ for r in results) == ["Conflict", "ok"]
    async with db.transaction(tenant.id) as session:
        parents = {x.code: x.parent_id for x in await org.all_units(session)}
    assert (parents["A"], parents["B"]) in {(b.id, u.id), (u.id, a.id)}


async def test_openapi_documents_the_org_and_materials_routes(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/org/units",
        "/api/v1/org/units/tree",
        "/api/v1/org/units/{unit_id}/move",
        "/api/v1/org/people",
        "/api/v1/org/groups/{key}/members",
        "/api/v1/org/import",
        "/api/v1/org/export/people",
        "/api/v1/materials/items/{item_id}/movements",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/org/import"]["post"]["requestBody"]["content"]
