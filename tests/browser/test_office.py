"""The petition office in a real browser: registering a visit on behalf of a petitioner, then replying from a
reply template picked on the petition's page. axe-core on every page visited; screenshots of both forms."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import Campus
from tests.browser.test_journeys import check, console_sign_in


async def test_the_office_registers_a_visit_and_the_unit_replies_from_a_template(browser: Browser, campus: Campus):
    office = await console_sign_in(browser, campus, campus.officer)
    await office.get_by_role("link", name="登记来信来访").click()
    await expect(office.get_by_role("heading", name="登记来信来访")).to_be_visible()
    await check(office, "console-register")
    await office.select_option("#channel", "visit")
    await office.select_option("#category", "dormitory")
    await office.fill("#subject", "来访反映宿舍漏水")
    await office.fill("#content", "来访人反映五号宿舍楼顶层漏水，已持续一周。")
    await office.fill("#name", "王五")
    await office.fill("#phone", "13900000000")
    await office.get_by_role("button", name="登记", exact=True).click()
    await expect(office.get_by_role("heading", name="已登记")).to_be_visible()
    await check(office)
    number = await office.locator("#tracking-number").inner_text()
    await office.get_by_role("link", name="查看该信访件").click()
    await expect(office.locator("dl.facts").first).to_contain_text("渠道来访")
    await check(office)

    # The university's template, kept by its admin through the API.
    r = campus.api(
        "POST",
        "/api/v1/reply-templates",
        json={
            "title": "宿舍维修类答复",
            "body": "经核实，后勤处已安排维修，三个工作日内完成。",
            "outcome": "supported",
        },
    )
    assert r.status_code == 201, r.text
    items = campus.api("GET", "/api/v1/petitions", params={"limit": 200}).json()["items"]
    pid = next(p["id"] for p in items if p["tracking_number"] == number)
    for body in ({"action": "accept", "version": 1}, {"action": "assign", "version": 2, "org_unit_id": campus.unit_a}):
        assert campus.api("POST", f"/api/v1/petitions/{pid}/actions", json=body).status_code == 201

    unit = await console_sign_in(browser, campus, campus.staff_a)
    await unit.goto(f"{campus.url}/console/petitions/{pid}")
    await unit.get_by_role("button", name="开始办理").click()
    await expect(unit.get_by_role("heading", name="答复模板")).to_be_visible()
    await unit.select_option("#template", label="宿舍维修类答复 · 支持")
    await unit.get_by_role("button", name="填入").click()
    await expect(unit.locator("#reply-opinion")).to_have_value("经核实，后勤处已安排维修，三个工作日内完成。")
    await check(unit, "console-reply-template")
    await unit.get_by_role("button", name="答复").click()
    await expect(unit.locator("strong.state")).to_have_text("已答复")
    await check(unit)
