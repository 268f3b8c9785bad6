"""Rules found when the command flow was tried by hand (issue 15), through the API:

- four eyes on bulletins: the approver is never the author (409 ``four-eyes``, nothing changed);
- the org unit that owns a summary's action item marks it done (beside the handling group); others still 403;
- the summary report prints every label in words, in zh-CN and en, times in the university's zone.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from tests.support.emergency import Driver, University
from tests.support.problems import assert_problem

BULLETIN = {
    "audience": "campus",
    "title_zh": "情况通报",
    "title_en": "Bulletin",
    "body_zh": "正在处置。",
    "body_en": "Being handled.",
}


async def responding(client: Any, uni: University) -> Driver:
    d = Driver(client, uni)
    await d.report()
    await d.assess()
    await d.instruct()
    return d


async def test_a_bulletin_is_never_approved_by_its_author(client: Any, uni: University):
    d = await responding(client, uni)
    own = await d.post("info_leader", "/bulletins", BULLETIN)
    r = await client.post(
        f"/api/v1/incidents/{d.id}/bulletins/{own['id']}/approve", json={"version": 1}, headers=d.h("info_leader")
    )
    problem = assert_problem(r, 409, "four-eyes")
    assert problem["state"] == "draft"
    shown = {b["id"]: b for b in (await d.get())["bulletins"]}
    assert shown[own["id"]]["state"] == "draft" and shown[own["id"]]["version"] == 1
    # Someone else's draft: the same leader approves it, and its author may publish it.
    other = await d.bulletin(approve=True, publish=True)
    assert other["state"] == "published"
    # Only bulletins' own states move: the refused approval wrote no journal event.
    r = await client.get(f"/api/v1/incidents/{d.id}/timeline", headers=d.h("admin"))
    approved = [e for e in r.json() if e["type"] == "bulletin.approved"]
    assert [e["subject_id"] for e in approved] == [other["id"]]


async def closed(client: Any, uni: University) -> tuple[Driver, dict[str, Any]]:
    d = await responding(client, uni)
    water = await d.post("hand_member", "/logistics", {"category": "water", "quantity": 5})
    await d.post(
        "logi_member", f"/logistics/{water['id']}/fulfil", {"version": 1, "item_id": uni.items["LOG-WATER"]}, 200
    )
    medical = await d.post("hand_member", "/logistics", {"category": "medical", "quantity": 5})
    await d.post(
        "logi_member", f"/logistics/{medical['id']}/fulfil", {"version": 1, "item_id": uni.items["MED-KIT"]}, 200
    )
    await d.post("hand_member", "/measures", {"kind": "order", "count": 4, "notes": "派出保卫人员"})
    await d.bulletin()
    await d.end_response()
    await d.tick_all()
    await d.submit()
    await d.action("lead_leader", "return_summary")
    await d.submit()
    inc = await d.approve()
    return d, inc


async def test_the_unit_that_owns_an_action_item_marks_it_done(client: Any, uni: University):
    d, inc = await closed(client, uni)
    item = inc["action_items"][0]
    assert item["owner_unit_id"] == uni.units["HQGLC"]  # logi_member's office, not the handling group
    path = f"/action-items/{item['id']}/complete"
    r = await client.post(f"/api/v1/incidents/{d.id}{path}", json={}, headers=d.h("outsider"))
    assert_problem(r, 403, "not-in-group")  # another unit's staff
    done = await d.post("logi_member", path, {}, 200)
    assert done["done_at"]
    r = await client.post(f"/api/v1/incidents/{d.id}{path}", json={}, headers=d.h("logi_member"))
    assert_problem(r, 409, "done")
    r = await client.get(f"/api/v1/incidents/{d.id}/timeline", headers=d.h("admin"))
    completed = [e for e in r.json() if e["type"] == "action_item.completed"]
    assert [(e["actor_id"], e["subject_id"]) for e in completed] == [(uni.account_ids["logi_member"], item["id"])]


async def test_an_owner_unit_still_waits_for_the_incident_to_close(client: Any, uni: University):
    """Before the summary's approval there is no action item: the owner unit's people are outsiders (403)."""
    d = await responding(client, uni)
    r = await client.post(
        f"/api/v1/incidents/{d.id}/action-items/01a23bbd-156a-7ff7-9b67-1fd4113faaf2/complete",
        json={},
        headers=d.h("logi_member"),
    )
    assert_problem(r, 403)


def _text(pdf: bytes) -> str:
    return "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


RAW = (
    "material.issued",
    "incident.summary_returned",
    "action_item.created",
    "action_item.completed",
    "step=",
    "level=",
    "medical",
    "water",
    "(update)",
    "(initial)",
)


async def test_the_summary_report_prints_words_not_keys(client: Any, uni: University):
    d, inc = await closed(client, uni)
    await d.post("logi_member", f"/action-items/{inc['action_items'][0]['id']}/complete", {}, 200)

    async def report(lang: str, fmt: str) -> str:
        r = await client.get(
            f"/api/v1/incidents/{d.id}/summary", params={"lang": lang, "format": fmt}, headers=d.h("admin")
        )
        assert r.status_code == 200, r.text
        return _text(r.content) if fmt == "pdf" else "".join(r.text.split())

    reported = datetime.fromisoformat(inc["reported_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    local = reported.strftime("%Y-%m-%d%H:%M")  # whitespace is dropped from the extracted text
    for fmt in ("pdf", "html"):
        zh = await report("zh-CN", fmt)
        for raw in RAW:
            assert raw not in zh, (fmt, raw)
        for words in (
            "物资出库",
            "总结退回修改",
            "整改事项下达",
            "整改事项完成",
            "步骤：应急响应",
            "类别：饮用水",
            "类别：医疗救助",
            "缺口：3",
            "维持秩序",
            "首次通报",
            "单位HQGLC",
        ):
            assert words in zh, (fmt, words)
        assert local in zh
        en = await report("en", fmt)
        for raw in RAW[:6]:
            assert raw not in en, (fmt, raw)
        for words in ("stockissued", "summaryreturned", "step:Response", "category:Drinkingwater", "Medicalaid"):
            assert words in en, (fmt, words)
        assert "单位" not in en and local in en
