"""Staff notifications: a petition assigned or transferred to my unit, a deadline in 3 days and overdue, a task
assigned to my unit, a bulletin waiting for my approval — in my feed and by email, as I choose; only the accounts
of the event's unit (or the release group's leader and deputies) get them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from service.petitions.jobs import scan_tenant
from service.supervision.jobs import scan_tenant as scan_supervision
from tenants import journal
from tenants.clock import utcnow
from tenants.tenancy import provision
from tests.support.casework import do, make_university, petition_body
from tests.support.journal import journal_of
from tests.support.notifications import configured, deliver_all
from tests.support.people import make_account


async def _staff_in(client: Any, uni: Any, unit: str) -> tuple[dict[str, str], str, str, str]:
    """A staff account linked to a person of ``unit``: (headers, account id, email, person id)."""
    headers, account_id = await make_account(client, uni.tenant, "staff")
    r = await client.post(
        "/api/v1/org/people",
        json={"staff_number": uuid.uuid4().hex[:10], "name_zh": "职员", "unit_id": unit, "account_id": account_id},
        headers=uni.admin,
    )
    assert r.status_code == 201, r.text
    me = await client.get(f"/api/v1/accounts/{account_id}", headers=uni.admin)
    return headers, account_id, me.json()["email"], r.json()["id"]


async def _feed(client: Any, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/notifications", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _event(client: Any, uni: Any, pid: str | None, type_: str) -> dict[str, Any]:
    return next(e for e in reversed(await journal_of(client, uni, pid)) if e["type"] == type_)


async def test_assigned_and_transferred_reach_the_units_accounts_by_feed_and_email(
    clock, client, make_tenant, settings, db, smtp
):
    mailbox, port = smtp
    conf = configured(settings, smtp_port=port)
    uni = await make_university(client, make_tenant)
    a_headers, _, a_email, _ = await _staff_in(client, uni, uni.unit_a)
    b_headers, _, b_email, _ = await _staff_in(client, uni, uni.unit_b)
    # B wants transfers in the feed only.
    r = await client.put(
        "/api/v1/notifications/preferences",
        json=[{"kind": "assigned", "feed": True, "email": False}],
        headers=b_headers,
    )
    assert r.status_code == 200, r.text
    assert {"kind": "assigned", "feed": True, "email": False} in r.json()
    assert {"kind": "deadline", "feed": True, "email": True} in r.json()

    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = r.json()["id"]
    assert (await do(client, uni, pid, "accept", 1)).status_code == 201
    assert (await do(client, uni, pid, "assign", 2)).status_code == 201
    await deliver_all(db, conf, uni.tenant.id, (await _event(client, uni, pid, "petition.assigned"))["id"])
    assert mailbox.recipients == [a_email]
    assert "交办" in mailbox.messages[0]["Subject"] and "李四" not in mailbox.messages[0].get_content()
    items = (await _feed(client, a_headers, unread=True))["items"]
    assert [(n["kind"], n["event_type"], n["petition_id"]) for n in items] == [("assigned", "petition.assigned", pid)]
    assert (await _feed(client, b_headers))["items"] == []

    assert (await do(client, uni, pid, "start", 3)).status_code == 201
    assert (await do(client, uni, pid, "transfer", 4)).status_code == 201
    await deliver_all(db, conf, uni.tenant.id, (await _event(client, uni, pid, "petition.transferred"))["id"])
    assert mailbox.recipients == [a_email] and b_email not in mailbox.recipients  # B chose no email for it
    (item,) = (await _feed(client, b_headers, unread=True))["items"]
    assert item["event_type"] == "petition.transferred"

    r = await client.post(f"/api/v1/notifications/{item['id']}/read", headers=b_headers)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    assert (await _feed(client, b_headers, unread=True))["items"] == []
    r = await client.post(f"/api/v1/notifications/{item['id']}/read", headers=a_headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_deadline_reminder_and_overdue_task_and_paging(clock, client, make_tenant, settings, db):
    conf = configured(settings)  # no SMTP: email skipped, the feed still works
    uni = await make_university(client, make_tenant)
    a_headers, _, _, _ = await _staff_in(client, uni, uni.unit_a)
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = r.json()["id"]
    assert (await do(client, uni, pid, "accept", 1)).status_code == 201
    assert (await do(client, uni, pid, "assign", 2)).status_code == 201
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    due = dt.datetime.fromisoformat(detail["deadlines"]["due_at"])
    for now in (due - dt.timedelta(hours=71), due + dt.timedelta(minutes=1)):
        await scan_tenant(db, uni.tenant.id, now)
    for type_ in ("petition.deadline_reminder", "petition.overdue", "petition.assigned"):
        for e in await journal_of(client, uni, pid):
            if e["type"] == type_:
                await deliver_all(db, conf, uni.tenant.id, e["id"])
    async with db.transaction(uni.tenant.id) as session:
        await journal.record(
            session, "task.assigned", org_unit_id=uuid.UUID(uni.unit_a), subject_id=uuid.uuid4(), assignee="unit",
            step="response", due_at=None, reassigned_from=None, drill=False,
        )  # fmt: skip
    await deliver_all(db, conf, uni.tenant.id, (await _event(client, uni, None, "task.assigned"))["id"])

    kinds = []
    page = await _feed(client, a_headers, limit=2)
    kinds += [n["event_type"] for n in page["items"]]
    assert page["next_cursor"]
    page = await _feed(client, a_headers, limit=2, cursor=page["next_cursor"])
    kinds += [n["event_type"] for n in page["items"]]
    assert page["next_cursor"] is None
    assert sorted(kinds) == sorted(
        ["petition.assigned", "petition.deadline_reminder", "petition.overdue", "task.assigned"]
    )
    r = await client.post("/api/v1/notifications/read-all", headers=a_headers)
    assert r.json() == {"read": 4}
    assert (await _feed(client, a_headers, unread=True))["items"] == []


async def test_a_drafted_bulletin_reaches_the_release_groups_leader(clock, client, make_tenant, settings, db, smtp):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    leader, _, leader_email, person = await _staff_in(client, uni, uni.unit_b)
    member, _, _, other = await _staff_in(client, uni, uni.unit_b)
    async with db.transaction(uni.tenant.id) as session:
        await provision(session, uni.tenant.id)  # what onboarding's job does: the plan's default groups
    for p, role in ((person, "leader"), (other, "member")):
        r = await client.post(
            "/api/v1/org/groups/info_release/members", json={"person_id": p, "role": role}, headers=uni.admin
        )
        assert r.status_code == 201, r.text
    async with db.transaction(uni.tenant.id) as session:
        await journal.record(session, "bulletin.drafted", subject_id=uuid.uuid4(), audience="public", kind="initial",
                             drill=False)  # fmt: skip
    await deliver_all(
        db,
        configured(settings, smtp_port=port),
        uni.tenant.id,
        (await _event(client, uni, None, "bulletin.drafted"))["id"],
    )
    assert mailbox.recipients == [leader_email]
    assert [n["kind"] for n in (await _feed(client, leader))["items"]] == ["bulletin"]
    assert (await _feed(client, member))["items"] == []


async def test_supervision_orders_reach_the_unit_and_overdue_ones_its_head_and_the_leadership_group(
    clock, client, make_tenant, settings, db, smtp
):
    mailbox, port = smtp
    conf = configured(settings, smtp_port=port)
    uni = await make_university(client, make_tenant)
    clerk, _, clerk_email, _ = await _staff_in(client, uni, uni.unit_b)
    outsider, _, _, _ = await _staff_in(client, uni, uni.unit_a)
    head, _, head_email, head_person = await _staff_in(client, uni, uni.unit_b)
    r = await client.patch(f"/api/v1/org/people/{head_person}", json={"title_zh": "处长"}, headers=uni.admin)
    assert r.status_code == 200, r.text
    leader, _, leader_email, leader_person = await _staff_in(client, uni, uni.unit_a)
    async with db.transaction(uni.tenant.id) as session:
        await provision(session, uni.tenant.id)
    r = await client.post(
        "/api/v1/org/groups/leadership/members", json={"person_id": leader_person, "role": "leader"}, headers=uni.admin
    )
    assert r.status_code == 201, r.text

    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = r.json()["id"]
    due = utcnow() + dt.timedelta(minutes=3)
    r = await client.post(
        "/api/v1/supervision-orders",
        json={"petition_id": pid, "org_unit_id": uni.unit_b, "expected": "报送结果", "due_at": due.isoformat()},
        headers=uni.officer,
    )
    assert r.status_code == 201, r.text
    await deliver_all(db, conf, uni.tenant.id, (await _event(client, uni, pid, "supervision.issued"))["id"])
    assert sorted(mailbox.recipients) == sorted([clerk_email, head_email])  # the unit's accounts
    assert "督办" in mailbox.messages[0]["Subject"]
    assert [n["kind"] for n in (await _feed(client, clerk))["items"]] == ["supervision"]
    assert (await _feed(client, outsider))["items"] == [] and (await _feed(client, leader))["items"] == []

    clock.move_to(due + dt.timedelta(minutes=1))
    assert await scan_supervision(db, uni.tenant.id) == 1
    mailbox.recipients.clear()
    await deliver_all(db, conf, uni.tenant.id, (await _event(client, uni, pid, "supervision.overdue"))["id"])
    # The head of the unit (not every clerk) and the leadership group hear of the escalation.
    assert sorted(mailbox.recipients) == sorted([head_email, leader_email])
    assert "逾期" in mailbox.messages[-1]["Subject"]
    assert [n["event_type"] for n in (await _feed(client, leader))["items"]] == ["supervision.overdue"]
    assert [n["event_type"] for n in (await _feed(client, clerk))["items"]] == ["supervision.issued"]
    head_feed = [n["event_type"] for n in (await _feed(client, head))["items"]]
    assert head_feed == ["supervision.overdue", "supervision.issued"]  # newest first
    assert (await _feed(client, outsider))["items"] == []


async def test_preferences_are_validated(client, make_tenant):
    uni = await make_university(client, make_tenant)
    r = await client.put("/api/v1/notifications/preferences", json=[{"kind": "nonsense"}], headers=uni.staff)
    assert r.status_code == 400, r.text
    r = await client.put(
        "/api/v1/notifications/preferences", json=[{"kind": "task"}, {"kind": "task"}], headers=uni.staff
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/notifications", headers=uni.petitioner)
    assert r.status_code == 403
