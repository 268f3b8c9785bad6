"""Journey 2 in a real browser (Debian's chromium): an incident from report to approved summary by members of the
four emergency groups, each in a browser context of their own — a task declined and reassigned, supplies issued
with a shortfall, a bulletin drafted by one member, approved by the release group's leader (never its author) and
published — while a second browser watching the board sees every change arrive without a reload.

axe-core runs on every board and page visited (no serious or critical violation); screenshots of the board go
to ``.xinfang/screenshots/``.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import SCREENSHOTS
from tests.support.emergency import Driver, University, make_university

AXE = Axe()
LIVE = 15_000  # ms a watching board may take to show a change (it polls every 3 s)


async def check(page: Page, shot: str | None = None) -> None:
    """axe on the page as it stands (no serious or critical violation), and a screenshot when named."""
    results = await AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad)
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def sign_in(browser: Browser, url: str, slug: str, login: tuple[str, str]) -> Page:
    page = await (await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"{url}/console/login")
    await page.fill("#tenant", slug)
    await page.fill("#email", login[0])
    await page.fill("#password", login[1])
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    return page


async def submit(page: Page, button: Locator) -> None:
    """Send a form and wait for the board it comes back to, with the notice that it went through."""
    async with page.expect_navigation():
        await button.click()
    await expect(page.locator("p.notice")).to_have_text("已办理，以下为最新情况。")
    await check(page)


async def open_board(page: Page, url: str, incident_id: str) -> None:
    await page.goto(f"{url}/console/incidents/{incident_id}")
    await check(page)


async def test_journey_2_an_incident_from_report_to_approved_summary(
    browser: Browser, live_server: str, client: Any, db: Any, platform_token: str
):
    uni: University = await make_university(client, db, platform_token)
    url, slug = live_server, uni.slug
    hand = await sign_in(browser, url, slug, uni.logins["hand_member"])  # the handling group
    lead = await sign_in(browser, url, slug, uni.logins["lead_leader"])  # the leadership group's leader
    info = await sign_in(browser, url, slug, uni.logins["info_member"])  # the information release group
    info_lead = await sign_in(browser, url, slug, uni.logins["info_leader"])
    logi = await sign_in(browser, url, slug, uni.logins["logi_member"])  # the logistics group
    watcher = await sign_in(browser, url, slug, (uni.tenant.admin_email, uni.tenant.admin_password))

    # 1. The handling group's member reports the incident from the list.
    await hand.get_by_role("link", name="突发事件").click()
    await check(hand)
    await hand.locator("summary", has_text="报告突发事件").click()
    await hand.fill("#new-title", "学生聚集反映宿舍停水")
    await hand.fill("#new-facts", "约两百名学生聚集在行政楼前，反映三号宿舍楼停水三天。")
    await hand.fill("#new-people", "200")
    await hand.fill("#new-place", "行政楼前广场")
    await hand.get_by_label("群体性事件").check()
    await hand.locator("form[action='/console/incidents/new']").get_by_role("button").click()
    await expect(hand.locator("#incident-state")).to_have_text("已报告")
    await check(hand, "board-reported")
    incident_id = hand.url.split("/console/incidents/")[1].split("?")[0]
    d = Driver(client, uni)
    d.id = incident_id

    # The watcher opens the board once; it is never reloaded (the marker would be gone).
    await open_board(watcher, url, incident_id)
    await watcher.evaluate("window.__watching = 'since the report'")
    await expect(watcher.locator("#incident-state")).to_have_text("已报告")

    # 2. Assessment by the handling group: the plan's suggestion stands beside the decision.
    await expect(hand.locator("#suggested-level")).not_to_have_text("—")
    await hand.fill("#as-cause", "宿舍楼供水管道破裂，维修未及时告知学生")
    await hand.fill("#as-site", "情绪激动但秩序尚可")
    await submit(hand, hand.get_by_role("button", name="提交评估"))
    await expect(watcher.locator("#incident-state")).to_have_text("已研判", timeout=LIVE)

    # 3. The leadership group's leader instructs, and gives the logistics office a task.
    await open_board(lead, url, incident_id)
    await lead.fill("#in-text", "启动预案，各部门按职责处置")
    await submit(lead, lead.get_by_role("button", name="下达指令"))
    await expect(watcher.locator("#incident-state")).to_have_text("处置中", timeout=LIVE)
    await lead.locator("summary", has_text="下达任务").click()
    await lead.select_option("#tk-unit", uni.units["HQGLC"])
    await lead.fill("#tk-duty", "在行政楼前设置饮水点")
    await submit(lead, lead.locator("form:has(#tk-duty)").get_by_role("button", name="下达任务"))
    task = (await d.get())["tasks"][0]
    await expect(watcher.locator(f"#task-{task['id']} .task-state")).to_have_text("已分派", timeout=LIVE)

    # The logistics office declines it (not its remit), with a reason; the leader reassigns it.
    await open_board(logi, url, incident_id)
    card = logi.locator(f"#task-{task['id']}")
    await card.locator("summary", has_text="退回任务").click()
    await card.locator(f"#why-{task['id']}").select_option("needs_other_unit")
    await card.locator(f"#note-{task['id']}").fill("饮水点由学生处安排")
    await submit(logi, card.get_by_role("button", name="退回任务"))
    await expect(watcher.locator(f"#task-{task['id']} .task-state")).to_have_text("已退回", timeout=LIVE)
    await open_board(lead, url, incident_id)
    card = lead.locator(f"#task-{task['id']}")
    await expect(card).to_contain_text("需其他单位办理")
    await card.locator(f"#to-{task['id']}").select_option(uni.units["XSC"])
    await submit(lead, card.get_by_role("button", name="改派"))
    new = next(t for t in (await d.get())["tasks"] if t["id"] != task["id"])
    await expect(watcher.locator(f"#task-{new['id']} .task-state")).to_have_text("已分派", timeout=LIVE)

    # The student affairs office (the handling member's) acknowledges and completes it; My tasks lists it first.
    await hand.get_by_role("link", name="我的任务").click()
    await expect(hand.get_by_role("link", name="在行政楼前设置饮水点")).to_be_visible()
    await check(hand, "my-tasks")
    await hand.get_by_role("link", name="在行政楼前设置饮水点").click()
    card = hand.locator(f"#task-{new['id']}")
    await submit(hand, card.get_by_role("button", name="确认接收"))
    card = hand.locator(f"#task-{new['id']}")
    await card.locator(f"#done-{new['id']}").fill("饮水点已设置")
    await submit(hand, card.get_by_role("button", name="完成任务"))
    await expect(watcher.locator(f"#task-{new['id']} .task-state")).to_have_text("已完成", timeout=LIVE)

    # 4-5. A measure; first-aid kits requested by the handling group, issued by logistics: the shortfall shows.
    await hand.locator("summary", has_text="记录处置措施").click()
    await hand.select_option("#me-kind", "keeping_order")
    await hand.fill("#me-count", "6")
    await hand.fill("#me-notes", "保卫处派出六名人员维持秩序")
    await submit(hand, hand.locator("form:has(#me-notes)").get_by_role("button", name="记录处置措施"))
    await hand.locator("summary", has_text="申请后勤保障").click()
    await hand.select_option("#lg-cat", "medical")
    await hand.fill("#lg-qty", "5")
    await submit(hand, hand.locator("form:has(#lg-qty)").get_by_role("button", name="申请后勤保障"))
    request = (await d.get())["logistics"][0]
    await open_board(logi, url, incident_id)
    await expect(logi.locator(f"#req-{request['id']}")).to_contain_text("缺口 3")
    await logi.select_option(f"#it-{request['id']}", uni.items["MED-KIT"])
    await submit(logi, logi.locator(f"#req-{request['id']}").get_by_role("button", name="发放"))
    await expect(watcher.locator(f"#req-{request['id']}")).to_contain_text("不足", timeout=LIVE)

    # 6. A bulletin: drafted by a member, approved by the group's leader (not its author), published.
    await open_board(info, url, incident_id)
    await info.locator("summary", has_text="起草通报").click()
    await info.fill("#bl-tzh", "关于三号宿舍楼停水的情况通报")
    await info.fill("#bl-ten", "Water outage in Dormitory 3")
    await info.fill("#bl-bzh", "学校已组织抢修，预计今晚恢复供水。")
    await info.fill("#bl-ben", "Repairs are under way; water is expected back tonight.")
    await submit(info, info.locator("form:has(#bl-tzh)").get_by_role("button", name="起草通报"))
    bulletin = (await d.get())["bulletins"][0]
    await expect(info.get_by_role("button", name="审核通过")).to_have_count(0)  # a member does not approve
    await open_board(info_lead, url, incident_id)
    await submit(info_lead, info_lead.locator(f"#bulletin-{bulletin['id']}").get_by_role("button", name="审核通过"))
    await expect(watcher.locator(f"#bulletin-{bulletin['id']} .bulletin-state")).to_have_text("已审核", timeout=LIVE)
    await open_board(info, url, incident_id)
    await submit(info, info.locator(f"#bulletin-{bulletin['id']}").get_by_role("button", name="发布"))
    await expect(watcher.locator(f"#bulletin-{bulletin['id']} .bulletin-state")).to_have_text("已发布", timeout=LIVE)
    await check(watcher, "board-responding")

    # 7. Cleanup and summary by the handling group; the leadership's leader approves.
    await open_board(hand, url, incident_id)
    await submit(hand, hand.get_by_role("button", name="结束现场处置"))
    await expect(watcher.locator("#incident-state")).to_have_text("善后中", timeout=LIVE)
    for box in await hand.locator("section[aria-labelledby=cleanup] input[type=checkbox]").all():
        await box.check()
    await submit(hand, hand.get_by_role("button", name="保存清理事项"))
    await hand.fill("#su-cause", "供水管道老化，停水信息未及时告知学生。")
    await hand.fill("#su-p0", "更换三号楼供水管道")
    await hand.select_option("#su-o0", uni.units["HQGLC"])
    await hand.fill("#su-d0", "2027-03-01")
    await submit(hand, hand.locator("form:has(#su-cause)").get_by_role("button", name="提交总结报告"))
    await expect(watcher.locator("#incident-state")).to_have_text("总结审核中", timeout=LIVE)
    await open_board(lead, url, incident_id)
    await submit(lead, lead.get_by_role("button", name="批准总结"))
    await expect(watcher.locator("#incident-state")).to_have_text("已结束", timeout=LIVE)
    await expect(watcher.locator("section[aria-labelledby=timeline]")).to_contain_text(
        "领导小组已批准总结报告", timeout=LIVE
    )
    await expect(watcher.locator("#board-status")).to_contain_text("看板已更新")

    # The watcher saw it all without a reload.
    assert await watcher.evaluate("window.__watching") == "since the report"
    await check(watcher, "board-closed")
    inc = await d.get()
    assert inc["state"] == "closed" and len(inc["action_items"]) == 1
    assert [b["state"] for b in inc["bulletins"]] == ["published"]
    assert sorted(t["state"] for t in inc["tasks"]) == ["declined", "done"]

    # The board in English, on a phone-sized window.
    await watcher.set_viewport_size({"width": 412, "height": 915})
    await watcher.goto(f"{url}/console/incidents/{incident_id}?lang=en")
    await expect(watcher.locator("#incident-state")).to_have_text("Closed")
    await check(watcher, "board-closed-en-phone")


async def test_a_board_with_unsent_input_is_not_swapped_under_the_typist(
    browser: Browser, live_server: str, client: Any, db: Any, platform_token: str
):
    """While a member types into a form, another member's action does not replace the board (nothing typed is
    lost): a notice says the board changed, with a link to reload it."""
    uni: University = await make_university(client, db, platform_token)
    d = Driver(client, uni)
    await d.report()
    hand = await sign_in(browser, live_server, uni.slug, uni.logins["hand_member"])
    await open_board(hand, live_server, d.id)
    await hand.evaluate("window.__typing = 'yes'")
    await hand.fill("#as-cause", "正在填写的原因")
    await d.assess("hand_member")  # the same group acts through the API meanwhile
    await expect(hand.locator("#board-status")).to_contain_text("其他成员已更新看板", timeout=LIVE)
    await expect(hand.locator("#as-cause")).to_have_value("正在填写的原因")
    await expect(hand.locator("#incident-state")).to_have_text("已报告")  # not swapped
    assert await hand.evaluate("window.__typing") == "yes"
    await check(hand, "board-unsent-input")
    # Sending the stale form answers the current board and a message, not an error page.
    await hand.fill("#as-site", "有序")
    async with hand.expect_navigation():
        await hand.get_by_role("button", name="提交评估").click()
    await expect(hand.locator("p.error")).to_contain_text("当前状态已不允许此操作")
    await expect(hand.locator("#incident-state")).to_have_text("已研判")
    await check(hand)
