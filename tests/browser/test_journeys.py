"""Whole journeys across roles in a real browser (Debian's chromium), each role in its own browser context.

1. A student on a phone submits (a double tap makes one petition), the office accepts and assigns, the unit's
   staff replies, the student sees the reply and rates it, then asks for a review.
3. Staff of an unrelated unit never see the petition: not in the queue, not in a search, and by URL a 404.

axe-core runs on every page visited: no serious or critical violation.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, Playwright, expect

from tests.browser.conftest import SCREENSHOTS, Campus

AXE = Axe()
PHONE = "Pixel 7"


async def check(page: Page, shot: str | None = None) -> None:
    """axe on the page as it stands (no serious or critical violation), and a screenshot when named."""
    results = await AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad)
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def console_sign_in(browser: Browser, campus: Campus, who: tuple[str, str], shot: str | None = None) -> Page:
    """A browser context of its own, signed in to the console; an issued password is changed on the way."""
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await page.goto(f"{campus.url}/console/login")
    await check(page, shot)
    await page.fill("#tenant", campus.slug)
    await page.fill("#email", who[0])
    await page.fill("#password", who[1])
    await page.get_by_role("button", name="登录", exact=True).click()
    if "/console/password" in page.url:
        await check(page)
        await page.fill("#current_password", who[1])
        await page.fill("#new_password", who[1] + "-mine")
        await page.get_by_role("button", name="保存新密码").click()
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    await check(page)
    return page


def petitions_of(campus: Campus) -> list[dict[str, Any]]:
    r = campus.api("GET", "/api/v1/petitions", params={"limit": 200})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_journey_1_submit_accept_assign_reply_rate_review(
    browser: Browser, playwright: Playwright, campus: Campus
):
    # The student, on a phone.
    student = await (await browser.new_context(**playwright.devices[PHONE], locale="zh-CN")).new_page()
    await student.goto(f"{campus.url}/t/{campus.slug}/")
    await check(student, "student-submit")
    await student.select_option("#category", "dormitory")
    await student.fill("#subject", "三号宿舍楼热水供应不足")
    await student.fill("#content", "近两周每晚十点后没有热水，多次报修未解决，请尽快处理。")
    await student.fill("#location_text", "三号宿舍楼")
    await student.get_by_label("实名信访").check()
    await student.fill("#name", "李同学")
    await student.fill("#phone", "13800001111")
    # A double tap on the submit button. Chromium coalesces the two submissions of one tap burst, so the second
    # request a slower phone sends is replayed below exactly as the browser sent the first (same form, same
    # Idempotency-Key, same cookies).
    sent: list[Any] = []
    student.on("request", lambda req: sent.append(req) if req.method == "POST" else None)
    await student.get_by_role("button", name="提交信访").dblclick()
    await expect(student.get_by_role("heading", name="信访已提交，请保存以下信息")).to_be_visible()
    await check(student, "student-saved")
    number = await student.locator("#tracking-number").inner_text()
    code = await student.locator("#lookup-code").inner_text()
    first = sent[0]
    again = await student.context.request.post(
        first.url, headers={"content-type": first.headers["content-type"]}, data=first.post_data_buffer
    )
    assert again.status == 201 and number in await again.text() and code in await again.text()  # the first answer back
    assert [p["tracking_number"] for p in petitions_of(campus)] == [number]  # one petition
    await student.get_by_label("我已保存受理编号和查询码").check()
    await student.get_by_role("button", name="继续").click()
    await expect(student.locator("#state")).to_have_text("已收到")
    await check(student)

    # The petition office accepts and assigns.
    office = await console_sign_in(browser, campus, campus.officer, "console-login")
    await check(office, "console-queue")
    await office.get_by_role("link", name=number).click()
    await expect(office.get_by_role("heading", name="三号宿舍楼热水供应不足")).to_be_visible()
    await check(office)
    await office.get_by_role("button", name="受理", exact=True).click()
    await expect(office.get_by_role("button", name="交办")).to_be_visible()
    await check(office)
    await office.select_option("#assign-unit", campus.unit_a)
    await office.get_by_role("button", name="交办").click()
    await expect(office.locator(".facts .state")).to_have_text("已交办")

    # The unit's staff starts and replies.
    staff = await console_sign_in(browser, campus, campus.staff_a)
    await staff.get_by_role("link", name=number).click()
    await staff.get_by_role("button", name="开始办理").click()
    await expect(staff.get_by_role("button", name="答复", exact=True)).to_be_visible()
    await check(staff, "console-petition")
    await staff.select_option("#reply-outcome", "supported")
    await staff.fill("#reply-opinion", "已更换三号楼热水泵，自即日起恢复全天供应。")
    await staff.get_by_role("button", name="答复", exact=True).click()
    await expect(staff.locator(".facts .state")).to_have_text("已答复")
    await check(staff)

    # The student sees the reply, rates it, then asks for a review.
    await student.goto(f"{campus.url}/t/{campus.slug}/status")
    await check(student)
    await student.fill("#tracking_number", number)
    await student.fill("#lookup_code", code)
    await student.get_by_role("button", name="查询进度").last.click()
    await expect(student.locator("#opinion")).to_contain_text("已更换三号楼热水泵")
    await check(student, "student-status")
    await student.get_by_label("满意", exact=True).check()
    await student.get_by_role("button", name="评价").click()
    await expect(student.get_by_text("感谢您的评价。")).to_be_visible()
    await check(student)
    await student.get_by_role("button", name="申请复查").click()
    await expect(student.locator("#state")).to_have_text("复查中")
    await check(student)
    [petition] = petitions_of(campus)
    assert petition["state"] == "review_requested"


async def test_journey_3_an_unrelated_unit_never_sees_the_petition(browser: Browser, campus: Campus):
    r = campus.api(
        "POST",
        f"/api/v1/t/{campus.slug}/petitions",
        json={"kind": "complaint", "category": "dormitory", "subject": "宿舍漏水严重", "content": "五号楼顶层漏水。"},
    )
    assert r.status_code == 201, r.text
    p = r.json()
    for body in ({"action": "accept", "version": 1}, {"action": "assign", "version": 2, "org_unit_id": campus.unit_a}):
        assert campus.api("POST", f"/api/v1/petitions/{p['id']}/actions", json=body).status_code == 201

    other = await console_sign_in(browser, campus, campus.staff_b)
    await expect(other.get_by_text(p["tracking_number"])).to_have_count(0)
    await other.fill("#f-q", "漏水")
    await other.get_by_role("button", name="筛选", exact=True).click()
    await expect(other.get_by_text("没有符合条件的信访件。")).to_be_visible()
    await check(other)
    response = await other.goto(f"{campus.url}/console/petitions/{p['id']}")
    assert response is not None and response.status == 404
    await expect(other.get_by_text("页面不存在或您无权查看。")).to_be_visible()
    await check(other)

    # The command pages the navigation offers pass axe too.
    await other.get_by_role("link", name="突发事件").click()
    await expect(other.get_by_role("heading", name="突发事件")).to_be_visible()
    await check(other)
    await other.get_by_role("link", name="预警").click()
    await expect(other.get_by_role("heading", name="未处理的预警")).to_be_visible()
    await check(other)

    # The unit it was assigned to does see it.
    own = await console_sign_in(browser, campus, campus.staff_a)
    await expect(own.get_by_role("link", name=p["tracking_number"])).to_be_visible()
