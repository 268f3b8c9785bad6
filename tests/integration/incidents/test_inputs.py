"""Bad input is a 4xx problem and writes nothing; the assessment's suggestion and override; retried reports are
idempotent; no plan in force → 409."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.emergency import Driver, University, report_body


async def test_report_validation_and_idempotency(client: Any, shared_uni: University, make_tenant: Any) -> None:
    h = shared_uni.headers["outsider"]
    r = await client.post("/api/v1/incidents", json=report_body(risk_categories=["no_such_risk"]), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "risk_categories[0]"
    groups = [{"kind": "students", "count": 500, "org_unit_id": str(uuid.uuid4())}]
    r = await client.post("/api/v1/incidents", json=report_body(people_groups=groups), headers=h)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {
        "people_groups[0].org_unit_id",
        "people_groups",
    }
    r = await client.post("/api/v1/incidents", json=report_body(unknown_field=1), headers=h)
    assert r.status_code == 400
    r = await client.post("/api/v1/incidents", json=report_body(people_count=-1), headers=h)
    assert r.status_code == 400
    before = len((await client.get("/api/v1/incidents", headers=shared_uni.headers["admin"])).json())
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/v1/incidents", json=report_body(), headers={**h, **key})
    again = await client.post("/api/v1/incidents", json=report_body(), headers={**h, **key})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first.json()["id"]
    r = await client.get("/api/v1/incidents", headers=shared_uni.headers["admin"])
    assert len(r.json()) == before + 1 and first.json()["id"] in [i["id"] for i in r.json()]
    # A university without a published plan cannot open incidents yet.
    other = await make_tenant()
    r = await client.post("/api/v1/incidents", json=report_body(), headers=other.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("no-plan")


async def test_assessment_suggests_and_an_override_needs_a_reason(client: Any, shared_uni: University) -> None:
    d = Driver(client, shared_uni)
    await d.report(people_count=3, risk_categories=[])
    base = {"cause": "误解", "site_conditions": "平静"}
    # Three people and no risk: the seed plan suggests no level, so one must be chosen, with a reason.
    await d.action("hand_member", "assess", expect=422, **base)
    problem = await d.action("hand_member", "assess", expect=422, level="IV", **base)
    assert [e["field"] for e in problem["errors"]] == ["reason"]
    problem = await d.action("hand_member", "assess", expect=422, level="IX", reason="x", **base)
    assert [e["field"] for e in problem["errors"]] == ["level"]
    inc = await d.get()
    assert inc["state"] == "reported" and inc["version"] == 1  # nothing written
    # 600 people with media attention: the plan suggests a level; overriding it downwards needs a reason.
    facts = {**base, "people_count": 600, "media_attention": True, "risk_categories": ["group_event", "public_opinion"]}
    await d.action("hand_member", "assess", expect=422, level="IV", **facts)
    inc = await d.action("hand_member", "assess", level="IV", reason="人群已开始散去", **facts)
    assert inc["suggested_level"] not in (None, "IV") and inc["level"] == "IV"
    assert inc["level_reason"] == "人群已开始散去" and inc["people_count"] == 600
    r = await client.get("/api/v1/journal/", params={"type": "incident.assessed"}, headers=shared_uni.headers["admin"])
    event = next(e for e in r.json()["items"] if e["incident_id"] == d.id)
    assert event["payload"]["overridden"] is True and event["payload"]["level"] == "IV"
    # The leadership may decide not to activate the plan: no level then.
    inc = await d.action("lead_leader", "instruct", activated=False, instruction="由学院处理，持续关注")
    assert inc["activated"] is False and inc["level"] is None and inc["state"] == "responding"


async def test_sub_resource_input_is_checked(client: Any, shared_uni: University) -> None:
    d = Driver(client, shared_uni)
    await d.report()
    await d.assess()
    await d.instruct()
    units = shared_uni.units
    both = {"step": "response", "duty": "x", "org_unit_id": units["BWC"], "group_key": "handling"}
    await d.post("lead_member", "/tasks", both, 422)
    await d.post("lead_member", "/tasks", {"step": "response", "duty": "x", "group_key": "nobody"}, 422)
    await d.post("lead_member", "/tasks", {"step": "nope", "duty": "x", "org_unit_id": units["BWC"]}, 400)
    await d.post("hand_member", "/measures", {"kind": "dancing", "notes": "x"}, 422)
    # A medical kit cannot meet a water request; a venue is arranged without the inventory.
    body = {"category": "water", "quantity": 1, "item_id": shared_uni.items["MED-KIT"]}
    await d.post("hand_member", "/logistics", body, 422)
    venue = await d.post("hand_member", "/logistics", {"category": "venue", "quantity": 1})
    assert venue["available"] is None
    venue = await d.post("logi_member", f"/logistics/{venue['id']}/fulfil", {"version": 1}, 200)
    assert venue["state"] == "fulfilled" and venue["short"] == 0
    await d.post("logi_member", f"/logistics/{venue['id']}/fulfil", {"version": 2}, 409)
    await d.post("logi_member", f"/logistics/{venue['id']}/return", {"quantity": 1}, 409)
    water = await d.post(
        "hand_member", "/logistics", {"category": "water", "quantity": 3, "item_id": shared_uni.items["LOG-WATER"]}
    )
    await d.post("logi_member", f"/logistics/{water['id']}/fulfil", {"version": 1}, 200)
    await d.post("logi_member", f"/logistics/{water['id']}/return", {"quantity": 4}, 422)
    # A correction must name a published bulletin of this incident.
    draft = await d.bulletin(approve=False, publish=False)
    bad = {"audience": "campus", "title_zh": "更正", "title_en": "Fix", "body_zh": "x", "body_en": "x"}
    await d.post("info_member", "/bulletins", {**bad, "kind": "correction", "corrects_id": draft["id"]}, 422)
    await d.post("info_member", "/bulletins", {**bad, "corrects_id": draft["id"]}, 422)
    await d.post("info_member", "/bulletins", {**bad, "audience": "aliens"}, 400)
    # Publishing needs an approval first; a stale bulletin version is a 409.
    await d.post("info_member", f"/bulletins/{draft['id']}/publish", {"version": 1}, 409)
    await d.post("info_leader", f"/bulletins/{draft['id']}/approve", {"version": 5}, 409)
    # Shortfalls show in the incident's view at once.
    kits = await d.post(
        "hand_member", "/logistics", {"category": "medical", "quantity": 50, "item_id": shared_uni.items["MED-KIT"]}
    )
    view = next(r for r in (await d.get())["logistics"] if r["id"] == kits["id"])
    assert view["state"] == "requested" and view["short"] == 50 - view["available"]
