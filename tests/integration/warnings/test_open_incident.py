"""Opening an incident from an early warning on the real database: pre-filled from the evidence, linked both ways,
journaled, idempotent under Idempotency-Key, once per warning (409 after), never from a dismissed warning (409),
only by the handling group or an admin (403), and never across universities (404). Refusals write nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from service.incidents.models import Incident
from service.petitions.models import Category, Petition
from tenants.journal import JournalEvent
from tests.support.emergency import University, make_university
from tests.support.people import make_account
from tests.support.warnings import SURGE, surging_university


async def _events(db: Any, uni: University, type_: str) -> list[JournalEvent]:
    async with db.transaction(uni.tenant.id) as session:
        return list(await session.scalars(select(JournalEvent).where(JournalEvent.type == type_)))


async def _incidents(db: Any, uni: University) -> int:
    async with db.transaction(uni.tenant.id) as session:
        return int(await session.scalar(select(func.count()).select_from(Incident)) or 0)


def _url(warning: dict[str, Any]) -> str:
    return f"/api/v1/warnings/{warning['id']}"


async def test_open_an_incident_from_a_warning(client: Any, db: Any, platform_token: str) -> None:
    uni, category = await surging_university(client, db, platform_token)
    member = uni.headers["hand_member"]
    # One surge, one warning: led by the category, with the unit and the place of the same petitions.
    assert category["key_kind"] == "category" and category["name"] == {"zh": "食堂", "en": "Canteen"}
    assert [(r["key_kind"], r["window_count"]) for r in category["related"]] == [("org_unit", SURGE), ("place", SURGE)]
    unit = category["related"][0]
    assert unit["name"] == {"zh": "单位HQGLC", "en": "Unit HQGLC"} and category["org_unit_id"] == unit["key"]
    # The summary names the category, the unit and the place, never by code or id.
    zh, en = category["summary"]["zh"], category["summary"]["en"]
    assert "类别“食堂”" in zh and "category 'Canteen'" in en
    assert f"部门“单位HQGLC”{SURGE}件" in zh and f"unit 'Unit HQGLC' ({SURGE})" in en and unit["key"] not in zh + en
    assert "地点“36.065,120.380（约500米网格）”" in zh
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"risk_categories": ["group_event"], "impact": "食堂门口聚集"}
    r = await client.post(_url(category) + "/incident", json=body, headers={**member, **key})
    assert r.status_code == 201, r.text
    incident = r.json()
    # Pre-filled from the evidence: the category's names, the petition count; the given fields kept.
    assert incident["source"] == "warning" and incident["warning_id"] == category["id"]
    assert incident["title"] == "信访激增预警：类别“食堂” / Petition surge: category Canteen"
    assert incident["facts"].startswith(f"过去24小时内类别“食堂”收到{SURGE}件信访")
    assert f"{SURGE} petitions on category 'Canteen' in 24 h" in incident["facts"]
    # The surge's place (a related key) becomes the incident's place.
    place = "36.065,120.380（约500米网格） / 36.065,120.380 (grid cell of about 500 m)"
    assert (incident["people_count"], incident["place"], incident["impact"]) == (SURGE, place, "食堂门口聚集")
    assert (incident["risk_categories"], incident["state"], incident["drill"]) == (["group_event"], "reported", False)

    # Linked both ways.
    shown = (await client.get(_url(category), headers=member)).json()
    assert (shown["state"], shown["incident_id"]) == ("incident_opened", incident["id"])
    detail = (await client.get(f"/api/v1/incidents/{incident['id']}", headers=uni.headers["admin"])).json()
    assert detail["warning_id"] == category["id"]
    # The incident links the petitions of the surge (all six, on the canteen).
    async with db.transaction(uni.tenant.id) as session:
        canteen = set(
            await session.scalars(
                select(Petition.id)
                .join(Category, Category.id == Petition.category_id)
                .where(Category.code == "canteen")
            )
        )
    assert len(canteen) == SURGE and {uuid.UUID(p) for p in detail["petition_ids"]} == canteen

    # Journaled: the incident names the warning, the warning its incident; no person, no petition text.
    [reported] = await _events(db, uni, "incident.reported")
    assert (str(reported.subject_id), reported.payload["source"]) == (category["id"], "warning")
    [opened] = await _events(db, uni, "warning.incident_opened")
    assert (str(opened.subject_id), str(opened.incident_id), opened.payload) == (
        category["id"], incident["id"], {"key_kind": "category"},
    )  # fmt: skip
    assert str(opened.actor_id) == uni.account_ids["hand_member"]
    assert "学生" not in repr(opened.payload) + repr(reported.payload)

    # A retry with the same key gets the first answer; the same key with another body is refused.
    replay = await client.post(_url(category) + "/incident", json=body, headers={**member, **key})
    assert replay.status_code == 201 and replay.json()["id"] == incident["id"]
    assert replay.headers["idempotent-replayed"] == "true"
    reused = await client.post(_url(category) + "/incident", json={}, headers={**member, **key})
    assert reused.status_code == 422, reused.text
    # A second opening (a new request) is a conflict naming the incident.
    again = await client.post(_url(category) + "/incident", headers=member)
    assert again.status_code == 409, again.text
    problem = again.json()
    assert again.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/incident-opened") and problem["incident_id"] == incident["id"]
    assert await _incidents(db, uni) == 1
    assert len(await _events(db, uni, "warning.incident_opened")) == 1
    # It cannot be dismissed any more.
    dismissed = await client.post(_url(category) + "/dismiss", json={"reason": "误报"}, headers=member)
    assert dismissed.status_code == 409


async def test_refusals_write_nothing(client: Any, db: Any, platform_token: str) -> None:
    uni, unit = await surging_university(client, db, platform_token)
    url = _url(unit) + "/incident"
    member = uni.headers["hand_member"]

    # Outside the handling group (staff, even the leadership group's leader): 403; a petitioner: 403.
    for persona in ("outsider", "lead_leader"):
        r = await client.post(url, json={}, headers=uni.headers[persona])
        assert r.status_code == 403, (persona, r.text)
    petitioner, _ = await make_account(client, uni.tenant, "petitioner")
    assert (await client.post(url, json={}, headers=petitioner)).status_code == 403
    # Another university's admin does not see the warning: 404; an unknown id: 404.
    other = await make_university(client, db, platform_token)
    assert (await client.post(url, json={}, headers=other.headers["admin"])).status_code == 404
    assert (await client.post(f"/api/v1/warnings/{uuid.uuid4()}/incident", headers=member)).status_code == 404
    # Bad input: 400 at the edge, 422 for a risk category the plan does not know (and nothing half-written).
    for bad in ({"extra": 1}, {"people_count": -1}, {"title": ""}, {"title": "x" * 201}):
        r = await client.post(url, json=bad, headers=member)
        assert r.status_code == 400, (bad, r.text)
    r = await client.post(url, json={"risk_categories": ["no_such_risk"]}, headers=member)
    assert r.status_code == 422, r.text
    r = await client.post(url, json={"people_count": 1, "people_groups": [{"kind": "students", "count": 5}]},
                          headers=member)  # fmt: skip
    assert r.status_code == 422, r.text
    assert await _incidents(db, uni) == 0
    assert (await client.get(_url(unit), headers=member)).json()["state"] == "open"
    assert await _events(db, uni, "warning.incident_opened") == []

    # Two members opening at once: one incident, the other request a 409.
    results = await asyncio.gather(*(client.post(url, json={}, headers=member) for _ in range(2)))
    assert sorted(r.status_code for r in results) == [201, 409]
    assert await _incidents(db, uni) == 1
    # It names the surge by its leading key, the category.
    title = next(r.json() for r in results if r.status_code == 201)["title"]
    assert title == "信访激增预警：类别“食堂” / Petition surge: category Canteen"

    # A dismissed warning opens nothing.
    other_uni, other = await surging_university(client, db, platform_token)
    member = other_uni.headers["hand_member"]
    r = await client.post(_url(other) + "/dismiss", json={"reason": "已排查"}, headers=member)
    assert r.status_code == 200
    r = await client.post(_url(other) + "/incident", json={}, headers=member)
    assert r.status_code == 409 and r.json()["type"].endswith("/transition-refused"), r.text
    assert await _incidents(db, other_uni) == 0
