"""Incidents opened from petitions (directly or from an escalation request) link both ways; the public status page
shows published bulletins only, in zh-CN and en, and never a name, a phone number or a draft."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from service.incidents.document import local_time
from tests.support.emergency import Driver, University, report_body

SECRET_NAME = "李秘密"
SECRET_PHONE = "13912345678"


async def petitions(client: Any, uni: University, n: int) -> list[str]:
    r = await client.post(
        "/api/v1/petition-categories",
        json={
            "code": "dormitory",
            "name_zh": "宿舍",
            "name_en": "Dormitory",
            "default_org_unit_id": uni.units["HQGLC"],
        },
        headers=uni.headers["admin"],
    )
    assert r.status_code == 201, r.text
    ids = []
    for i in range(n):
        r = await client.post(
            "/api/v1/petitions/register",
            json={
                "kind": "complaint",
                "category": "dormitory",
                "channel": "visit",
                "subject": f"宿舍停水 {i}",
                "content": "三号宿舍楼停水三天。",
                "petitioner": {"name": SECRET_NAME, "phone": SECRET_PHONE},
            },
            headers=uni.headers["hand_member"],
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def test_escalated_petitions_open_an_incident_linked_both_ways(client: Any, uni: University) -> None:
    ids = await petitions(client, uni, 3)
    r = await client.post(
        "/api/v1/petitions/escalations",
        json={"petition_ids": ids[:2], "reason_code": "group-visit"},
        headers=uni.headers["hand_member"],
    )
    assert r.status_code == 201, r.text
    escalation = r.json()["id"]
    # From the escalation request (plus one more petition named directly).
    r = await client.post(
        "/api/v1/incidents",
        json=report_body(escalation_id=escalation, petition_ids=[ids[2]]),
        headers=uni.headers["hand_member"],
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    assert incident["source"] == "petitions" and sorted(incident["petition_ids"]) == sorted(ids)
    for pid in ids:
        r = await client.get(f"/api/v1/petitions/{pid}", headers=uni.headers["admin"])
        assert r.status_code == 200 and r.json()["incident_ids"] == [incident["id"]]
    # The escalation opens one incident only.
    r = await client.post(
        "/api/v1/incidents", json=report_body(escalation_id=escalation), headers=uni.headers["hand_member"]
    )
    assert r.status_code == 409 and r.json()["incident_id"] == incident["id"]
    # The journal counts the petitions; the payload holds no personal data.
    r = await client.get("/api/v1/journal/", params={"type": "incident.reported"}, headers=uni.headers["admin"])
    event = next(e for e in r.json()["items"] if e["incident_id"] == incident["id"])
    assert event["payload"]["source"] == "petitions" and event["payload"]["petitions"] == 3
    assert SECRET_NAME not in r.text and SECRET_PHONE not in r.text
    # Unknown petitions are refused whole with a 404, and so are petitions outside the caller's scope (staff of
    # another unit): the same answer, so opening an incident or escalating is no existence oracle.
    unknown = await client.post(
        "/api/v1/incidents", json=report_body(petition_ids=[str(uuid.uuid4())]), headers=uni.headers["hand_member"]
    )
    foreign = await client.post(
        "/api/v1/incidents", json=report_body(petition_ids=[ids[0]]), headers=uni.headers["outsider"]
    )
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json()["type"] == foreign.json()["type"] and unknown.json()["detail"] == foreign.json()["detail"]
    for body in (
        {"petition_ids": [ids[0]], "reason_code": "x"},
        {"petition_ids": [str(uuid.uuid4())], "reason_code": "x"},
    ):
        r = await client.post("/api/v1/petitions/escalations", json=body, headers=uni.headers["outsider"])
        assert r.status_code == 404 and r.json()["detail"] == unknown.json()["detail"]
    r = await client.get("/api/v1/incidents", headers=uni.headers["admin"])
    assert [i["id"] for i in r.json()] == [incident["id"]]
    # The incident itself is for all staff; its linked petitions only those each caller may see.
    r = await client.get(f"/api/v1/incidents/{incident['id']}", headers=uni.headers["outsider"])
    assert r.status_code == 200 and r.json()["petition_ids"] == []
    r = await client.get(f"/api/v1/incidents/{incident['id']}", headers=uni.headers["hand_member"])
    assert sorted(r.json()["petition_ids"]) == sorted(ids)


async def test_report_from_a_warning_through_the_service(client: Any, db: Any, platform_token: str) -> None:
    from service.incidents import services
    from tests.support.warnings import surging_university

    # A real warning of the university: incidents.warning_id is a foreign key that includes tenant_id.
    uni, surge = await surging_university(client, db, platform_token)
    warning = uuid.UUID(surge["id"])
    async with db.transaction(uni.tenant.id) as session:
        incident = await services.report_incident(
            session,
            None,
            services.IncidentReport(title="预警", facts="舆情预警", people_count=0, risk_categories=["public_opinion"]),
            warning_id=warning,
        )
        assert incident.source == "warning" and incident.warning_id == warning


async def test_status_page_shows_published_bulletins_only_without_personal_data(
    client: Any, shared_uni: University
) -> None:
    d = Driver(client, shared_uni)
    inc = await d.report(facts=f"学生{SECRET_NAME}（电话{SECRET_PHONE}）带头聚集。", title=f"{SECRET_NAME}等聚集")
    token = inc["public_token"]
    page = f"/public/{shared_uni.slug}/incidents/{token}"
    r = await client.get(page)
    assert r.status_code == 200 and r.json()["bulletins"] == [] and r.json()["status"] == "处置中"
    await d.assess()
    await d.instruct()
    b1 = await d.bulletin()
    # A draft and an approved-but-unpublished bulletin naming a person.
    await d.bulletin(
        approve=False, publish=False, body_zh=f"草稿：{SECRET_NAME} {SECRET_PHONE}", body_en=f"Draft {SECRET_PHONE}"
    )
    await d.bulletin(publish=False, title_zh=f"待发布 {SECRET_NAME}", title_en="Pending")
    fix = await d.bulletin(
        kind="correction",
        corrects_id=b1["id"],
        body_zh="更正：明早恢复供水。",
        body_en="Correction: water back tomorrow.",
    )

    for lang, status in (("zh-CN", "处置中"), ("en", "active")):
        r = await client.get(page, params={"lang": lang})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == status and body["drill"] is False
        assert [(b["sequence"], b["kind"]) for b in body["bulletins"]] == [(1, "initial"), (2, "correction")]
        assert body["bulletins"][0]["corrected_by"] == [2] and body["bulletins"][1]["corrects_sequence"] == 1
        assert body["bulletins"][0]["next_update_at"]
        title = body["bulletins"][0]["title"]
        assert title == ("关于三号宿舍楼停水的情况通报" if lang == "zh-CN" else "Water outage in Dormitory 3")
        html = await client.get(f"{page}/page", params={"lang": lang})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        # The page reads in the university's local time (the JSON keeps the instant), fits a phone, and
        # switches language.
        published = datetime.fromisoformat(body["bulletins"][0]["published_at"])
        assert local_time(published, "Asia/Shanghai", lang) in html.text
        assert 'name="viewport"' in html.text and ("?lang=en" if lang == "zh-CN" else "?lang=zh-CN") in html.text
        for text in (r.text, html.text):
            assert SECRET_NAME not in text and SECRET_PHONE not in text
            assert "草稿" not in text and "待发布" not in text and "Pending" not in text
        assert fix["body_en" if lang == "en" else "body_zh"] in html.text
    # No credentials needed, but an unknown token or another university's slug is a 404.
    assert (await client.get(f"/public/{shared_uni.slug}/incidents/nope")).status_code == 404
    assert (await client.get(f"/public/u-unknown/incidents/{token}")).status_code == 404


async def test_another_universitys_incident_is_not_found(client: Any, shared_uni: University, make_tenant: Any) -> None:
    d = Driver(client, shared_uni)
    await d.report()
    other = await make_tenant()
    assert (await client.get(f"/api/v1/incidents/{d.id}", headers=other.headers)).status_code == 404
    r = await client.post(
        f"/api/v1/incidents/{d.id}/actions",
        json={"action": "assess", "version": 1, "cause": "x", "site_conditions": "y"},
        headers=other.headers,
    )
    assert r.status_code == 404
    assert (await client.get(f"/public/{other.slug}/incidents/{(await d.get())['public_token']}")).status_code == 404
