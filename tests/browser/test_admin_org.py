"""The university's administration in a real browser: a tenant admin imports an org chart whose units file has
one bad row (the row's error shown in the table, nothing imported), fixes it and imports again with the people,
fills the four emergency groups (leader, deputy, members), creates an account (its one-time password shown once)
and an API key (its secret shown once), and changes a setting. axe-core on every page visited; screenshots of
the org tree and of the import's error table."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Browser, Page, expect

from tenants import org_transfer, tenancy
from tests.browser.conftest import PASSWORD, Campus
from tests.browser.test_journeys import check, console_sign_in

UNIT_HEADER = org_transfer.UNIT_COLUMNS
UNITS = [
    ("XSC", "office", "学生工作处", "Student Affairs", "ROOT", ""),
    ("BWC", "office", "保卫处", "Security Office", "ROOT", ""),
    ("CS", "college", "计算机学院", "College of Computing", "ROOT", ""),
    ("CS-XG", "group", "学工组", "Student work group", "CSX", ""),  # row 5: no unit CSX
]
PEOPLE = [
    ("T001", "王书记", "Wang", "党委书记", "", "ROOT", "", ""),
    ("T002", "李校长", "Li", "校长", "", "ROOT", "", ""),
    ("T003", "赵处长", "Zhao", "学生工作处处长", "", "XSC", "", ""),
    ("T004", "钱处长", "Qian", "保卫处处长", "", "BWC", "", ""),
    ("T005", "孙老师", "Sun", "辅导员", "", "CS-XG", "", ""),
    ("T006", "周老师", "Zhou", "后勤干事", "", "HQ", "", ""),
]
# Each group: (key, leader, deputy, members)
GROUPS = (
    ("leadership", "T001", "T002", ("T003", "T004")),
    ("handling", "T003", "T005", ("T006",)),
    ("info_release", "T002", "T004", ("T005",)),
    ("logistics", "T006", "T003", ("T004",)),
)


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    return org_transfer.write_csv(header, rows)


async def _upload(page: Page, units: bytes, people: bytes | None = None) -> None:
    await page.set_input_files("#i-units", files=[{"name": "units.csv", "mimeType": "text/csv", "buffer": units}])
    if people is not None:
        await page.set_input_files(
            "#i-people", files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": people}]
        )
    async with page.expect_navigation():
        await page.get_by_role("button", name="导入", exact=True).click()


def nav(page: Page, name: str) -> Any:
    """A link of the administration's own navigation."""
    return page.get_by_role("navigation", name="学校管理").get_by_role("link", name=name, exact=True)


async def _provision(db: Any, campus: Campus) -> None:
    """The onboarding job's work (the default emergency groups): the tests run no worker."""
    me = campus.api("GET", "/api/v1/auth/me").json()
    tenant_id = uuid.UUID(me["tenant_id"])
    async with db.transaction(tenant_id) as session:
        await tenancy.provision(session, tenant_id)


async def test_an_admin_imports_the_chart_fills_the_groups_and_issues_access(browser: Browser, campus: Campus, db: Any):
    await _provision(db, campus)
    email = f"admin2-{uuid.uuid4().hex[:6]}@{campus.slug}.edu.cn"
    r = campus.api("POST", "/api/v1/accounts", json={"email": email, "password": PASSWORD, "role": "tenant_admin"})
    assert r.status_code == 201, r.text
    page = await console_sign_in(browser, campus, (email, PASSWORD))

    await page.get_by_role("link", name="学校管理").click()
    await expect(page.get_by_role("heading", name="组织机构", level=1)).to_be_visible()
    await check(page)

    # The import: one bad row in the units file; the table names it; nothing imported.
    await nav(page, "导入导出").click()
    await expect(page.get_by_role("heading", name="导入导出组织机构")).to_be_visible()
    await check(page)
    await _upload(page, _csv(UNIT_HEADER, UNITS))
    table = page.locator("#import-errors")
    await expect(table).to_be_visible()
    row = table.locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("td")).to_have_text(["单位表", "5", "parent_code", "没有代码为“CSX”的单位"])
    await expect(page.get_by_role("alert")).to_contain_text("未导入任何内容")
    await check(page, "console-admin-import")
    tree = campus.api("GET", "/api/v1/org/units/tree").json()
    assert sorted(c["code"] for c in tree[0]["children"]) == ["HQ", "JW"]

    # Fixed, and imported again with the people.
    fixed = [*UNITS[:3], ("CS-XG", "group", "学工组", "Student work group", "CS", "")]
    await _upload(page, _csv(UNIT_HEADER, fixed), _csv(org_transfer.PERSON_COLUMNS, PEOPLE))
    await expect(page.locator("#import-done")).to_contain_text("新增单位 4 个")
    await expect(page.locator("#import-done")).to_contain_text("新增人员 6 人")
    await check(page)

    await nav(page, "组织机构").click()
    cs = page.locator("ul.tree li", has=page.get_by_role("link", name="计算机学院"))
    await expect(cs.get_by_role("link", name="学工组")).to_be_visible()
    await check(page, "console-admin-org")

    # The four groups: a leader, a deputy and members each.
    await nav(page, "应急工作组").click()
    await expect(page.get_by_role("heading", name="应急工作组", level=1)).to_be_visible()
    await check(page)
    for key, leader, deputy, members in GROUPS:
        for number, role in ((leader, "leader"), (deputy, "deputy"), *((m, "member") for m in members)):
            await page.fill(f"#a-{key}-staff", number)
            await page.select_option(f"#a-{key}-role", role)
            async with page.expect_navigation():
                await page.locator(f"#group-{key}").get_by_role("button", name="添加成员").click()
            await expect(page.locator("p.notice")).to_have_text("成员已添加。")
    await check(page, "console-admin-groups")
    groups = {g["key"]: g for g in campus.api("GET", "/api/v1/org/groups").json()}
    for key, leader, deputy, members in GROUPS:
        got = sorted((m["role"], m["name_zh"]) for m in groups[key]["members"])
        names = {p[0]: p[1] for p in PEOPLE}
        want = sorted([("leader", names[leader]), ("deputy", names[deputy]), *(("member", names[m]) for m in members)])
        assert got == want, key

    # An account: its one-time password shown once.
    await nav(page, "账号").click()
    await check(page)
    new = f"wang-{uuid.uuid4().hex[:6]}@{campus.slug}.edu.cn"
    await page.fill("#a-email", new)
    await page.fill("#a-name", "王老师")
    await page.select_option("#a-role", "staff")
    async with page.expect_navigation():
        await page.get_by_role("button", name="创建", exact=True).click()
    password = (await page.locator("#issued-password").inner_text()).strip()
    assert len(password) >= 16
    await check(page)
    await page.reload()
    await expect(page.locator("#issued-password")).to_have_count(0)

    # An API key with a scope: its secret shown once, never in the list.
    await nav(page, "API 密钥").click()
    await check(page)
    await page.fill("#k-name", "门户对接")
    await page.get_by_label("org:read").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="创建密钥").click()
    secret = (await page.locator("#key-secret").inner_text()).strip()
    await check(page, "console-admin-key")
    await nav(page, "API 密钥").click()
    await expect(page.locator("#key-secret")).to_have_count(0)
    await expect(page.locator("table.queue")).to_contain_text("门户对接")
    assert secret not in await page.content()

    # A setting: a holiday and the anonymous Open311 listing off.
    await nav(page, "学校设置").click()
    await check(page)
    await page.fill("#s-holidays", "2026-10-01\n2026-10-02")
    await page.get_by_label("允许匿名列出 Open311 请求（检举件始终不列出）").uncheck()
    async with page.expect_navigation():
        await page.get_by_role("button", name="保存").click()
    await expect(page.locator("p.notice")).to_have_text("设置已保存。")
    await expect(page.locator("table.calendar caption")).to_have_text("2026 年 10 月")
    await check(page, "console-admin-settings")
    settings = campus.api("GET", "/api/v1/petition-settings").json()
    assert settings["holidays"] == ["2026-10-01", "2026-10-02"] and settings["open311_anonymous_listing"] is False

    # The other pages pass axe too.
    for link in ("人员", "个人信息访问记录", "信访类别", "答复模板"):
        await nav(page, link).click()
        await check(page)
