"""Lost updates are refused (version checks → 409 with the current state); the scheduled scan journals overdue
steps and tasks and missed bulletin updates once each; a drill runs the same flow, is marked everywhere and
counts for training compliance."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from service.incidents import jobs
from tests.support.emergency import Driver, University


async def journal(client: Any, uni: University, incident_id: str, type: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 500}
    if type:
        params["type"] = type
    r = await client.get("/api/v1/journal/", params=params, headers=uni.headers["admin"])
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["incident_id"] == incident_id]


async def test_two_people_acting_at_once_never_lose_an_update(client: Any, shared_uni: University) -> None:
    d = Driver(client, shared_uni)
    await d.report()
    body = {"action": "assess", "version": 1, "cause": "停水", "site_conditions": "有序"}
    results = await asyncio.gather(
        *[
            client.post(f"/api/v1/incidents/{d.id}/actions", json=body, headers=shared_uni.headers[p])
            for p in ("hand_member", "hand_leader")
        ]
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    stale = next(r for r in results if r.status_code == 409).json()
    assert stale["state"] == "assessed" or stale["type"].endswith("transition-refused")
    assert len(await journal(client, shared_uni, d.id, "incident.assessed")) == 1
    # A stale version on a later action: 409 naming the current version and state.
    r = await client.post(
        f"/api/v1/incidents/{d.id}/actions",
        json={"action": "instruct", "version": 1, "activated": True, "instruction": "启动"},
        headers=shared_uni.headers["lead_member"],
    )
    assert r.status_code == 409 and r.json()["type"].endswith("stale-version")
    assert r.json()["version"] == 2 and r.json()["state"] == "assessed"
    await d.instruct()
    # Tasks and bulletins carry their own versions.
    task = await d.task("BWC")
    path = f"/api/v1/incidents/{d.id}/tasks/{task['id']}/actions"
    results = await asyncio.gather(
        *[
            client.post(
                path, json={"action": a, "version": 1, "reason_code": "busy"}, headers=shared_uni.headers["outsider"]
            )
            for a in ("acknowledge", "decline")
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    draft = await d.bulletin(approve=False, publish=False)
    approve = f"/api/v1/incidents/{d.id}/bulletins/{draft['id']}/approve"
    results = await asyncio.gather(
        *[
            client.post(approve, json={"version": 1}, headers=shared_uni.headers[p])
            for p in ("info_leader", "info_leader")
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(await journal(client, shared_uni, d.id, "bulletin.approved")) == 1


async def test_the_scan_journals_overdue_steps_tasks_and_missed_updates_once(
    client: Any, db: Any, shared_uni: University
) -> None:
    d = Driver(client, shared_uni)
    await d.report()
    await d.assess()
    await d.instruct()
    task = await d.task("BWC")
    bulletin = await d.bulletin()
    steps = {s["step"]: s for s in (await d.get())["steps"]}
    # Nothing is due right away (the assessment and instruction were done on time).
    assert await jobs.scan_tenant(db, shared_uni.tenant.id) == 0
    # Three hours later: response and logistics (120 min) and the task are overdue, the 120-minute bulletin
    # cadence is missed; the information release step was completed by the first bulletin.
    later = dt.datetime.fromisoformat(steps["response"]["due_at"]) + dt.timedelta(hours=1)
    assert await jobs.scan_tenant(db, shared_uni.tenant.id, later) >= 4
    assert await jobs.scan_tenant(db, shared_uni.tenant.id, later) == 0  # once each
    overdue = {e["payload"]["step"] for e in await journal(client, shared_uni, d.id, "incident.step_overdue")}
    assert overdue == {"response", "logistics"}
    tasks = await journal(client, shared_uni, d.id, "task.overdue")
    assert [(e["subject_id"], e["org_unit_id"]) for e in tasks] == [(task["id"], shared_uni.units["BWC"])]
    missed = await journal(client, shared_uni, d.id, "bulletin.update_missed")
    assert [e["payload"]["due_at"] for e in missed] == [
        dt.datetime.fromisoformat(bulletin["next_update_at"]).isoformat()
    ]
    assert all(e["payload"]["drill"] is False for e in [*tasks, *missed])
    # The views flag them too.
    r = await client.get(f"/api/v1/incidents/{d.id}", headers=shared_uni.headers["admin"])
    assert r.json()["tasks"][0]["overdue"] is False  # not yet overdue by the wall clock
    # A new update resets the cadence: its own due time is flagged separately later, never the old one again.
    update = await d.bulletin(title_zh="进展", title_en="Update")
    before_next = dt.datetime.fromisoformat(update["next_update_at"]) - dt.timedelta(minutes=1)
    assert await jobs.scan_tenant(db, shared_uni.tenant.id, before_next) == 0
    after_next = before_next + dt.timedelta(minutes=2)
    assert await jobs.scan_tenant(db, shared_uni.tenant.id, after_next) == 1
    assert len(await journal(client, shared_uni, d.id, "bulletin.update_missed")) == 2


async def test_a_drill_runs_the_same_flow_is_marked_and_counts_for_training(
    client: Any, shared_uni: University
) -> None:
    d = Driver(client, shared_uni)
    inc = await d.report(drill=True)
    assert inc["drill"] is True
    await d.assess()
    await d.instruct()
    task = await d.task("BWC")
    assert task["drill"] is True
    await d.bulletin()
    r = await client.get(f"/public/{shared_uni.slug}/incidents/{inc['public_token']}/page", params={"lang": "en"})
    assert "DRILL" in r.text
    await d.post("outsider", f"/tasks/{task['id']}/actions", {"action": "acknowledge", "version": 1}, 200)
    await d.post("outsider", f"/tasks/{task['id']}/actions", {"action": "complete", "version": 2}, 200)
    await d.end_response()
    await d.tick_all()
    await d.submit()
    await d.approve()
    events = await journal(client, shared_uni, d.id)
    ours = [e for e in events if e["type"].split(".")[0] in {"incident", "task", "bulletin", "action_item"}]
    assert ours and all(e["payload"]["drill"] is True for e in ours)
    r = await client.get("/api/v1/incidents", params={"drill": "true"}, headers=shared_uni.headers["admin"])
    assert d.id in [i["id"] for i in r.json()] and all(i["drill"] for i in r.json())
    r = await client.get(
        f"/api/v1/incidents/{d.id}/summary", params={"lang": "zh-CN"}, headers=shared_uni.headers["admin"]
    )
    assert "【演练】" in r.text
    # Counted as a drill for training compliance, with the people who acted in it.
    r = await client.get("/api/v1/training/sessions", headers=shared_uni.headers["admin"])
    assert r.status_code == 200, r.text
    drills = [s for s in r.json() if s["kind"] == "drill"]
    assert len(drills) == 1
    participants = set(drills[0]["participants"])
    for persona in ("hand_member", "lead_member", "lead_leader", "info_member", "info_leader", "outsider"):
        assert shared_uni.person_ids[persona] in participants, persona
