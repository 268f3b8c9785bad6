"""Supervision orders (督查督办) through the API: issuing, scope (404), answering, the transition table (409), the
overdue scan (idempotent, journaled once, escalated) and orders on incident tasks by the leadership group."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from service.supervision.jobs import scan_tenant
from tenants.clock import utcnow
from tests.support.casework import petition_body
from tests.support.journal import journal_of
from tests.support.people import link_person, make_account

ORDERS = "/api/v1/supervision-orders"


async def _petition(client: Any, uni: Any) -> str:
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _unit_staff(client: Any, uni: Any, unit: str) -> dict[str, str]:
    headers, account_id = await make_account(client, uni.tenant, "staff")
    await link_person(client, uni.tenant, account_id, unit)
    return headers


def _due(hours: int) -> str:  # the travelled clock (fixture `clock`), never the real time
    return (utcnow() + timedelta(hours=hours)).isoformat()


async def test_order_on_a_petition_answered_accepted_and_scoped(clock, client, uni):
    pid = await _petition(client, uni)
    answerer = await _unit_staff(client, uni, uni.unit_b)
    other = await _unit_staff(client, uni, uni.unit_a)
    body = {"petition_id": pid, "org_unit_id": uni.unit_b, "expected": "三日内报送核查结果", "due_at": _due(72)}

    # Only the office (or the leadership group) issues.
    r = await client.post(ORDERS, json=body, headers=answerer)
    assert r.status_code == 403, r.text
    r = await client.post(ORDERS, json=body, headers=uni.officer)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["state"] == "issued" and order["allowed_actions"] == ["answer", "close"]
    oid = order["id"]

    # The answering unit sees its order though the petition is not its; another unit does not (404).
    assert (await client.get(f"{ORDERS}/{oid}", headers=answerer)).status_code == 200
    assert (await client.get(f"{ORDERS}/{oid}", headers=other)).status_code == 404
    assert (await client.get(f"{ORDERS}/{oid}", headers=uni.petitioner)).status_code == 403
    assert [o["id"] for o in (await client.get(ORDERS, headers=answerer)).json()] == [oid]
    assert (await client.get(ORDERS, headers=other)).json() == []
    # Out of the petition's scope, no order can be issued on it: 404 like an unknown petition.
    r = await client.post(ORDERS, json={**body, "petition_id": str(uuid.uuid4())}, headers=uni.officer)
    assert r.status_code == 404, r.text

    # Someone else answers: 403; the office accepts before an answer: 409 from the transition table.
    act = f"{ORDERS}/{oid}/actions"
    r = await client.post(act, json={"action": "answer", "version": 1, "text": "已核查"}, headers=other)
    assert r.status_code == 404, r.text
    r = await client.post(act, json={"action": "answer", "version": 1, "text": "已核查"}, headers=uni.officer)
    assert r.status_code == 403, r.text
    r = await client.post(act, json={"action": "accept", "version": 1}, headers=uni.officer)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/transition-refused") and r.json()["allowed"] == ["answer", "close"]

    r = await client.post(act, json={"action": "answer", "version": 1, "text": "已核查，热水已恢复"}, headers=answerer)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "answered" and r.json()["answered_on_time"] is True
    r = await client.post(act, json={"action": "return", "version": 2, "text": "请附维修记录"}, headers=uni.officer)
    assert r.json()["state"] == "returned", r.text
    r = await client.post(act, json={"action": "answer", "version": 3, "text": "维修记录已附"}, headers=answerer)
    assert r.json()["state"] == "answered", r.text
    r = await client.post(act, json={"action": "accept", "version": 3}, headers=uni.officer)
    assert r.status_code == 409 and r.json()["type"].endswith("/stale"), r.text
    r = await client.post(act, json={"action": "accept", "version": 4}, headers=uni.officer)
    assert r.json()["state"] == "accepted", r.text
    r = await client.post(act, json={"action": "close", "version": 5}, headers=uni.officer)
    assert r.json()["state"] == "closed" and r.json()["allowed_actions"] == [], r.text

    events = [(e["type"], e["payload"]) for e in await journal_of(client, uni, pid) if e["type"][:12] == "supervision."]
    assert [t for t, _ in events] == [
        "supervision.issued",
        "supervision.answered",
        "supervision.returned",
        "supervision.answered",
        "supervision.accepted",
        "supervision.closed",
    ]
    assert events[0][1]["by"] == "office" and events[1][1] == {"kind": "petition", "on_time": True}


async def test_overdue_orders_are_flagged_once_and_escalated(clock, client, uni, db):
    pid = await _petition(client, uni)
    answerer = await _unit_staff(client, uni, uni.unit_b)
    due = utcnow() + timedelta(minutes=3)
    r = await client.post(
        ORDERS,
        json={"petition_id": pid, "org_unit_id": uni.unit_b, "expected": "报送结果", "due_at": due.isoformat()},
        headers=uni.officer,
    )
    oid = r.json()["id"]
    assert await scan_tenant(db, uni.tenant.id) == 0
    # Access tokens last 15 minutes: the clock stays within them.
    clock.move_to(due + timedelta(minutes=1))
    assert await scan_tenant(db, uni.tenant.id) == 1
    assert await scan_tenant(db, uni.tenant.id) == 0  # idempotent
    clock.move_to(due + timedelta(minutes=6))
    assert await scan_tenant(db, uni.tenant.id) == 0
    officer = uni.officer
    flagged = (await client.get(ORDERS, params={"overdue": "true"}, headers=officer)).json()
    assert [o["id"] for o in flagged] == [oid]
    # No person of the unit holds a head title: the order escalates to the parent unit (the university's root).
    root = (await client.get(f"/api/v1/org/units/{uni.unit_b}", headers=uni.admin)).json()["parent_id"]
    assert flagged[0]["escalated_to_unit_id"] == root
    overdue = [e for e in await journal_of(client, uni, pid) if e["type"] == "supervision.overdue"]
    assert len(overdue) == 1
    assert overdue[0]["payload"]["escalated_to"] == "parent_unit" and overdue[0]["org_unit_id"] == uni.unit_b
    # A late answer is journaled as not on time.
    r = await client.post(
        f"{ORDERS}/{oid}/actions", json={"action": "answer", "version": 1, "text": "迟复"}, headers=answerer
    )
    assert r.json()["answered_on_time"] is False


async def test_a_head_of_unit_receives_the_escalation(clock, client, uni, db):
    pid = await _petition(client, uni)
    r = await client.post(
        "/api/v1/org/people",
        json={"staff_number": uuid.uuid4().hex[:10], "name_zh": "王处长", "title_zh": "处长", "unit_id": uni.unit_b},
        headers=uni.admin,
    )
    assert r.status_code == 201, r.text
    due = utcnow() + timedelta(minutes=3)
    r = await client.post(
        ORDERS,
        json={"petition_id": pid, "org_unit_id": uni.unit_b, "expected": "报送结果", "due_at": due.isoformat()},
        headers=uni.officer,
    )
    clock.move_to(due + timedelta(minutes=1))
    assert await scan_tenant(db, uni.tenant.id) == 1
    order = (await client.get(f"{ORDERS}/{r.json()['id']}", headers=uni.officer)).json()
    assert order["overdue"] is True and order["escalated_to_unit_id"] == uni.unit_b


def test_the_scan_is_registered_with_the_scheduler():
    from analytics.runtime.scheduler import _periodic
    from service.ops import jobs  # noqa: F401  (what the scheduler imports)

    job = next(p for p in _periodic if p.name == "supervision.scan")
    [message] = job.messages("2026-11-29T03:1")
    assert message.actor_name == "scan_supervision"
