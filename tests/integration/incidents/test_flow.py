"""The whole flow through the API: report → assessment → instruction with tasks to three offices → measures →
a logistics issue from inventory → two bulletins and a correction → cleanup → summary approved → closed; the
timeline holds every step in order, and every event carries the ids analytics needs."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from tests.support.emergency import Driver, University


async def journal(client: Any, uni: University, incident_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/journal/", params={"limit": 500}, headers=uni.headers["admin"])
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["incident_id"] == incident_id]


async def test_an_incident_from_report_to_closed_summary(client: Any, uni: University) -> None:
    d = Driver(client, uni)
    inc = await d.report(people_groups=[{"kind": "students", "count": 180, "org_unit_id": uni.units["XSC"]}])
    assert inc["state"] == "reported" and inc["plan_number"] == 1 and inc["source"] == "staff"
    assert inc["allowed_actions"] == ["assess"]
    steps = {s["step"]: s for s in inc["steps"]}
    assert steps["report"]["completed_at"] and steps["assessment"]["started_at"]
    assert steps["assessment"]["due_at"] and steps["assessment"]["target_minutes"] == 60

    # 2. Assessment: 200 people and a group event: the seed plan suggests a level; the assessor confirms it.
    inc = await d.assess()
    assert inc["state"] == "assessed" and inc["suggested_level"] and inc["level"] == inc["suggested_level"]
    suggested = inc["suggested_level"]

    # 3. Instruction and tasks to three offices, due from the plan's step targets.
    inc = await d.instruct()
    assert inc["state"] == "responding" and inc["activated"] is True and inc["level"] == suggested
    tasks = [
        await d.task(unit, step) for unit, step in (("BWC", "response"), ("XSC", "response"), ("HQGLC", "logistics"))
    ]
    steps = {s["step"]: s for s in inc["steps"]}
    assert tasks[0]["due_at"] == steps["response"]["due_at"]
    assert tasks[2]["due_at"] == steps["logistics"]["due_at"]
    # Security acknowledges and completes; Student Affairs declines (a reason code) and the task is reassigned to
    # the Publicity Department; Logistics acknowledges and completes.
    t = await d.post("outsider", f"/tasks/{tasks[0]['id']}/actions", {"action": "acknowledge", "version": 1}, 200)
    assert t["state"] == "acknowledged" and t["acknowledged_at"]
    t = await d.post("outsider", f"/tasks/{tasks[0]['id']}/actions", {"action": "complete", "version": 2}, 200)
    assert t["state"] == "done" and t["completed_at"]
    t = await d.post(
        "hand_member",
        f"/tasks/{tasks[1]['id']}/actions",
        {"action": "decline", "version": 1, "reason_code": "not_our_remit"},
        200,
    )
    assert t["state"] == "declined"
    re = await d.post(
        "lead_member",
        f"/tasks/{tasks[1]['id']}/reassign",
        {"step": "response", "duty": "组织心理疏导", "org_unit_id": uni.units["XCB"]},
    )
    assert re["reassigned_from"] == tasks[1]["id"]
    for action, version in (("acknowledge", 1), ("complete", 2)):
        await d.post("info_member", f"/tasks/{re['id']}/actions", {"action": action, "version": version}, 200)
        await d.post("logi_member", f"/tasks/{tasks[2]['id']}/actions", {"action": action, "version": version}, 200)

    # 4. Response measures.
    for kind, count in (("communication", 12), ("order", 8), ("psychological_support", 30)):
        m = await d.post(
            "hand_member", "/measures", {"kind": kind, "count": count, "notes": "与学生代表座谈，听取诉求"}
        )
    assert m["kind"] == "psychological"

    # 5. Logistics: 40 bottles of water issued from the inventory; 5 first-aid kits asked, 2 in stock: short 3.
    water = await d.post(
        "hand_member", "/logistics", {"category": "water", "quantity": 40, "item_id": uni.items["LOG-WATER"]}
    )
    assert water["available"] == 100 and water["short"] == 0
    kits = await d.post(
        "hand_member", "/logistics", {"category": "medical", "quantity": 5, "item_id": uni.items["MED-KIT"]}
    )
    assert kits["available"] == 2 and kits["short"] == 3
    water = await d.post("logi_member", f"/logistics/{water['id']}/fulfil", {"version": 1}, 200)
    assert water["issued"] == 40 and water["short"] == 0 and water["state"] == "fulfilled"
    kits = await d.post("logi_member", f"/logistics/{kits['id']}/fulfil", {"version": 1}, 200)
    assert kits["issued"] == 2 and kits["short"] == 3 and kits["state"] == "short"
    water = await d.post("logi_member", f"/logistics/{water['id']}/return", {"quantity": 15}, 200)
    assert water["returned"] == 15
    r = await client.get(f"/api/v1/materials/items/{uni.items['LOG-WATER']}", headers=uni.headers["admin"])
    assert r.json()["quantity"] == 75

    # 6. Two bulletins and a correction of the first.
    b1 = await d.bulletin()
    assert b1["sequence"] == 1 and b1["kind"] == "initial" and b1["next_update_at"]
    b2 = await d.bulletin(title_zh="进展通报", title_en="Progress update")
    assert b2["sequence"] == 2 and b2["kind"] == "update"
    fix = await d.bulletin(
        kind="correction",
        corrects_id=b1["id"],
        body_zh="更正：预计明早恢复供水。",
        body_en="Correction: water is expected back tomorrow morning.",
    )
    assert fix["sequence"] == 3 and fix["kind"] == "correction" and fix["corrects_id"] == b1["id"]

    # 7. Cleanup and summary; the leadership approves and the incident closes.
    inc = await d.end_response()
    assert inc["state"] == "cleanup" and len(inc["checklist"]) == 4
    await d.action("hand_member", "submit_summary", expect=409, cause_analysis="x")  # the checklist is open
    await d.tick_all()
    inc = await d.submit()
    assert inc["state"] == "summary_review"
    await d.action("hand_leader", "approve_summary", expect=403)  # not the leadership
    inc = await d.approve()
    assert inc["state"] == "closed" and inc["closed_at"]
    assert len(inc["action_items"]) == 1 and inc["action_items"][0]["owner_unit_id"] == uni.units["HQGLC"]
    assert all(s["completed_at"] for s in inc["steps"])
    item = await d.post("hand_member", f"/action-items/{inc['action_items'][0]['id']}/complete", {}, 200)
    assert item["done_at"]

    # The timeline: every step in order, with who did it.
    r = await client.get(f"/api/v1/incidents/{d.id}/timeline", headers=uni.headers["admin"])
    assert r.status_code == 200
    timeline = r.json()
    types = [e["type"] for e in timeline]
    completed = [e["payload"]["step"] for e in timeline if e["type"] == "incident.step_completed"]
    assert completed == [
        "report",
        "assessment",
        "instruction",
        "information_release",
        "response",
        "logistics",
        "cleanup_summary",
    ]
    milestones = [
        t
        for t in types
        if t
        in {
            "incident.reported",
            "incident.assessed",
            "incident.instructed",
            "incident.response_ended",
            "incident.summary_approved",
            "incident.closed",
        }
    ]
    assert milestones == [
        "incident.reported",
        "incident.assessed",
        "incident.instructed",
        "incident.response_ended",
        "incident.summary_approved",
        "incident.closed",
    ]
    assert (
        types.index("task.assigned")
        < types.index("measure.recorded")
        < types.index("logistics.fulfilled")
        < types.index("bulletin.published")
        < types.index("incident.closed")
    )
    assert [e["occurred_at"] for e in timeline] == sorted(e["occurred_at"] for e in timeline)
    assert next(e for e in timeline if e["type"] == "incident.assessed")["actor"] == "hand_member"
    assert "material.issued" in types and "material.returned" in types

    # The journal contract: ids as columns, payload keys present, drill marked false everywhere.
    events = await journal(client, uni, d.id)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
        if e["type"].split(".")[0] in {"incident", "task", "measure", "logistics", "bulletin"}:
            assert e["payload"]["drill"] is False, e
    rep = by_type["incident.reported"][0]["payload"]
    assert rep == {
        "source": "staff",
        "drill": False,
        "plan_number": 1,
        "people_count": 200,
        "risk_categories": ["group_event"],
        "petitions": 0,
    }
    assert by_type["incident.assessed"][0]["payload"] == {
        "suggested_level": suggested,
        "level": suggested,
        "overridden": False,
        "drill": False,
    }
    assert by_type["incident.instructed"][0]["payload"] == {"activated": True, "level": suggested, "drill": False}
    assigned = by_type["task.assigned"]
    assert len(assigned) == 4 and {e["org_unit_id"] for e in assigned} == {
        uni.units[u] for u in ("BWC", "XSC", "HQGLC", "XCB")
    }
    assert all(e["subject_id"] and e["payload"]["assignee"] == "unit" and e["payload"]["due_at"] for e in assigned)
    assert [e["payload"]["reassigned_from"] for e in assigned].count(tasks[1]["id"]) == 1
    assert len(by_type["task.acknowledged"]) == 3 and len(by_type["task.completed"]) == 3
    assert all(e["payload"]["on_time"] is True for e in by_type["task.completed"])
    assert by_type["task.declined"][0]["payload"]["reason_code"] == "not_our_remit"
    assert sorted((e["payload"]["kind"], e["payload"]["count"]) for e in by_type["measure.recorded"]) == [
        ("communication", 12),
        ("order", 8),
        ("psychological", 30),
    ]
    assert sorted(
        (e["payload"]["category"], e["payload"]["quantity"], e["payload"]["short"])
        for e in by_type["logistics.fulfilled"]
    ) == [("medical", 2, 3), ("water", 40, 0)]
    published = sorted(by_type["bulletin.published"], key=lambda e: e["payload"]["sequence"])
    assert [(e["payload"]["sequence"], e["payload"]["kind"], e["payload"]["corrects_id"]) for e in published] == [
        (1, "initial", None),
        (2, "update", None),
        (3, "correction", b1["id"]),
    ]
    assert by_type["bulletin.corrected"][0]["payload"] == {
        "corrects_id": b1["id"],
        "kind": "correction",
        "drill": False,
    }
    assert by_type["incident.summary_approved"][0]["payload"] == {"action_items": 1, "drill": False}
    closed = by_type["incident.closed"][0]["payload"]
    assert closed["level"] == suggested and closed["minutes"] >= 0 and closed["drill"] is False
    issued = [e for e in events if e["type"] == "material.issued"]
    assert len(issued) == 2 and all(e["incident_id"] == d.id for e in issued)

    # The summary report renders to HTML and PDF in both languages.
    for lang, needle in (("zh-CN", "突发信访事件总结报告"), ("en", "Incident summary report")):
        r = await client.get(f"/api/v1/incidents/{d.id}/summary", params={"lang": lang}, headers=uni.headers["admin"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert needle in r.text and "更换三号楼供水管道" in r.text
        r = await client.get(
            f"/api/v1/incidents/{d.id}/summary", params={"lang": lang, "format": "pdf"}, headers=uni.headers["admin"]
        )
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        assert needle in text.replace("\n", "")
