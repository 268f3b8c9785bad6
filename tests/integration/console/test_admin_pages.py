"""The tenant admin's pages: the org chart (tree, add, move with a cycle refused naming the units, deactivation),
the import with its row errors in the page's language (nothing written), the emergency groups' members, accounts
(a one-time password shown once), API keys (the secret shown once), the access log's filters, the settings, the
categories and the reply templates. Only tenant admins reach them (the API's own guard)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import time_machine
from sqlalchemy import func, select

from service.console import i18n
from service.console.admin import SECTIONS
from service.petitions.models import PetitionSettings
from tenants import org, org_transfer
from tenants.identity import Account, ApiKey
from tests.support.casework import make_university, petition_body
from tests.support.forms import console_account, signed_in
from tests.support.people import add_person
from tests.support.plans import provision


async def _admin(web: Any, client: Any, make_tenant: Any) -> tuple[Any, Any]:
    uni = await make_university(client, make_tenant)
    admin = await console_account(client, uni, "tenant_admin", None)
    return uni, await signed_in(web, uni, admin)


async def _count(db: Any, tenant: Any, model: Any) -> int:
    async with db.transaction(tenant.id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_only_tenant_admins_reach_the_administration(web: Any, client: Any, db: Any, make_tenant: Any) -> None:
    uni, b = await _admin(web, client, make_tenant)
    page = await b.get("/console/queue")
    assert 'href="/console/admin/org"' in page.text  # the nav link, for admins
    for path in ("/console/admin/org", "/console/admin/accounts", "/console/admin/settings", "/console/admin/import"):
        assert (await b.get(path)).status_code == 200, path
    # Every page of the administration, in English too (the words exist in both languages).
    for path, word in SECTIONS:
        page = await b.get(path, params={"lang": "en"})
        assert page.status_code == 200 and f'aria-current="page">{i18n.MESSAGES[word][1]}</a>' in page.text, path
    await b.get("/console/admin/org", params={"lang": "zh-CN"})

    staff = await console_account(client, uni, "staff", uni.unit_a)
    s = await signed_in(web, uni, staff)
    assert 'href="/console/admin/org"' not in (await s.get("/console/queue")).text
    for path in ("/console/admin/org", "/console/admin/accounts", "/console/admin/api-keys", "/console/admin/settings"):
        assert (await s.get(path)).status_code == 403, path
    await s.get("/console/queue")
    r = await s.post("/console/admin/org/units", {"kind": "office", "code": "X", "name_zh": "x", "name_en": "x"})
    assert r.status_code == 403
    assert (await b.get("/console/admin/org/units/" + str(uuid.uuid4()))).status_code == 404


async def test_the_tree_adds_moves_and_refuses_a_cycle_naming_the_units(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni, b = await _admin(web, client, make_tenant)
    await b.get("/console/admin/org")
    r = await b.post(
        "/console/admin/org/units",
        {
            "kind": "college",
            "code": "CS",
            "name_zh": "计算机学院",
            "name_en": "College of Computing",
            "parent_id": uni.unit_a,
        },
    )
    assert r.status_code == 303, r.text
    cs = r.headers["location"].split("/")[-1].split("?")[0]
    r = await b.post(
        "/console/admin/org/units",
        {"kind": "group", "code": "CS-XG", "name_zh": "学工组", "name_en": "Student work group", "parent_id": cs},
    )
    xg = r.headers["location"].split("/")[-1].split("?")[0]
    tree = await b.get("/console/admin/org")
    assert "计算机学院" in tree.text and "学工组" in tree.text

    # A duplicate code: refused in place, in Chinese; nothing written.
    r = await b.post(
        "/console/admin/org/units",
        {"kind": "office", "code": "CS", "name_zh": "重复", "name_en": "Dup", "parent_id": uni.unit_a},
    )
    assert r.status_code == 409 and "该单位代码已被使用" in r.text

    # Moving the logistics office below its own grandchild: the cycle named unit by unit.
    await b.get(f"/console/admin/org/units/{uni.unit_a}")
    r = await b.post(f"/console/admin/org/units/{uni.unit_a}/move", {"parent_id": xg})
    assert r.status_code == 409
    assert "形成循环" in r.text and "计算机学院 → 学工组" in r.text
    r = await b.post(f"/console/admin/org/units/{uni.unit_a}/move?lang=en", {"parent_id": xg})
    assert "a cycle:" in r.text and "College of Computing → Student work group" in r.text
    await b.get("/console/admin/org?lang=zh-CN")  # back to Chinese (the switch is remembered)

    r = await b.post(f"/console/admin/org/units/{cs}/move", {"parent_id": uni.unit_b})
    assert r.status_code == 303
    async with db.transaction(uni.tenant.id) as session:
        assert (await org.get_unit(session, uuid.UUID(cs))).parent_id == uuid.UUID(uni.unit_b)

    # Deactivating a unit with an active sub-unit is refused; its sub-unit first, then it.
    await b.get(f"/console/admin/org/units/{cs}")
    r = await b.post(f"/console/admin/org/units/{cs}/deactivate", {})
    assert r.status_code == 409 and "仍有启用的下级单位" in r.text
    assert (await b.post(f"/console/admin/org/units/{xg}/deactivate", {})).status_code == 303
    r = await b.post(f"/console/admin/org/units/{cs}/rename", {"name_zh": "计算机与软件学院", "name_en": "Computing"})
    assert r.status_code == 303
    assert "计算机与软件学院" in (await b.get(f"/console/admin/org/units/{cs}")).text


UNITS = [
    ("code", "kind", "name_zh", "name_en", "parent_code", "active"),
    ("XSC", "office", "学生处", "Student Affairs", "ROOT", ""),
    ("CS", "college", "计算机学院", "College of Computing", "NOPE", ""),  # row 3: no such parent
]


async def test_an_import_with_a_bad_row_lists_it_in_the_pages_language_and_writes_nothing(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni, b = await _admin(web, client, make_tenant)
    before = await _count(db, uni.tenant, org.OrgUnit)
    await b.get("/console/admin/import")
    data = org_transfer.write_csv(UNITS[0], UNITS[1:])
    r = await b.post("/console/admin/import", {}, files={"units": ("units.csv", data, "text/csv")})
    assert r.status_code == 422, r.text
    table = r.text[r.text.index('id="import-errors"') :]
    assert re.search(
        r"<td[^>]*>单位表</td><td[^>]*>3</td><td[^>]*><code>parent_code</code></td><td[^>]*>没有代码为“NOPE”的单位</td>",
        table,
    )
    assert "未导入任何内容" in r.text
    assert await _count(db, uni.tenant, org.OrgUnit) == before

    r = await b.post("/console/admin/import?lang=en", {}, files={"units": ("units.csv", data, "text/csv")})
    assert r.status_code == 422 and "no unit with code NOPE" in r.text
    await b.get("/console/admin/import?lang=zh-CN")

    fixed = org_transfer.write_csv(
        UNITS[0], [UNITS[1], ("CS", "college", "计算机学院", "College of Computing", "ROOT", "")]
    )
    # As a browser sends it: the people file field left empty (no file name, no content) counts as not sent.
    files = {"units": ("units.csv", fixed, "text/csv"), "people": ("", b"", "application/octet-stream")}
    r = await b.post("/console/admin/import", {}, files=files)
    assert r.status_code == 200 and "新增单位 2 个" in r.text
    assert await _count(db, uni.tenant, org.OrgUnit) == before + 2

    exported = await b.get("/console/admin/export/units?format=csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "College of Computing" in exported.text
    assert (await b.get("/console/admin/export/people?format=xlsx")).content.startswith(b"PK")


async def test_people_are_added_found_by_staff_number_or_unit_and_edited(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni, b = await _admin(web, client, make_tenant)
    staff = await console_account(client, uni, "staff", None)
    await b.get("/console/admin/people")
    body = {"staff_number": "t-100", "name_zh": "孙老师", "title_zh": "辅导员", "unit_id": uni.unit_a}
    r = await b.post("/console/admin/people", {**body, "account_email": staff[0]})
    assert r.status_code == 303, r.text
    pid = r.headers["location"].split("/")[-1].split("?")[0]
    r = await b.post("/console/admin/people", body)
    assert r.status_code == 409 and "该工号已存在" in r.text
    r = await b.post("/console/admin/people", {**body, "staff_number": "T-101", "account_email": "nobody@x.cn"})
    assert r.status_code == 422 and "关联账号（邮箱）：请检查此项" in r.text
    assert await _count(db, uni.tenant, org.Person) == 1

    found = await b.get("/console/admin/people", params={"staff_number": "T-100"})
    assert "孙老师" in found.text and staff[0] in found.text
    assert "孙老师" not in (await b.get("/console/admin/people", params={"unit": uni.unit_b})).text
    assert "孙老师" in (await b.get("/console/admin/people", params={"unit": uni.unit_a})).text

    await b.get(f"/console/admin/people/{pid}")
    r = await b.post(
        f"/console/admin/people/{pid}",
        {"name_zh": "孙老师", "title_zh": "学工办主任", "unit_id": uni.unit_b, "account_email": "", "active": "yes"},
    )
    assert r.status_code == 303, r.text
    shown = (await client.get(f"/api/v1/org/people/{pid}", headers=uni.admin)).json()
    # A secondary post in the other office; the same unit twice refused in place.
    assert (
        await b.post(f"/console/admin/people/{pid}/posts", {"unit_id": uni.unit_a, "title_zh": "兼职"})
    ).status_code == 303
    r = await b.post(f"/console/admin/people/{pid}/posts", {"unit_id": uni.unit_a})
    assert r.status_code == 409 and "此人已属于该单位" in r.text
    posts = (await client.get(f"/api/v1/org/people/{pid}/posts", headers=uni.admin)).json()
    assert [(p["unit_id"], p["title_zh"]) for p in posts] == [(uni.unit_a, "兼职")]
    assert (await b.post(f"/console/admin/people/{pid}/posts/{uni.unit_a}/remove", {})).status_code == 303
    assert (await client.get(f"/api/v1/org/people/{pid}/posts", headers=uni.admin)).json() == []
    assert (shown["title_zh"], shown["unit_id"], shown["account_id"], shown["active"]) == (
        "学工办主任",
        uni.unit_b,
        None,
        True,
    )


async def test_the_groups_take_a_leader_deputies_and_members(web: Any, client: Any, db: Any, make_tenant: Any) -> None:
    uni, b = await _admin(web, client, make_tenant)
    await provision(db, uni.tenant)
    numbers = []
    for name in ("王书记", "李校长", "赵处长", "钱处长"):
        pid = await add_person(client, uni.tenant, uni.unit_a, name)
        person = (await client.get(f"/api/v1/org/people/{pid}", headers=uni.admin)).json()
        numbers.append((pid, person["staff_number"]))
    page = await b.get("/console/admin/groups")
    assert page.status_code == 200 and "领导小组" in page.text
    # The plan's groups in the plan's order: the leadership group first.
    assert page.text.index("领导小组") < page.text.index("应急处置小组") < page.text.index("后勤保障组")
    for (_, number), role in zip(numbers, ("leader", "deputy", "member"), strict=False):
        r = await b.post("/console/admin/groups/leadership/members", {"staff_number": number, "role": role})
        assert r.status_code == 303, r.text
    # A second leader: refused in place, in the group's own section.
    r = await b.post("/console/admin/groups/leadership/members", {"staff_number": numbers[3][1], "role": "leader"})
    assert r.status_code == 409 and "本组已有组长" in r.text
    r = await b.post("/console/admin/groups/leadership/members", {"staff_number": "NO-SUCH", "role": "member"})
    assert r.status_code == 422 and "没有该工号的人员" in r.text

    r = await b.post(f"/console/admin/groups/leadership/members/{numbers[2][0]}/role", {"role": "deputy"})
    assert r.status_code == 303
    r = await b.post(f"/console/admin/groups/leadership/members/{numbers[1][0]}/remove", {})
    assert r.status_code == 303
    group = (await client.get("/api/v1/org/groups/leadership", headers=uni.admin)).json()
    assert sorted((m["name_zh"], m["role"]) for m in group["members"]) == [("王书记", "leader"), ("赵处长", "deputy")]


async def test_accounts_get_a_one_time_password_and_keys_a_secret_shown_once(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni, b = await _admin(web, client, make_tenant)
    await b.get("/console/admin/accounts")
    email = f"new-{uuid.uuid4().hex[:6]}@{uni.slug}.edu.cn"
    r = await b.post("/console/admin/accounts", {"email": email, "role": "staff", "display_name": "新同事"})
    assert r.status_code == 201, r.text
    password = re.search(r'id="issued-password" class="secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    login = await client.post("/api/v1/auth/login", json={"tenant": uni.slug, "email": email, "password": password})
    assert login.status_code == 200 and login.json()["password_change_required"] is True
    async with db.transaction(uni.tenant.id) as session:
        account = await session.scalar(select(Account).where(Account.email == email))
    assert account is not None
    page = await b.get(f"/console/admin/accounts/{account.id}")
    assert password not in page.text  # shown once

    # A duplicate email: refused in place, no second account.
    r = await b.post("/console/admin/accounts", {"email": email, "role": "staff"})
    assert r.status_code == 409 and "本校已有使用该邮箱的账号" in r.text

    # Role, units through a person of the chart, deactivation.
    pid = await add_person(client, uni.tenant, uni.unit_b, "新同事")
    number = (await client.get(f"/api/v1/org/people/{pid}", headers=uni.admin)).json()["staff_number"]
    await b.get(f"/console/admin/accounts/{account.id}")
    assert (await b.post(f"/console/admin/accounts/{account.id}/link", {"staff_number": number})).status_code == 303
    page = await b.get(f"/console/admin/accounts/{account.id}")
    assert f"{number}</span> — JWC" in page.text  # the linked person's unit is the account's
    linked = (await client.get("/api/v1/org/people", params={"account_id": str(account.id)}, headers=uni.admin)).json()
    assert [p["id"] for p in linked["items"]] == [pid]
    r = await b.post(f"/console/admin/accounts/{account.id}", {"role": "petition_officer", "display_name": "新同事"})
    assert r.status_code == 303
    shown = (await client.get(f"/api/v1/accounts/{account.id}", headers=uni.admin)).json()
    assert shown["role"] == "petition_officer" and shown["active"] is False  # the box was left unticked
    r = await b.post(f"/console/admin/accounts/{account.id}/password-reset", {})
    assert r.status_code == 200 and 'id="issued-password"' in r.text

    await b.get("/console/admin/api-keys")
    r = await b.post("/console/admin/api-keys", {"name": "门户对接", "scopes": ["org:read", "petitions:read"]})
    assert r.status_code == 201, r.text
    secret = re.search(r'id="key-secret" class="secret">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    tree = await client.get("/api/v1/org/units/tree", headers={"X-API-Key": secret})
    assert tree.status_code == 200
    listing = await b.get("/console/admin/api-keys")
    assert "门户对接" in listing.text and secret not in listing.text
    r = await b.post("/console/admin/api-keys", {"name": "无权限"})
    assert r.status_code == 422 and await _count(db, uni.tenant, ApiKey) == 1
    async with db.transaction(uni.tenant.id) as session:
        key = await session.scalar(select(ApiKey))
    assert key is not None
    assert (await b.post(f"/console/admin/api-keys/{key.id}/revoke", {})).status_code == 303
    assert (await client.get("/api/v1/org/units/tree", headers={"X-API-Key": secret})).status_code == 401


async def test_the_access_log_filters_by_account_and_petition(web: Any, client: Any, db: Any, make_tenant: Any) -> None:
    # Late in the evening of 1 March in Shanghai (15:30 UTC is 23:30 there): the read falls on that university
    # day, not the next, whatever the day the test runs.
    with time_machine.travel(datetime(2026, 3, 1, 15, 30, tzinfo=UTC), tick=True):
        await _access_log_story(web, client, db, make_tenant)


async def _access_log_story(web: Any, client: Any, db: Any, make_tenant: Any) -> None:
    uni, b = await _admin(web, client, make_tenant)
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    assert r.status_code == 201, r.text
    number = r.json()["tracking_number"]
    items = (await client.get("/api/v1/petitions", headers=uni.officer)).json()["items"]
    pid = next(p["id"] for p in items if p["tracking_number"] == number)
    assert (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).status_code == 200
    day = {"tracking_number": number}
    page = await b.get("/console/admin/access-log", params={**day, "from": "2026-03-01", "to": "2026-03-01"})
    assert page.status_code == 200 and "2026-03-01 23:" in page.text
    page = await b.get("/console/admin/access-log", params={**day, "from": "2026-03-02", "to": "2026-03-02"})
    assert "2026-03-01 23:" not in page.text
    page = await b.get("/console/admin/access-log", params={**day, "from": "not-a-day"})
    assert page.status_code == 422 and "日期格式应为" in page.text
    me = (await client.get("/api/v1/auth/me", headers=uni.officer)).json()
    async with db.transaction(uni.tenant.id) as session:
        officer_email = await session.scalar(select(Account.email).where(Account.id == uuid.UUID(me["subject_id"])))

    page = await b.get("/console/admin/access-log", params={"email": officer_email, "tracking_number": number})
    assert page.status_code == 200 and number in page.text and officer_email in page.text
    page = await b.get(
        "/console/admin/access-log", params={"email": officer_email, "from": "2000-01-01", "to": "2000-01-02"}
    )
    assert number not in page.text and "没有符合条件的访问记录" in page.text
    page = await b.get("/console/admin/access-log", params={"email": "nobody@nowhere.cn"})
    assert page.status_code == 422 and "本校没有使用该邮箱的账号" in page.text


async def test_settings_categories_and_templates(web: Any, client: Any, db: Any, make_tenant: Any) -> None:
    uni, b = await _admin(web, client, make_tenant)
    page = await b.get("/console/admin/settings")
    assert "Asia/Shanghai" in page.text
    r = await b.post(
        "/console/admin/settings",
        {
            "holidays": "2026-10-01\n2026-10-02",
            "workdays": "2026-10-11",
            "reminder_hours": "72, 24",
            "followup_days": "30",
        },
    )
    assert r.status_code == 303, r.text
    settings = (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()
    assert settings["holidays"] == ["2026-10-01", "2026-10-02"] and settings["workdays"] == ["2026-10-11"]
    assert settings["open311_anonymous_listing"] is False and settings["followup_days"] == 30
    page = await b.get("/console/admin/settings")
    assert "2026 年 10 月" in page.text and 'class="holiday"' in page.text
    assert '<option value="Asia/Shanghai" selected>' in page.text
    r = await b.post("/console/admin/settings", {"timezone": "Asia/Urumqi", "holidays": "2026-10-01"})
    assert r.status_code == 303, r.text
    assert (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()["timezone"] == "Asia/Urumqi"
    assert '<option value="Asia/Urumqi" selected>' in (await b.get("/console/admin/settings")).text
    r = await b.post("/console/admin/settings", {"timezone": "Mars/Olympus"})
    assert r.status_code == 422 and "时区：请检查此项" in r.text
    assert (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()["timezone"] == "Asia/Urumqi"
    await b.post("/console/admin/settings", {"timezone": "Asia/Shanghai", "holidays": "2026-10-01\n2026-10-02"})
    r = await b.post("/console/admin/settings", {"holidays": "2026-13-01", "open311_anonymous_listing": "yes"})
    assert r.status_code == 422 and "节假日" in r.text
    assert (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()[
        "open311_anonymous_listing"
    ] is False

    await b.get("/console/admin/categories")
    r = await b.post(
        "/console/admin/categories",
        {"code": "library", "name_zh": "图书馆", "name_en": "Library", "default_org_unit_id": uni.unit_b},
    )
    assert r.status_code == 303, r.text
    r = await b.post("/console/admin/categories", {"code": "library", "name_zh": "重复", "name_en": "Dup"})
    assert r.status_code == 409
    r = await b.post(
        "/console/admin/categories/library",
        {
            "name_zh": "图书馆服务",
            "name_en": "Library",
            "default_org_unit_id": uni.unit_a,
            "active": "yes",
            "position": "3",
        },
    )
    assert r.status_code == 303
    cats = {c["code"]: c for c in (await client.get("/api/v1/petition-categories", headers=uni.admin)).json()}
    assert cats["library"]["name_zh"] == "图书馆服务" and cats["library"]["default_org_unit_id"] == uni.unit_a

    await b.get("/console/admin/reply-templates")
    r = await b.post(
        "/console/admin/reply-templates", {"title": "维修类答复", "body": "已安排维修。", "outcome": "supported"}
    )
    assert r.status_code == 303, r.text
    templates = (await client.get("/api/v1/reply-templates", headers=uni.admin)).json()
    assert [(x["title"], x["outcome"]) for x in templates] == [("维修类答复", "supported")]
    r = await b.post(f"/console/admin/reply-templates/{templates[0]['id']}/delete", {})
    assert r.status_code == 303 and (await client.get("/api/v1/reply-templates", headers=uni.admin)).json() == []
    assert await _count(db, uni.tenant, PetitionSettings) == 1
