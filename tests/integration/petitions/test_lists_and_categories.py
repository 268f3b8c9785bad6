import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.casework import petition_body
from tests.support.journal import journal_of


async def test_filters_search_and_keyset_pagination(client, uni):
    ids = []
    for i in range(5):
        body = petition_body(subject=f"食堂饭菜价格上涨{i}", category="canteen", content="食堂价格问题")
        ids.append((await client.post("/api/v1/petitions", json=body, headers=uni.petitioner)).json()["id"])
    hot = await client.post(
        "/api/v1/petitions/register",
        json=petition_body(kind="suggestion", channel="letter", subject="建议图书馆延长开放时间", content="期末周"),
        headers=uni.officer,
    )
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "category": "canteen", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/petitions", params=params, headers=uni.officer)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    found = (await client.get("/api/v1/petitions", params={"q": "图书馆"}, headers=uni.officer)).json()["items"]
    assert [p["id"] for p in found] == [hot.json()["id"]]
    assert (await client.get("/api/v1/petitions", params={"q": "饭菜价格"}, headers=uni.officer)).json()["items"]
    assert not (await client.get("/api/v1/petitions", params={"q": "菜图"}, headers=uni.officer)).json()["items"]
    one_char = (await client.get("/api/v1/petitions", params={"q": "馆"}, headers=uni.officer)).json()["items"]
    assert [p["id"] for p in one_char] == [hot.json()["id"]]
    by_channel = (await client.get("/api/v1/petitions", params={"channel": "letter"}, headers=uni.officer)).json()
    assert [p["id"] for p in by_channel["items"]] == [hot.json()["id"]]
    kinds = (await client.get("/api/v1/petitions", params={"kind": "suggestion"}, headers=uni.officer)).json()
    assert len(kinds["items"]) == 1
    overdue = await client.get("/api/v1/petitions", params={"overdue": "true"}, headers=uni.officer)
    assert overdue.json()["items"] == []

    # The filter's days are the university's (Asia/Shanghai): the local dates of the first and the last instant,
    # not their UTC dates (a UTC date read after 16:00 UTC is the day before).
    async def local_day(pid: str) -> str:
        received = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()["received_at"]
        return datetime.fromisoformat(received).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()

    first, last = await local_day(ids[0]), await local_day(ids[-1])
    dated = await client.get(
        "/api/v1/petitions", params={"received_from": first, "received_to": last, "limit": 200}, headers=uni.officer
    )
    assert len(dated.json()["items"]) >= 5
    # the filters' values are the documented enums: another is refused like any value outside the schema
    bad = await client.get("/api/v1/petitions", params={"kind": "threat", "channel": "pigeon"}, headers=uni.officer)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert {e["key"] for e in bad.json()["errors"]} == {"kind", "channel"}
    assert (await client.get("/api/v1/petitions", headers=uni.petitioner)).status_code == 403


async def test_category_admin(client, uni):
    unknown = await client.post(
        "/api/v1/petition-categories",
        json={"code": "nowhere", "name_zh": "无", "name_en": "Nowhere", "default_org_unit_id": str(uuid.uuid4())},
        headers=uni.admin,
    )
    assert unknown.status_code == 422  # the unit must exist in this university's chart
    unit = uni.unit_b
    r = await client.post(
        "/api/v1/petition-categories",
        json={"code": "library", "name_zh": "图书馆", "name_en": "Library", "default_org_unit_id": unit},
        headers=uni.admin,
    )
    assert r.status_code == 201, r.text
    dup = await client.post(
        "/api/v1/petition-categories", json={"code": "library", "name_zh": "x", "name_en": "x"}, headers=uni.admin
    )
    assert dup.status_code == 409
    assert (
        await client.post(
            "/api/v1/petition-categories", json={"code": "x", "name_zh": "x", "name_en": "x"}, headers=uni.officer
        )
    ).status_code == 403
    off = await client.patch("/api/v1/petition-categories/library", json={"active": False}, headers=uni.admin)
    assert off.status_code == 200 and off.json()["active"] is False
    public = await client.get(f"/api/v1/t/{uni.slug}/categories")
    assert "library" not in [c["code"] for c in public.json()]
    refused = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(category="library"))
    assert refused.status_code == 422
    events = [e["type"] for e in await journal_of(client, uni) if e["type"].startswith("petition_category")]
    assert events.count("petition_category.updated") == 1


async def test_settings(client, uni):
    r = await client.put(
        "/api/v1/petition-settings",
        json={"followup_days": 14, "holidays": ["2026-10-01"], "workdays": ["2026-10-10"], "reminder_hours": [48]},
        headers=uni.admin,
    )
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()["followup_days"] == 14
    bad = await client.put("/api/v1/petition-settings", json={"reminder_hours": [0]}, headers=uni.admin)
    assert bad.status_code == 422


async def test_petitioner_sees_only_own_petitions(client, uni):
    from tests.support.people import make_account

    mine = (await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)).json()["id"]
    other, _ = await make_account(client, uni.tenant, "petitioner")
    theirs = (await client.post("/api/v1/petitions", json=petition_body(), headers=other)).json()["id"]
    listed = (await client.get("/api/v1/petitions/mine", headers=uni.petitioner)).json()["items"]
    assert [p["id"] for p in listed] == [mine]
    assert theirs not in [p["id"] for p in listed]
