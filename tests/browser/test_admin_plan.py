"""The tenant admin's plan and webhook pages in a real browser (Debian's chromium).

1. A draft plan is refused with its reasons listed; the admin fixes the sections on the page, publishes, and
   downloads the document (PDF and DOCX, read back as documents); a second draft is compared side by side.
2. A webhook subscribed to a receiver on a free local port that first answers 500, then 200: the failed
   delivery shows in the log, is redelivered and shows as delivered. The delivery itself is what the worker does,
   run in-process as the webhook integration tests run it (``tests.support.webhooks.drive``, ``dispatch``).

axe-core on every page visited; screenshots to ``.xinfang/screenshots/``.
"""

from __future__ import annotations

import copy
import io
import json
import uuid
from typing import Any

import msgspec
from axe_playwright_python.async_playwright import Axe
from docx import Document
from playwright.async_api import Browser, Page, expect
from pypdf import PdfReader

from service.webhooks import dispatch
from tests.browser.conftest import SCREENSHOTS
from tests.support.journal import journal_of
from tests.support.plans import draft, fill_groups, provision
from tests.support.platform import TenantHandle, onboard
from tests.support.receiver import Receiver
from tests.support.webhooks import drive

AXE = Axe()


async def check(page: Page, shot: str | None = None) -> None:
    """axe on the page as it stands (no serious or critical violation), and a screenshot when named."""
    results = await AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{page.url}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad)
    if shot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)


async def admin_page(browser: Browser, url: str, tenant: TenantHandle) -> Page:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = await context.new_page()
    await page.goto(f"{url}/console/login")
    await page.fill("#tenant", tenant.slug)
    await page.fill("#email", tenant.admin_email)
    await page.fill("#password", tenant.admin_password)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    return page


async def download(page: Page, link_name: str) -> bytes:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=link_name, exact=True).first.click()
    path = await (await info.value).path()
    return path.read_bytes()


async def test_a_refused_draft_is_fixed_published_and_downloaded(
    browser: Browser, live_server: str, client: Any, db: Any, platform_token: str
):
    tenant = await onboard(client, platform_token)
    await provision(db, tenant)
    await fill_groups(client, tenant)
    body = await draft(client, tenant)
    vid, good = body["version"]["id"], body["content"]
    # Two sections broken through the API: the weights no longer sum to 1, a level names an unknown category.
    broken = copy.deepcopy(good)
    broken["evaluation"][0]["weight"] = 0.3
    broken["severity_levels"][3]["activation"] = {"kind": "any_category", "categories": ["earthquake"]}
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": broken}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text

    page = await admin_page(browser, live_server, tenant)
    await page.get_by_role("link", name="应急预案", exact=True).first.click()
    await expect(page.get_by_role("heading", name="应急预案版本")).to_be_visible()
    await check(page)
    await page.get_by_role("link", name="第1版").click()
    await check(page)
    await page.get_by_role("button", name="发布此版本").click()
    refused = page.locator("#refused")
    await expect(refused).to_contain_text("未能发布")
    await expect(refused).to_contain_text("权重之和为0.95，而非1")
    await expect(refused).to_contain_text("未知的风险类别“earthquake”")
    await expect(page.locator("#plan-status")).to_have_text("草稿")
    await check(page, "console-plan-refused")

    # Fixed section by section on the page.
    await page.fill("#value-evaluation", json.dumps(good["evaluation"], ensure_ascii=False, indent=2))
    await page.locator("#section-evaluation").get_by_role("button", name="保存本部分").click()
    await expect(page.locator("p.notice")).to_contain_text("已保存")
    await expect(page.locator("#problems-evaluation")).to_have_count(0)
    await page.fill("#value-severity_levels", json.dumps(good["severity_levels"], ensure_ascii=False, indent=2))
    await page.locator("#section-severity_levels").get_by_role("button", name="保存本部分").click()
    await expect(page.locator("#open-problems")).to_contain_text("检查通过")
    await check(page)
    await page.get_by_role("button", name="发布此版本").click()
    await expect(page.locator("#plan-status")).to_have_text("已发布（现行）")
    await check(page)

    # The document: a real PDF and a real DOCX.
    pdf = await download(page, "PDF 中文")
    assert pdf[:5] == b"%PDF-"
    assert "领导小组" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    docx = await download(page, "DOCX 英文")
    assert any("Leadership group" in p.text for p in Document(io.BytesIO(docx)).paragraphs)

    # A second draft, one change, and the two versions side by side.
    await page.get_by_role("link", name="返回版本列表").click()
    await page.get_by_role("button", name="新建草稿（以现行版本为底稿）").click()
    await expect(page.locator("#plan-status")).to_have_text("草稿")
    steps = [s | {"target_minutes": 20} if s["key"] == "report" else s for s in good["steps"]]
    await page.fill("#value-steps", json.dumps(steps, ensure_ascii=False, indent=2))
    await page.locator("#section-steps").get_by_role("button", name="保存本部分").click()
    await expect(page.locator("p.notice")).to_contain_text("已保存")
    await page.get_by_role("link", name="返回版本列表").click()
    await page.select_option("#diff-from", label="第1版 · 已发布（现行）")
    await page.get_by_role("button", name="并排比较").click()
    await expect(page.get_by_role("heading", name="第1版与第2版对比")).to_be_visible()
    row = page.locator("#diff-steps tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("td.old")).to_have_text("30")
    await expect(row.locator("td.new")).to_have_text("20")
    await check(page, "console-plan-diff")

    # Readiness and materials read the same plan.
    await page.get_by_role("link", name="准备情况").click()
    await expect(page.get_by_role("heading", name="应急准备情况")).to_be_visible()
    await expect(page.locator("#overdue")).to_contain_text("王建国")
    await check(page, "console-plan-readiness")
    await page.get_by_role("link", name="应急物资", exact=True).click()
    await expect(page.get_by_role("heading", name="应急物资")).to_be_visible()
    await check(page)


async def test_a_failed_webhook_delivery_is_seen_redelivered_and_delivered(
    browser: Browser, live_server: str, client: Any, db: Any, platform_token: str, settings: Any
):
    tenant = await onboard(client, platform_token)
    # No retry series: the first answer (500) fails the delivery at once, as an exhausted series would.
    worker = msgspec.structs.replace(settings, webhook_retry_schedule="")
    receiver = Receiver(script=[(500, {}), (200, {})]).start()
    try:
        page = await admin_page(browser, live_server, tenant)
        await page.goto(f"{live_server}/console/admin/webhooks/")
        await check(page)
        await page.fill("#wh-url", receiver.url)
        await page.fill("#wh-events", "webhook.ping")
        await page.fill("#wh-description", "本地接收端")
        await page.get_by_role("button", name="创建订阅").click()
        await expect(page.get_by_role("heading", name="订阅已创建")).to_be_visible()
        secret = await page.locator("#secret").inner_text()
        assert secret.startswith("whsec_")
        await check(page)
        await page.get_by_role("link", name="返回订阅").click()
        await expect(page.locator("#wh-state")).to_have_text("启用")
        assert secret not in await page.content()
        await page.get_by_role("button", name="发送测试事件（ping）").click()
        await expect(page.locator("#done")).to_contain_text("测试事件已排队投递")

        # What the relay and the worker do with the ping, in-process.
        [ping] = await journal_of(client, tenant, type="webhook.ping")
        await drive(db, worker, tenant.id, uuid.UUID(ping["id"]))
        assert [r.status for r in receiver.received] == [500]
        await page.reload()
        log = page.locator("#deliveries tbody tr")
        await expect(log).to_have_count(1)
        await expect(log.locator(".delivery-status")).to_have_text("失败")
        await expect(log).to_contain_text("500")
        await check(page)

        await log.get_by_role("link").click()
        await expect(page.locator("#delivery-status")).to_have_text("失败")
        await expect(page.locator("#attempts tbody tr")).to_have_count(1)
        await check(page)
        await page.get_by_role("button", name="重新投递").click()
        await expect(page.locator("#delivery-status")).to_have_text("待投递")
        subscription = (await client.get("/api/v1/webhooks/subscriptions", headers=tenant.headers)).json()["items"][0]
        for retry in await dispatch.resume(db, tenant.id, uuid.UUID(subscription["id"])):
            await dispatch.deliver(db, worker, tenant.id, retry.delivery_id, retry.token)
        assert [r.status for r in receiver.received] == [500, 200]
        await page.reload()
        await expect(page.locator("#delivery-status")).to_have_text("已送达")
        attempts = page.locator("#attempts tbody tr")
        await expect(attempts).to_have_count(2)
        await expect(attempts.nth(0).locator(".code-cell")).to_have_text("500")
        await expect(attempts.nth(1).locator(".code-cell")).to_have_text("200")
        await check(page)

        await page.get_by_role("link", name="返回订阅").click()
        await expect(page.locator("#deliveries .delivery-status")).to_have_text("已送达")
        await check(page, "console-webhooks")
    finally:
        receiver.stop()
