"""Reply templates per university: tenant admins keep them through the API, staff read the active ones, and the
petition page's reply form fills the opinion (and the outcome) from the one picked. Another university never
sees, changes or deletes them (row-level security and the API alike). The reply form's picker:
tests/integration/console/test_office_pages.py."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text

from service.petitions.replies import ReplyTemplate
from tenants.journal import JournalEvent
from tests.support.casework import make_university
from tests.support.problems import assert_problem

BASE = "/api/v1/reply-templates"
BODY = {"title": "宿舍维修类答复", "body": "经核实，后勤处已安排维修，预计三个工作日内完成。", "outcome": "supported"}


async def test_admins_keep_templates_and_staff_read_the_active_ones(client: Any, db: Any, make_tenant: Any) -> None:
    uni = await make_university(client, make_tenant)
    r = await client.post(BASE, json=BODY, headers=uni.admin)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert r.json()["outcome"] == "supported" and r.json()["active"] is True
    other = await client.post(BASE, json={"title": "说明类答复", "body": "已向您说明有关政策。"}, headers=uni.admin)
    assert other.status_code == 201 and other.json()["outcome"] is None
    # Staff may read, never write.
    assert [t["title"] for t in (await client.get(BASE, headers=uni.staff)).json()] == ["宿舍维修类答复", "说明类答复"]
    r = await client.post(BASE, json=BODY, headers=uni.staff)
    assert_problem(r, 403)
    # Bad input is a problem naming the field; a duplicate title is a 409.
    assert_problem(await client.post(BASE, json={**BODY, "outcome": "maybe"}, headers=uni.admin), 400)
    assert_problem(await client.post(BASE, json={**BODY, "body": ""}, headers=uni.admin), 400)
    assert_problem(await client.post(BASE, json={**BODY, "extra": 1}, headers=uni.admin), 400)
    assert_problem(await client.post(BASE, json=BODY, headers=uni.admin), 409)
    # Change and deactivate: staff no longer see it; the admin does.
    r = await client.patch(f"{BASE}/{tid}", json={"body": "已安排维修。", "active": False}, headers=uni.admin)
    assert r.status_code == 200 and r.json()["body"] == "已安排维修。" and r.json()["active"] is False
    assert [t["title"] for t in (await client.get(BASE, headers=uni.staff)).json()] == ["说明类答复"]
    assert len((await client.get(BASE, headers=uni.admin)).json()) == 2
    assert_problem(await client.patch(f"{BASE}/{uuid.uuid4()}", json={"active": True}, headers=uni.admin), 404)
    r = await client.delete(f"{BASE}/{tid}", headers=uni.admin)
    assert r.status_code == 204
    assert_problem(await client.get(f"{BASE}/{tid}", headers=uni.admin), 404)
    async with db.transaction(uni.tenant.id) as s:
        types = (
            await s.scalars(
                select(JournalEvent.type).where(JournalEvent.type.like("reply_template.%")).order_by(JournalEvent.seq)
            )
        ).all()
        payloads = (
            await s.scalars(select(JournalEvent.payload).where(JournalEvent.type == "reply_template.updated"))
        ).all()
    assert types == ["reply_template.created"] * 2 + ["reply_template.updated", "reply_template.deleted"]
    assert payloads == [{"changed": ["active", "body"]}]  # never the text itself


async def test_another_university_never_sees_changes_or_deletes_a_template(
    client: Any, db: Any, make_tenant: Any
) -> None:
    a = await make_university(client, make_tenant)
    b = await make_university(client, make_tenant)
    tid = (await client.post(BASE, json=BODY, headers=a.admin)).json()["id"]
    assert (await client.get(BASE, headers=b.admin)).json() == []
    assert_problem(await client.get(f"{BASE}/{tid}", headers=b.admin), 404)
    assert_problem(await client.patch(f"{BASE}/{tid}", json={"title": "x"}, headers=b.admin), 404)
    assert_problem(await client.delete(f"{BASE}/{tid}", headers=b.admin), 404)
    # B may use the same title: titles are unique per university only.
    assert (await client.post(BASE, json=BODY, headers=b.admin)).status_code == 201
    # At the database: B's context reads none of A's rows and cannot write one for A; no context reads nothing.
    async with db.transaction(b.tenant.id) as s:
        assert await s.scalar(select(func.count()).select_from(ReplyTemplate)) == 1
        assert await s.scalar(select(ReplyTemplate.id).where(ReplyTemplate.id == uuid.UUID(tid))) is None
        updated = await s.execute(text("update reply_templates set title = 'hijacked' where id = :i"), {"i": tid})
        assert updated.rowcount == 0  # type: ignore[attr-defined]
    async with db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(ReplyTemplate)) == 0
    async with db.transaction(a.tenant.id) as s:
        assert (await s.get(ReplyTemplate, (a.tenant.id, uuid.UUID(tid)))).title == BODY["title"]  # type: ignore[union-attr]
