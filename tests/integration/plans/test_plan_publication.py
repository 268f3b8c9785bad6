"""Publishing plans against the organization chart; the version in force; diffs; severity suggestions;
readiness against the materials; training compliance; the plan document."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import io
from typing import Any

from docx import Document
from pypdf import PdfReader

from tests.support.journal import journal_of
from tests.support.people import make_account
from tests.support.plans import draft, fill_groups, provision, published
from tests.support.platform import FIXED_TODAY


async def test_publication_is_refused_with_every_reason_until_the_groups_have_leaders(
    client: Any, db: Any, tenant: Any
) -> None:
    await provision(db, tenant)
    await fill_groups(client, tenant, ("leadership", "info_release"))
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    content = copy.deepcopy(body["content"])
    content["evaluation"][0]["weight"] = 0.3
    content["severity_levels"][3]["activation"] = {"kind": "any_category", "categories": ["earthquake"]}
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": content}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text

    r = await client.get(f"/api/v1/plans/versions/{vid}/problems", headers=tenant.headers)
    assert r.status_code == 200 and r.json()["publishable"] is False
    r = await client.post(f"/api/v1/plans/versions/{vid}/publish", headers=tenant.headers)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    messages = {(e["field"], e["message"]) for e in errors}
    # handling leads report, assessment, response, cleanup and the three measures; logistics its step.
    assert sum("group 'handling' has no leader" in m for _, m in messages) == 4 + 3
    assert ("steps[4].responsible_group", "group 'logistics' has no leader") in messages
    assert ("evaluation", "weights sum to 0.95, not 1") in messages
    assert ("severity_levels[3].activation", "unknown risk category 'earthquake'") in messages
    # Nothing was published.
    assert (await draft(client, tenant))["version"]["status"] == "draft"
    assert await journal_of(client, tenant, type="plan.published") == []


async def test_publish_supersede_and_the_version_in_force(client: Any, db: Any, tenant: Any) -> None:
    v1, _ = await published(client, db, tenant)
    v1_id = v1["version"]["id"]
    assert v1["version"]["status"] == "published" and v1["version"]["published_at"]
    assert (await client.get("/api/v1/plans/current", headers=tenant.headers)).json()["version"]["id"] == v1_id

    # A published version is immutable.
    r = await client.put(
        f"/api/v1/plans/versions/{v1_id}", json={"revision": 1, "content": v1["content"]}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/plan-immutable")
    r = await client.patch(
        f"/api/v1/plans/versions/{v1_id}/sections/training",
        json={"value": v1["content"]["training"]},
        headers=tenant.headers,
    )
    assert r.status_code == 409
    assert (await client.post(f"/api/v1/plans/versions/{v1_id}/publish", headers=tenant.headers)).status_code == 409

    # The next draft starts from the published version.
    r = await client.post("/api/v1/plans/versions", json={}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    v2 = r.json()
    v2_id = v2["version"]["id"]
    assert v2["version"]["number"] == 2 and v2["version"]["based_on_id"] == v1_id
    assert v2["content"] == v1["content"]
    r = await client.patch(
        f"/api/v1/plans/versions/{v2_id}/sections/steps",
        json={"value": [s | {"target_minutes": 20} if s["key"] == "report" else s for s in v2["content"]["steps"]]},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/plans/versions/{v2_id}/publish", headers=tenant.headers)
    assert r.status_code == 200, r.text
    v2_published_at = dt.datetime.fromisoformat(r.json()["version"]["published_at"])

    listed = {v["id"]: v for v in (await client.get("/api/v1/plans/versions", headers=tenant.headers)).json()}
    assert listed[v1_id]["status"] == "superseded" and listed[v1_id]["superseded_by_id"] == v2_id
    assert dt.datetime.fromisoformat(listed[v1_id]["superseded_at"]) == v2_published_at
    assert listed[v2_id]["status"] == "published"

    # In force at a time: v1 just before v2's publication, v2 from then on, nothing before v1.
    v1_published_at = dt.datetime.fromisoformat(v1["version"]["published_at"])
    for at, expected in [
        (v1_published_at, v1_id),
        (v2_published_at - dt.timedelta(microseconds=1), v1_id),
        (v2_published_at, v2_id),
        (v2_published_at + dt.timedelta(days=400), v2_id),
    ]:
        r = await client.get("/api/v1/plans/current", params={"at": at.isoformat()}, headers=tenant.headers)
        assert r.status_code == 200 and r.json()["version"]["id"] == expected, at
    r = await client.get(
        "/api/v1/plans/current",
        params={"at": (v1_published_at - dt.timedelta(seconds=1)).isoformat()},
        headers=tenant.headers,
    )
    assert r.status_code == 404

    r = await client.get("/api/v1/plans/diff", params={"from": v1_id, "to": v2_id}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sections"] == {"steps": [{"path": "steps[report].target_minutes", "old": 30, "new": 20}]}

    journal = [
        (e["type"], e["subject_id"], e["payload"]) for e in await journal_of(client, tenant, type="plan.published")
    ]
    assert journal == [
        ("plan.published", v1_id, {"number": 1, "supersedes_id": None}),
        ("plan.published", v2_id, {"number": 2, "supersedes_id": v1_id}),
    ]
    superseded = await journal_of(client, tenant, type="plan.superseded")
    assert [(e["subject_id"], e["payload"]) for e in superseded] == [(v1_id, {"number": 1, "superseded_by_id": v2_id})]


async def test_concurrent_publishes_of_one_draft_publish_it_once(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    await fill_groups(client, tenant)
    vid = (await draft(client, tenant))["version"]["id"]
    results = await asyncio.gather(
        *[client.post(f"/api/v1/plans/versions/{vid}/publish", headers=tenant.headers) for _ in range(3)]
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    assert len(await journal_of(client, tenant, type="plan.published")) == 1


async def test_severity_suggestion_from_the_plan_in_force(client: Any, db: Any, make_tenant: Any) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    await published(client, db, tenant)
    staff = (await make_account(client, tenant, "staff"))[0]
    r = await client.post(
        "/api/v1/plans/suggest-severity", json={"participants": 120, "categories": ["group_event"]}, headers=staff
    )
    assert r.status_code == 200, r.text
    suggestion = r.json()["suggestion"]
    assert suggestion["code"] == "II" and suggestion["matching_levels"] == ["II", "III", "IV"]
    assert suggestion["matched"] == [{"kind": "participants_at_least", "value": 100}]
    r = await client.post("/api/v1/plans/suggest-severity", json={"participants": 1}, headers=staff)
    assert r.json()["suggestion"] is None
    r = await client.post("/api/v1/plans/suggest-severity", json={"participants": -1}, headers=staff)
    assert r.status_code == 400
    r = await client.post("/api/v1/plans/suggest-severity", json={"participants": 500}, headers=other.headers)
    assert r.status_code == 404


async def add_item(client: Any, tenant: Any, code: str, quantity: int, expires_on: dt.date | None = None) -> str:
    r = await client.post(
        "/api/v1/materials/items",
        json={
            "category": "communication" if code.startswith("COMM") else "logistics",
            "code": code,
            "name_zh": code,
            "name_en": code,
            "unit": "pcs",
            "location": "仓库",
            "initial_quantity": quantity,
        }
        | ({"expires_on": expires_on.isoformat()} if expires_on else {}),
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]  # type: ignore[no-any-return]


async def test_readiness_against_the_published_minimums(clock: Any, client: Any, db: Any, tenant: Any) -> None:
    await published(client, db, tenant)
    today = FIXED_TODAY
    radio = await add_item(client, tenant, "COMM-RADIO", 4, today + dt.timedelta(days=5))
    await add_item(client, tenant, "LOG-WATER", 500, today + dt.timedelta(days=60))
    staff = (await make_account(client, tenant, "staff"))[0]
    r = await client.get("/api/v1/plans/readiness", params={"expiring_within_days": 10}, headers=staff)
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["ready"] is False
    shortages = {s["code"]: s for s in report["shortages"]}
    assert shortages["COMM-RADIO"] == {
        "category": "communication",
        "code": "COMM-RADIO",
        "required": 10,
        "available": 4,
        "short": 6,
    }
    assert "LOG-WATER" not in shortages and len(shortages) == 7
    assert [(e["code"], e["days_left"]) for e in report["expiring"]] == [("COMM-RADIO", 5)]
    r = await client.get("/api/v1/plans/readiness", params={"expiring_within_days": 90}, headers=staff)
    assert [e["code"] for e in r.json()["report"]["expiring"]] == ["COMM-RADIO", "LOG-WATER"]
    # Checking again journals nothing new.
    assert len(await journal_of(client, tenant, type="material.shortage")) == 7
    r = await client.get("/api/v1/plans/readiness", params={"expiring_within_days": -1}, headers=staff)
    assert r.status_code == 400

    # The daily job runs the same check; nothing changed, so nothing new is journaled.
    from service.plans import jobs

    await jobs.check_university(tenant.id)
    assert len(await journal_of(client, tenant, type="material.shortage")) == 7
    r = await client.post(
        f"/api/v1/materials/items/{radio}/movements",
        json={"kind": "receive", "quantity": 6, "reason": "采购入库"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    await jobs.check_university(tenant.id)
    assert [e["payload"]["code"] for e in await journal_of(client, tenant, type="material.shortage_resolved")] == [
        "COMM-RADIO"
    ]
    assert [m.actor_name for m in jobs._daily_readiness("2026-11-29")] == ["readiness_sweep"]


async def test_training_compliance(clock: Any, client: Any, db: Any, tenant: Any) -> None:
    _, people = await published(client, db, tenant)
    today = FIXED_TODAY
    r = await client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": (today - dt.timedelta(days=30)).isoformat(),
            "kind": "training",
            "topic": "预案培训",
            "participants": [people["leadership"], people["handling"]],
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    staff = (await make_account(client, tenant, "staff"))[0]
    r = await client.get("/api/v1/training/compliance", headers=staff)
    assert r.status_code == 200, r.text
    result = r.json()
    assert sorted(result["overdue"]) == sorted([people["info_release"], people["logistics"]])
    # Named, not only by id: the console lists who is overdue.
    named = {p["id"]: (p["name_zh"], p["name_en"]) for p in result["overdue_people"]}
    assert named == {people["info_release"]: ("刘芳", "Liu Fang"), people["logistics"]: ("陈静", "Chen Jing")}
    by_id = {p["person_id"]: p for p in result["people"]}
    assert by_id[people["leadership"]]["name_zh"] == "王建国" and not by_id[people["leadership"]]["overdue"]
    assert result["drill"]["met"] is False
    r = await client.post(
        "/api/v1/training/sessions",
        json={"held_on": today.isoformat(), "kind": "drill", "topic": "演练", "participants": [people["logistics"]]},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    result = (await client.get("/api/v1/training/compliance", headers=staff)).json()
    assert result["overdue"] == [people["info_release"]] and result["drill"]["met"] is True
    later = (today + dt.timedelta(days=200)).isoformat()
    result = (await client.get("/api/v1/training/compliance", params={"as_of": later}, headers=staff)).json()
    assert len(result["overdue"]) == 4

    # Names on the plan document's terms: an API key needs people:read beside plans:read.
    async def key(*scopes: str) -> dict[str, str]:
        r = await client.post("/api/v1/api-keys/", json={"name": "k", "scopes": list(scopes)}, headers=tenant.headers)
        assert r.status_code == 201, r.text
        return {"X-API-Key": r.json()["secret"]}

    r = await client.get("/api/v1/training/compliance", headers=await key("plans:read"))
    assert r.status_code == 200, r.text
    assert "刘芳" not in r.text and people["info_release"] in r.text
    assert {p["name_zh"] for p in r.json()["overdue_people"]} == {None}
    r = await client.get("/api/v1/training/compliance", headers=await key("plans:read", "people:read"))
    assert [p["name_zh"] for p in r.json()["overdue_people"]] == ["刘芳"]


async def test_plan_document(client: Any, db: Any, make_tenant: Any) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    version, _ = await published(client, db, tenant)
    staff = (await make_account(client, tenant, "staff"))[0]

    r = await client.get("/api/v1/plans/document", params={"format": "pdf", "lang": "zh-CN"}, headers=staff)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="plan-v1-zh-CN.pdf"' in r.headers["content-disposition"]
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).split())
    for expected in [
        "测试大学高校信访工作应急预案",
        "版本：第1版",
        "三、组织机构框架",
        "领导小组",
        "王建国（校党委书记）",
        "七、预案文档编写与培训",
    ]:
        assert expected in text, expected

    r = await client.get("/api/v1/plans/document", params={"format": "docx", "lang": "en"}, headers=staff)
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(
        [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    )
    assert "Test University Emergency Plan for Petition Work" in text
    assert "Zhang Wei (Director of Student Affairs)" in text and "5. Materials and resource allocation" in text

    r = await client.get("/api/v1/plans/document", params={"format": "html"}, headers=tenant.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "刘芳（宣传部部长）" in r.text

    r = await client.get("/api/v1/plans/document", params={"format": "odt"}, headers=staff)
    assert r.status_code == 400
    assert (await client.get("/api/v1/plans/document", headers=other.headers)).status_code == 404
    r = await client.get(
        "/api/v1/plans/document", params={"version_id": version["version"]["id"]}, headers=other.headers
    )
    assert r.status_code == 404


def _pdf_text(body: bytes) -> str:
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).split())


async def test_the_document_lists_the_groups_in_the_plans_order_leadership_first(
    client: Any, db: Any, tenant: Any
) -> None:
    await published(client, db, tenant)
    r = await client.get("/api/v1/plans/document", params={"format": "pdf", "lang": "zh-CN"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    text = _pdf_text(r.content)
    section = text[text.index("三、组织机构框架") :]
    positions = [section.index(name) for name in ("领导小组", "应急处置小组", "信息发布小组", "后勤保障组")]
    assert positions == sorted(positions), positions

    r = await client.get("/api/v1/plans/document", params={"format": "docx", "lang": "en"}, headers=tenant.headers)
    headings = [p.text for p in Document(io.BytesIO(r.content)).paragraphs if p.style.name.startswith("Heading")]
    groups = [
        h
        for h in headings
        if h in ("Leadership group", "Emergency handling group", "Information release group", "Logistics support group")
    ]
    assert groups == [
        "Leadership group",
        "Emergency handling group",
        "Information release group",
        "Logistics support group",
    ]
