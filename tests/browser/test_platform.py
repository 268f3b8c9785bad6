"""The platform admin's journey in a real browser (Debian's chromium): signing in without a university, onboarding
a university (a bad field first, its message in place), suspending and reactivating it, downloading its archive
(opened and read: it holds that university's rows), creating a bureau account for a province, and offboarding a
second university with its code typed again (a wrong code refused first).

axe-core runs on every page visited (no serious or critical violation); screenshots go to
``.xinfang/screenshots/``.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import ROOT
from tests.browser.test_journeys import check
from tests.support.archive import archive_tables

PASSWORD = "platform-password-1"


def _platform_admin() -> tuple[str, str]:
    email = f"root-{uuid.uuid4().hex[:8]}@xinfang.test"
    subprocess.run(
        [sys.executable, "-m", "service.ops.cli", "admin", "--email", email, "--password", PASSWORD],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return email, PASSWORD


async def _sign_in(browser: Browser, url: str) -> Page:
    page = await (await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(f"{url}/console/login")
    await page.get_by_role("link", name="平台管理员由此登录").click()
    await expect(page.get_by_role("heading", name="平台管理员登录")).to_be_visible()
    await check(page)
    email, password = _platform_admin()
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("heading", name="高校", exact=True)).to_be_visible()
    await check(page)
    return page


async def test_a_platform_admin_runs_the_universities_and_the_bureau_accounts(
    browser: Browser, live_server: str, platform_headers: dict[str, str], tmp_path: Path
):
    url = live_server
    admin = await _sign_in(browser, url)

    # Onboard: a bad code first, its message in place, the other fields kept.
    slug = f"u-{uuid.uuid4().hex[:8]}"
    await admin.get_by_role("link", name="接入高校").click()
    await expect(admin.get_by_role("heading", name="接入高校")).to_be_visible()
    await check(admin)
    await admin.fill("#slug", "Lingnan Univ")
    await admin.fill("#name_zh", "岭南大学")
    await admin.fill("#name_en", "Lingnan University")
    await admin.select_option("#province_code", "440000")
    await admin.fill("#admin_email", f"admin@{slug}.edu.cn")
    await admin.get_by_role("button", name="接入", exact=True).click()
    await expect(admin.locator("#problems")).to_contain_text("学校代码: 小写字母、数字和连字符")
    await expect(admin.locator("#name_zh")).to_have_value("岭南大学")
    await check(admin, "console-platform-onboard-refused")
    await admin.fill("#slug", slug)
    await admin.get_by_role("button", name="接入", exact=True).click()
    await expect(admin.get_by_role("heading", name="高校已接入")).to_be_visible()
    await expect(admin.locator("#admin-password")).not_to_be_empty()
    await check(admin)

    # The university's page: suspend, then reactivate.
    await admin.get_by_role("link", name="查看该校").click()
    await expect(admin.get_by_role("heading", name="岭南大学")).to_be_visible()
    await check(admin)
    await admin.get_by_role("button", name="暂停").click()
    await expect(admin.get_by_role("status")).to_have_text("该校已暂停。")
    await expect(admin.locator("#status")).to_have_text("已暂停")
    await check(admin)
    await admin.get_by_role("button", name="恢复").click()
    await expect(admin.get_by_role("status")).to_have_text("该校已恢复。")
    await expect(admin.locator("#status")).to_have_text("正常")
    await check(admin, "console-platform-tenant")

    # Its archive, downloaded and opened: the university's own rows.
    async with admin.expect_download() as download_info:
        await admin.get_by_role("link", name="下载档案").click()
    download = await download_info.value
    assert download.suggested_filename == f"{slug}.tar.gz"
    archive = tmp_path / download.suggested_filename
    await download.save_as(archive)
    tables = archive_tables(archive)
    assert [(row["slug"], row["name_zh"]) for row in tables["tenants"]] == [(slug, "岭南大学")]
    assert [row["email"] for row in tables["accounts"]] == [f"admin@{slug}.edu.cn"]

    # The list shows it with its status, creation time and counts.
    await admin.get_by_role("link", name="高校", exact=True).first.click()
    await admin.fill("#q", slug)
    await admin.get_by_role("button", name="筛选").click()
    row = admin.locator("#tenants tr", has=admin.get_by_role("link", name=slug))
    await expect(row).to_contain_text("正常")
    await expect(row).to_contain_text("广东省")
    await check(admin, "console-platform")

    # A bureau account for a province.
    await admin.get_by_role("link", name="教育厅账号").click()
    await expect(admin.get_by_role("heading", name="教育厅账号", exact=True)).to_be_visible()
    await check(admin)
    bureau = f"bureau-{uuid.uuid4().hex[:6]}@edu.gd.gov.cn"
    await admin.select_option("#new-province", "440000")
    await admin.fill("#new-email", bureau)
    await admin.fill("#new-password", "bureau-password-1")
    await admin.get_by_role("button", name="创建").click()
    await expect(admin.get_by_role("status")).to_have_text("教育厅账号已创建。")
    await expect(admin.locator("#bureau-accounts")).to_contain_text(bureau)
    await check(admin, "console-platform-bureau")
    api = httpx.AsyncClient(base_url=url, headers=platform_headers, timeout=30)
    login = await api.post("/api/v1/auth/login", json={"email": bureau, "password": "bureau-password-1"})
    assert login.status_code == 200 and login.json()["password_change_required"] is True

    # Offboard a second university: a wrong code is refused, the right one deletes it.
    other = f"u-{uuid.uuid4().hex[:8]}"
    r = await api.post(
        "/api/v1/platform/tenants",
        json={
            "slug": other,
            "name_zh": "待注销学院",
            "name_en": "College To Close",
            "province_code": "440000",
            "admin_email": f"admin@{other}.edu.cn",
        },
    )
    assert r.status_code == 201, r.text
    other_id = r.json()["tenant"]["id"]
    await admin.goto(f"{url}/console/platform/tenants/{other_id}")
    await expect(admin.get_by_role("heading", name="待注销学院")).to_be_visible()
    await admin.get_by_label(f"请输入学校代码 {other} 以确认").fill(slug)  # the other university's code
    await admin.get_by_role("button", name="注销并删除").click()
    await expect(admin.locator("#problems")).to_contain_text("与学校代码不一致，未做任何更改。")
    await check(admin, "console-platform-offboard-refused")
    assert (await api.get(f"/api/v1/platform/tenants/{other_id}")).status_code == 200
    await admin.get_by_label(f"请输入学校代码 {other} 以确认").fill(other)
    await admin.get_by_role("button", name="注销并删除").click()
    await expect(admin.get_by_role("heading", name="高校已注销")).to_be_visible()
    await check(admin, "console-platform-offboarded")
    async with admin.expect_download() as download_info:
        await admin.get_by_role("link", name="下载档案").click()
    kept = tmp_path / "kept.tar.gz"
    await (await download_info.value).save_as(kept)
    assert [row["slug"] for row in archive_tables(kept)["tenants"]] == [other]
    assert (await api.get(f"/api/v1/platform/tenants/{other_id}")).status_code == 404
    # The first university is untouched.
    await admin.get_by_role("link", name="高校", exact=True).first.click()
    await admin.fill("#q", "u-")
    await admin.get_by_role("button", name="筛选").click()
    await expect(admin.get_by_role("link", name=slug)).to_be_visible()
    await expect(admin.get_by_role("link", name=other)).to_have_count(0)
    await check(admin)
    # In English too.
    await admin.get_by_role("link", name="English").click()
    await expect(admin.get_by_role("heading", name="Universities")).to_be_visible()
    await expect(admin.get_by_role("link", name="Onboard a university")).to_be_visible()
    await check(admin, "console-platform-en")
    await api.aclose()
