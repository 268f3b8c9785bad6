"""Supervision orders on incident tasks, issued by the leadership group and answered by the task's unit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tenants.clock import utcnow
from tests.support.emergency import Driver, make_university

ORDERS = "/api/v1/supervision-orders"


async def test_the_leadership_supervises_an_incident_task(
    clock: Any, client: Any, db: Any, platform_token: str
) -> None:
    uni = await make_university(client, db, platform_token)
    d = Driver(client, uni)
    await d.report()
    await d.assess()
    await d.instruct()
    task = await d.task("BWC")
    body = {
        "incident_id": d.id,
        "task_id": task["id"],
        "org_unit_id": uni.units["BWC"],
        "expected": "两小时内报告现场秩序恢复情况",
        "due_at": (utcnow() + timedelta(hours=2)).isoformat(),
    }
    # A member of another group is neither the office nor the leadership: 403.
    r = await client.post(ORDERS, json=body, headers=uni.headers["hand_member"])
    assert r.status_code == 403, r.text
    r = await client.post(ORDERS, json={**body, "task_id": None}, headers=uni.headers["lead_member"])
    assert r.status_code == 422, r.text
    r = await client.post(ORDERS, json=body, headers=uni.headers["lead_member"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["subject"] == "task" and order["incident_id"] == d.id

    # The unit's people see and answer it; people of other units do not see it (404).
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=uni.headers["hand_member"])).status_code == 404
    act = f"{ORDERS}/{order['id']}/actions"
    r = await client.post(
        act, json={"action": "answer", "version": 1, "text": "秩序已恢复"}, headers=uni.headers["outsider"]
    )
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    # Accepting is the issuer side's: the unit may not accept its own answer.
    r = await client.post(act, json={"action": "accept", "version": 2}, headers=uni.headers["outsider"])
    assert r.status_code == 403, r.text
    r = await client.post(act, json={"action": "accept", "version": 2}, headers=uni.headers["lead_leader"])
    assert r.status_code == 200 and r.json()["state"] == "accepted", r.text

    r = await client.get("/api/v1/journal/", params={"limit": 500}, headers=uni.headers["admin"])
    issued = [e for e in r.json()["items"] if e["type"] == "supervision.issued"]
    assert issued[0]["incident_id"] == d.id and issued[0]["payload"]["by"] == "leadership"
    assert issued[0]["payload"]["kind"] == "task"
