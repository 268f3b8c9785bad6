"""The student's pages: submit once per form (a double tap makes one petition), save the tracking number and
the lookup code, check the status (the reply, the reason of a non-acceptance), rate, ask for a review."""

from __future__ import annotations

import re
from typing import Any

from tests.support.casework import University
from tests.support.forms import Browser


def field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, html[:3000]
    return found.group(1)


FORM = {
    "kind": "complaint",
    "category": "dormitory",
    "subject": "宿舍楼热水不足",
    "content": "三号楼每晚十点后没有热水。",
    "signed": "named",
    "name": "李同学",
    "phone": "13800001111",
}


async def _submit(b: Browser, uni: University, **changes: str) -> tuple[str, str]:
    await b.get(f"/t/{uni.slug}/")
    r = await b.post(
        f"/t/{uni.slug}/petitions", {**FORM, **changes, "idempotency_key": field(b.last.text, "idempotency_key")}
    )
    assert r.status_code == 201, r.text
    return re.search(r'id="tracking-number">([^<]+)<', r.text).group(1), re.search(
        r'id="lookup-code">([^<]+)<', r.text
    ).group(1)


async def _act(client: Any, uni: University, pid: str, **body: Any) -> None:
    version = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()["version"]
    r = await client.post(f"/api/v1/petitions/{pid}/actions", json={"version": version, **body}, headers=uni.officer)
    assert r.status_code in (200, 201), r.text


async def _id_of(client: Any, uni: University, number: str) -> str:
    r = await client.get("/api/v1/petitions", params={"q": None, "limit": 200}, headers=uni.officer)
    return next(p["id"] for p in r.json()["items"] if p["tracking_number"] == number)


async def test_the_form_lists_the_categories_in_chinese_and_english(web, uni):
    b: Browser = web()
    r = await b.get(f"/t/{uni.slug}/")
    assert r.status_code == 200 and "宿舍" in r.text and "申诉求决类" in r.text
    r = await b.get(f"/t/{uni.slug}/?lang=en")
    assert "Dormitory" in r.text and "Complaint" in r.text and 'name="viewport"' in r.text


async def test_a_double_tap_makes_one_petition_and_shows_the_same_codes(web, client, uni):
    b: Browser = web()
    await b.get(f"/t/{uni.slug}/")
    token, key = b.token(), field(b.last.text, "idempotency_key")
    body = {**FORM, "_csrf_token": token, "idempotency_key": key}
    first = await b.client.post(f"/t/{uni.slug}/petitions", data=body)
    second = await b.client.post(f"/t/{uni.slug}/petitions", data=body)
    assert first.status_code == second.status_code == 201
    number = re.search(r'id="tracking-number">([^<]+)<', first.text).group(1)
    assert number in second.text and "只显示这一次" in first.text
    r = await client.get("/api/v1/petitions", params={"limit": 200}, headers=uni.officer)
    assert [p["tracking_number"] for p in r.json()["items"]].count(number) == 1
    assert len(r.json()["items"]) == 1


async def test_bad_input_is_the_form_again_never_a_500(web, uni):
    b: Browser = web()
    await b.get(f"/t/{uni.slug}/")
    key = field(b.last.text, "idempotency_key")
    r = await b.post(f"/t/{uni.slug}/petitions", {**FORM, "subject": "", "idempotency_key": key})
    assert r.status_code == 400 and "请补充" in r.text
    await b.get(f"/t/{uni.slug}/")
    r = await b.post(f"/t/{uni.slug}/petitions", {**FORM, "category": "no-such", "idempotency_key": key})
    assert r.status_code == 422
    r = await web().get("/t/no-such-university/")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_status_reply_rating_and_review(web, client, uni):
    b: Browser = web()
    number, code = await _submit(b, uni)
    r = await b.post(f"/t/{uni.slug}/status", {"tracking_number": number, "lookup_code": code, "saved": "yes"})
    assert r.status_code == 200 and "已收到" in r.text
    wrong = await b.post(f"/t/{uni.slug}/status", {"tracking_number": number, "lookup_code": "WRONG-CODE"})
    assert wrong.status_code == 404 and "没有找到" in wrong.text
    pid = await _id_of(client, uni, number)
    await _act(client, uni, pid, action="accept")
    await _act(client, uni, pid, action="assign", org_unit_id=uni.unit_a)
    await _act(client, uni, pid, action="start")
    await _act(client, uni, pid, action="reply", outcome="supported", opinion="已维修热水系统，今起恢复供应。")
    await b.get(f"/t/{uni.slug}/status")
    r = await b.post(f"/t/{uni.slug}/status", {"tracking_number": number, "lookup_code": code})
    assert "已答复" in r.text and "已维修热水系统" in r.text and 'action="/t/' in r.text
    assert f'action="/t/{uni.slug}/rating"' in r.text and f'action="/t/{uni.slug}/review"' in r.text
    r = await b.post(f"/t/{uni.slug}/rating", {"tracking_number": number, "lookup_code": code, "rating": "nope"})
    assert r.status_code == 422
    r = await b.post(
        f"/t/{uni.slug}/rating", {"tracking_number": number, "lookup_code": code, "rating": "basically_satisfied"}
    )
    assert r.status_code == 200 and "感谢您的评价" in r.text and "基本满意" in r.text
    assert f'action="/t/{uni.slug}/rating"' not in r.text  # rated once per outcome
    r = await b.post(f"/t/{uni.slug}/review", {"tracking_number": number, "lookup_code": code})
    assert r.status_code == 200 and "复查中" in r.text and "已提交复查申请" in r.text
    # Asking again is refused on the page, not with an error.
    r = await b.post(f"/t/{uni.slug}/review", {"tracking_number": number, "lookup_code": code})
    assert r.status_code == 409 and "复查中" in r.text


async def test_the_reason_of_a_non_acceptance_is_shown_to_the_petitioner(web, client, uni):
    b: Browser = web()
    number, code = await _submit(b, uni, signed="anonymous")
    pid = await _id_of(client, uni, number)
    await _act(client, uni, pid, action="not_accept", reason="不属于本校信访受理范围，请向属地公安机关反映。")
    r = await b.post(f"/t/{uni.slug}/status", {"tracking_number": number, "lookup_code": code})
    assert "不予受理" in r.text and "请向属地公安机关反映" in r.text


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_an_attachment_is_stored_with_the_petition_and_checked_by_content(web, client, uni):
    b: Browser = web()
    await b.get(f"/t/{uni.slug}/")
    key = field(b.last.text, "idempotency_key")
    body = {**FORM, "idempotency_key": key}
    r = await b.post(f"/t/{uni.slug}/petitions", body, files={"attachment": ("photo.png", PNG, "image/png")})
    assert r.status_code == 201 and "附件已上传" in r.text
    # The second tap replays the answer and stores nothing more.
    r = await b.post(f"/t/{uni.slug}/petitions", body, files={"attachment": ("photo.png", PNG, "image/png")})
    assert r.status_code == 201 and "附件已上传" not in r.text
    number = re.search(r'id="tracking-number">([^<]+)<', r.text).group(1)
    pid = await _id_of(client, uni, number)
    files = (await client.get(f"/api/v1/petitions/{pid}/attachments", headers=uni.officer)).json()
    assert [f["media_type"] for f in files] == ["image/png"]

    await b.get(f"/t/{uni.slug}/")
    key = field(b.last.text, "idempotency_key")
    r = await b.post(
        f"/t/{uni.slug}/petitions",
        {**FORM, "idempotency_key": key},
        files={"attachment": ("evil.html", b"<script>alert(1)</script>", "image/png")},
    )
    assert r.status_code == 201 and "附件未能保存" in r.text
    number = re.search(r'id="tracking-number">([^<]+)<', r.text).group(1)
    pid = await _id_of(client, uni, number)
    assert (await client.get(f"/api/v1/petitions/{pid}/attachments", headers=uni.officer)).json() == []


async def test_a_member_of_staff_signed_in_elsewhere_uses_the_student_pages_as_anyone(web, client, uni, make_tenant):
    other = await make_tenant()
    b: Browser = web()
    assert (await b.sign_in(other.slug, other.admin_email, other.admin_password)).status_code == 303
    r = await b.get(f"/t/{uni.slug}/")
    assert r.status_code == 200 and "宿舍" in r.text
    number, _ = await _submit(b, uni)
    r = await client.get("/api/v1/petitions", params={"limit": 200}, headers=uni.officer)
    [listed] = [p for p in r.json()["items"] if p["tracking_number"] == number]
    mine = await client.get(f"/api/v1/petitions/{listed['id']}", headers=uni.officer)
    assert mine.json()["petitioner"]["account_id"] is None  # anonymous intake, not the signed-in account's


def _local(iso: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


async def test_the_status_page_shows_the_deadlines_owed_now_in_local_time_and_an_extensions_reason(web, client, uni):
    b: Browser = web()
    number, code = await _submit(b, uni)
    pid = await _id_of(client, uni, number)

    async def status() -> str:
        await b.get(f"/t/{uni.slug}/status")
        r = await b.post(f"/t/{uni.slug}/status", {"tracking_number": number, "lookup_code": code})
        assert r.status_code == 200
        return r.text

    async def deadlines() -> dict[str, Any]:
        return (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()["deadlines"]

    # Waiting to be accepted: the acceptance deadline (art. 23), as the university's local time, never raw UTC.
    page = await status()
    assert f'id="due-accept">{_local((await deadlines())["accept_due"])}<' in page, page[-2500:]
    assert 'id="due-conclude"' not in page
    await _act(client, uni, pid, action="accept")
    await _act(client, uni, pid, action="assign", org_unit_id=uni.unit_a)
    page = await status()
    assert 'id="due-accept"' not in page
    assert f'id="due-conclude">{_local((await deadlines())["conclude_due"])}<' in page
    await _act(client, uni, pid, action="start")
    await _act(client, uni, pid, action="extend", days=20, reason="需要现场勘查并协调维修单位")
    page = await status()
    # The extended deadline, and the extension's reason, which the petitioner is told (art. 34).
    assert f'id="due-conclude">{_local((await deadlines())["conclude_due"])}<' in page
    assert "延长 20 天: 需要现场勘查并协调维修单位" in page
    await _act(client, uni, pid, action="reply", outcome="explained", opinion="已协调维修，本月底完成。")
    page = await status()
    assert 'id="due-conclude"' not in page and "已协调维修" in page
    assert f'id="due-review_window">{_local((await deadlines())["review_window_until"])}<' in page


PLACES = [
    {"code": "canteen-2", "name_zh": "第二食堂", "name_en": "Canteen 2", "lat": 23.1291, "long": 113.2644},
    {"code": "gate-east", "name_zh": "东门", "name_en": "East gate", "lat": 23.1301, "long": 113.2701},
]


async def test_a_campus_place_picked_on_the_phone_stands_for_a_map_pin(web, client, uni):
    # The admin sets the places (in the order shown); duplicates are refused, naming the second.
    r = await client.put("/api/v1/petition-settings", json={"places": [PLACES[0], PLACES[0]]}, headers=uni.admin)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/places/1/code", r.text
    r = await client.put("/api/v1/petition-settings", json={"places": PLACES[::-1]}, headers=uni.admin)
    assert r.status_code == 200 and [p["code"] for p in r.json()["places"]] == ["gate-east", "canteen-2"], r.text
    await client.put("/api/v1/petition-settings", json={"places": PLACES}, headers=uni.admin)
    # Public, for mobile apps too.
    listed = (await client.get(f"/api/v1/t/{uni.slug}/places")).json()
    assert [(p["code"], p["name_en"]) for p in listed] == [("canteen-2", "Canteen 2"), ("gate-east", "East gate")]

    b: Browser = web()
    page = await b.get(f"/t/{uni.slug}/?lang=en")
    assert 'name="place"' in page.text and "East gate" in page.text
    number, _ = await _submit(b, uni, place="canteen-2", location_text="二楼窗口")
    pid = await _id_of(client, uni, number)
    petition = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert petition["location_text"] == "第二食堂（二楼窗口）"
    assert (petition["lat"], petition["long"]) == (23.1291, 113.2644)
    # A code the university does not have is a bad field: nothing is written.
    await b.get(f"/t/{uni.slug}/")
    r = await b.post(
        f"/t/{uni.slug}/petitions",
        {**FORM, "place": "nowhere", "idempotency_key": field(b.last.text, "idempotency_key")},
    )
    assert r.status_code == 400
