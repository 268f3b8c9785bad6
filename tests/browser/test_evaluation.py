"""Evaluation in a real browser, on generated history (the synthetic generator: a year of petitions and incidents
up to 1 October 2026, through the workflow table) in three universities of Fujian and a fourth with a few dozen
petitions in the year: a leader opens last quarter's report (2026 Q3), sees its charts with their tables and
downloads the PDF, which carries the charts; a bureau viewer signs in without a university code, compares the
universities and sees the small figures marked suppressed, with the legend saying why. axe-core on every page;
the report page and the bureau's page are the screenshots ``console-report`` and ``console-bureau``."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pypdf
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.test_journeys import check

PROVINCE = "350000"  # Fujian: no other test onboards a university there
PASSWORD = "a-long-password-1"
QUARTERS = [dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1)]


@dataclass
class History:
    slug: str
    leader: tuple[str, str]
    names: list[str]  # the universities' Chinese names, the small one last


@pytest.fixture(scope="module")
async def history(db: Any, settings: Any, database_url: str) -> History:
    from analytics.forecasts import store as forecasts
    from analytics.province import jobs as province_jobs
    from analytics.reports import store
    from service.ops.synthetic.generate import Spec, generate
    from tenants import identity, tenancy
    from tenants.identity import Role

    tag = uuid.uuid4().hex[:6]
    big = await generate(
        db,
        Spec(tenants=3, petitions=900, incidents=3, seed=17, until=dt.date(2026, 10, 1), prefix=f"ev{tag}"),
        data_key=settings.data_key_bytes,
    )
    small = await generate(
        db,
        Spec(tenants=1, petitions=24, incidents=0, seed=18, until=dt.date(2026, 10, 1), prefix=f"es{tag}"),
        data_key=settings.data_key_bytes,
    )
    loaded = [*big.universities, *small.universities]
    ids = [u.tenant_id for u in loaded]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("update tenants set province_code = %s where id = any(%s)", (PROVINCE, ids))
        # The small one is generated as the first of its run, so named as the first of the other: a name of its own.
        conn.execute(
            "update tenants set name_zh = '闽江小学院', name_en = 'Minjiang Small College' where id = %s", (ids[-1],)
        )
    await province_jobs.fold_all(db, ids)
    # The forecasts of 2026 Q4, as the daily job computes them the day after the history ends (the three large
    # universities: statsforecast's AutoETS refuses the small one's sparse months, "tiny datasets").
    for tenant_id in ids[:3]:
        await forecasts.refresh(db, tenant_id, now=dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
    first = loaded[0].tenant_id
    for start in QUARTERS:
        async with db.transaction(first) as session:
            await store.generate(session, "quarterly", start)
    names = []
    for u in loaded:
        async with db.transaction(u.tenant_id) as session:
            tenant = await session.get(tenancy.Tenant, u.tenant_id)
            assert tenant is not None
            names.append(tenant.name_zh)
    # The university's leadership: a tenant admin with a password of its own.
    email = f"leader-{tag}@{loaded[0].slug}.edu.cn"
    async with db.transaction(first) as session:
        await identity.create_account(
            session,
            email=email,
            password=PASSWORD,
            role=Role.tenant_admin,
            display_name="校领导",
            actor_id=None,
            must_change_password=False,
        )
    return History(loaded[0].slug, (email, PASSWORD), names)


async def _sign_in(browser: Browser, url: str, slug: str, who: tuple[str, str]) -> Page:
    page = await (await browser.new_context(locale="zh-CN", accept_downloads=True)).new_page()
    await page.goto(f"{url}/console/login")
    await check(page)
    await page.fill("#tenant", slug)
    await page.fill("#email", who[0])
    await page.fill("#password", who[1])
    await page.get_by_role("button", name="登录", exact=True).click()
    if "/console/password" in page.url:
        await check(page)
        await page.fill("#current_password", who[1])
        await page.fill("#new_password", who[1] + "-mine")
        await page.get_by_role("button", name="保存新密码").click()
    return page


async def test_a_leader_opens_last_quarter_s_report_and_downloads_its_pdf(
    browser: Browser, live_server: str, history: History
):
    page = await _sign_in(browser, live_server, history.slug, history.leader)
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    await page.get_by_role("link", name="工作看板").click()
    await expect(page.get_by_role("heading", name="信访工作看板")).to_be_visible()
    await expect(page.get_by_role("table", name="在办信访件：按状态与期限紧迫程度")).to_be_visible()
    await check(page)
    await page.get_by_role("link", name="评估报告").click()
    await expect(page.get_by_role("heading", name="评估报告")).to_be_visible()
    await check(page)
    await page.get_by_role("link", name="2026年第3季度").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("季度评估报告")

    # The four dimensions and the overall score; the trend and the ranked units as charts with their tables.
    scores = page.locator("table.data").first
    for name in ("及时性与有效性", "协调配合", "信息发布", "满意度", "综合得分"):
        await expect(scores.get_by_role("rowheader", name=name, exact=True)).to_be_visible()
    charts = page.locator("figure.chart")
    assert await charts.count() >= 3  # trend, units, and the incidents' step shares
    for i in range(await charts.count()):
        figure = charts.nth(i)
        await expect(figure.locator("svg[role=img]")).to_be_visible()
        await expect(figure.locator("table caption")).not_to_be_empty()
    trend = charts.first.locator("table")
    await expect(trend.get_by_role("columnheader", name="2026-07")).to_be_visible()
    await expect(trend.get_by_role("columnheader", name="2025-10")).to_be_visible()
    await expect(page.get_by_role("heading", name="各环节用时与预案时限（自报告起计）").first).to_be_visible()
    await check(page, "console-report")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="PDF 文档（含图表）").click()
    download = await info.value
    assert download.suggested_filename.endswith("-zh-CN.pdf")
    body = open(await download.path(), "rb").read()  # noqa: SIM115, ASYNC230  (a small temporary file)
    assert body.startswith(b"%PDF")
    document = pypdf.PdfReader(io.BytesIO(body))
    text = "".join(p.extract_text() for p in document.pages)
    for name in ("及时性与有效性", "协调配合", "信息发布", "满意度", "各部门综合得分排名"):
        assert name in text, name
    drawn = b"".join(p.get_contents().get_data() for p in document.pages)  # type: ignore[union-attr]
    assert re.search(rb"\bre\s+f\b", drawn) and re.search(rb"\bl\b", drawn)  # bars and lines, drawn

    # A university's account does not reach the bureau's pages.
    response = await page.goto(f"{live_server}/console/bureau?year=2026&quarter=3")
    assert response is not None and response.status == 404


async def test_a_bureau_viewer_compares_universities_with_suppressed_cells_marked(
    browser: Browser, live_server: str, platform_headers: dict[str, str], history: History
):
    email = f"bureau-{uuid.uuid4().hex[:8]}@edu.gov.cn"
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as api:
        r = await api.post(
            "/api/v1/platform/accounts",
            json={"email": email, "password": PASSWORD, "role": "bureau_viewer", "province_code": PROVINCE},
            headers=platform_headers,
        )
    assert r.status_code == 201, r.text
    page = await _sign_in(browser, live_server, "", (email, PASSWORD))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("福建省")
    await check(page)
    await page.select_option("#b-year", "2026")
    await page.select_option("#b-quarter", "3")
    await page.get_by_role("button", name="查看").click()
    await expect(page.get_by_text("统计期间：2026年第3季度")).to_be_visible()

    scores = page.locator("#bureau-scores")
    for name in history.names:
        await expect(scores.get_by_role("rowheader", name=name)).to_be_visible()
    # The small university's figures are suppressed, never a zero; the legend says why.
    small = scores.get_by_role("row").filter(has=page.get_by_role("rowheader", name=history.names[-1]))
    await expect(small.locator("td.suppressed").first).to_contain_text("已隐去")
    legend = page.locator("#suppression-legend")
    await expect(legend).to_contain_text("少于 10 件")
    await expect(legend).to_contain_text("已隐去不等于零")
    await expect(page.locator("#rank-what")).to_contain_text("排名比较的是本省 4 所高校在2026年第3季度的综合得分")
    await expect(page.locator("#bureau-rankings")).to_be_visible()
    await expect(page.locator("#bureau-kinds td.suppressed").first).to_be_visible()
    forecast = page.locator("#bureau-forecasts")
    await expect(forecast.get_by_role("rowheader", name=history.names[0]).first).to_be_visible()
    await expect(forecast).to_contain_text("2026-10-01")
    await check(page, "console-bureau")

    # The bureau's console is its own page: the university's are not for it.
    response = await page.goto(f"{live_server}/console/queue")
    assert response is not None and response.status == 403
