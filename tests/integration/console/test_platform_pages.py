"""The platform admins' pages: signing in without a university, onboarding with its refusals in place, suspending,
the archive download, offboarding with the typed code, and bureau accounts per province."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from tests.support.archive import archive_tables
from tests.support.forms import Browser
from tests.support.platform import auth, changed, sign_in

PASSWORD = "platform-password-1"


async def _platform_admin(db: Any, *, issued: bool = False) -> tuple[str, str]:
    from tenants import identity

    email = f"root-{uuid.uuid4().hex[:8]}@xinfang.test"
    async with db.transaction() as session:
        await identity.create_platform_account(
            session, email=email, password=PASSWORD, role=identity.Role.platform_admin, must_change_password=issued
        )
    return email, PASSWORD


async def _signed_in(web: Any, db: Any) -> Browser:
    b: Browser = web()
    email, password = await _platform_admin(db)
    await b.get("/console/platform/login")
    r = await b.post("/console/platform/login", {"email": email, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console/platform", r.text
    return b


async def test_a_platform_admin_signs_in_without_a_university_and_out_again(web, db, client, tenant):
    b: Browser = web()
    r = await b.get("/console/platform")
    assert r.status_code == 303 and r.headers["location"] == "/console/platform/login"
    assert 'href="/console/platform/login"' in (await b.get("/console/login")).text
    email, password = await _platform_admin(db)
    await b.get("/console/platform/login")
    r = await b.post("/console/platform/login", {"email": email, "password": "wrong-password-1"})
    assert r.status_code == 401 and "邮箱或密码不正确" in r.text
    r = await b.post("/console/platform/login", {"email": email, "password": password})
    assert r.status_code == 303
    r = await b.get("/console/platform", params={"q": tenant.slug})  # paged by code: many in a full run
    assert r.status_code == 200 and "高校" in r.text and tenant.slug in r.text
    assert 'href="/console/platform/bureau"' in r.text and 'href="/console/queue"' not in r.text
    # Not the university staff's pages.
    assert (await b.get("/console/queue")).status_code == 403
    r = await b.post("/console/platform/logout", {})
    assert r.status_code == 303 and r.headers["location"] == "/console/platform/login?out=1"
    assert (await b.get("/console/platform")).status_code == 303


async def test_an_issued_platform_password_is_changed_first(web, db):
    email, password = await _platform_admin(db, issued=True)
    b: Browser = web()
    await b.get("/console/platform/login")
    r = await b.post("/console/platform/login", {"email": email, "password": password})
    assert r.status_code == 303 and r.headers["location"] == "/console/platform/password"
    assert (await b.get("/console/platform")).headers["location"] == "/console/platform/password"
    await b.get("/console/platform/password")
    r = await b.post("/console/platform/password", {"current_password": password, "new_password": changed(password)})
    assert r.status_code == 303, r.text
    assert (await b.get("/console/platform")).status_code == 200


async def test_others_are_kept_out_bureau_viewers_and_university_staff(web, db, client, platform_token, tenant):
    email = f"bureau-{uuid.uuid4().hex[:6]}@edu.gd.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        headers=auth(platform_token),
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": "440000"},
    )
    assert r.status_code == 201
    bureau = await sign_in(client, None, email, "bureau-password-1")
    b: Browser = web()
    await b.get("/console/platform/login")
    r = await b.post("/console/platform/login", {"email": email, "password": bureau.password})
    assert r.status_code == 403 and "仅供平台管理员" in r.text
    assert not any(h.startswith("xf_session=") and "xf_session=;" not in h for h in r.headers.get_list("set-cookie"))

    staff: Browser = web()
    r = await staff.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)
    assert r.status_code == 303
    assert (await staff.get("/console/platform")).status_code == 403
    assert (await staff.get(f"/console/platform/tenants/{tenant.id}/archive")).status_code == 403


async def test_onboarding_shows_the_refusals_in_place_then_the_one_time_password(web, db, client):
    b = await _signed_in(web, db)
    await b.get("/console/platform/new")
    slug = f"u-{uuid.uuid4().hex[:8]}"
    form = {
        "slug": "Bad Slug!",
        "name_zh": "岭南大学",
        "name_en": "Lingnan University",
        "province_code": "440000",
        "timezone": "Asia/Shanghai",
        "admin_email": f"admin@{slug}.edu.cn",
    }
    r = await b.post("/console/platform/new", form)
    assert r.status_code == 422
    assert "学校代码: 小写字母、数字和连字符" in r.text and 'value="Bad Slug!"' in r.text
    r = await b.post("/console/platform/new?lang=en", {**form, "timezone": "Nowhere/Else"})
    assert "University code: Lowercase letters" in r.text and "Time zone: An IANA time zone" in r.text
    r = await b.post("/console/platform/new?lang=zh-CN", {**form, "slug": slug, "province_code": "44"})
    assert r.status_code == 422 and "所在省份: 请选择一个省级行政区" in r.text

    r = await b.post("/console/platform/new", {**form, "slug": slug})
    assert r.status_code == 200, r.text
    password = re.search(r'id="admin-password">([^<]+)<', r.text)
    assert password
    # The admin signs in with it (and must change it).
    login = await client.post(
        "/api/v1/auth/login",
        json={"tenant": slug, "email": form["admin_email"], "password": password.group(1)},
    )
    assert login.status_code == 200 and login.json()["password_change_required"] is True
    r = await b.post("/console/platform/new", {**form, "slug": slug})
    assert r.status_code == 422 and "该学校代码已被使用" in r.text


async def test_suspend_reactivate_download_and_offboard_with_the_typed_code(
    web, db, client, make_tenant, settings, tmp_path: Path
):
    b = await _signed_in(web, db)
    t = await make_tenant()
    page = f"/console/platform/tenants/{t.id}"
    r = await b.get(page)
    assert r.status_code == 200 and t.slug in r.text and "正常" in r.text
    r = await b.post(f"{page}/suspend", {})
    assert r.status_code == 303
    assert (await client.get("/api/v1/accounts/", headers=t.headers)).status_code == 403
    r = await b.get(r.headers["location"])
    assert "该校已暂停" in r.text and "已暂停" in r.text
    r = await b.post(f"{page}/reactivate", {})
    assert (await client.get("/api/v1/accounts/", headers=t.headers)).status_code == 200

    r = await b.get(f"{page}/archive")
    assert r.status_code == 200 and r.headers["content-type"] == "application/gzip"
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(r.content)
    assert [row["slug"] for row in archive_tables(archive)["tenants"]] == [t.slug]

    await b.get(page)
    r = await b.post(f"{page}/offboard", {"confirm": t.slug + "x"})
    assert r.status_code == 422 and "与学校代码不一致" in r.text
    assert (await client.get("/api/v1/accounts/", headers=t.headers)).status_code == 200
    r = await b.post(f"{page}/offboard", {"confirm": t.slug})
    assert r.status_code == 200 and "高校已注销" in r.text
    sha = re.search(r'id="sha256">([0-9a-f]{64})<', r.text)
    assert sha
    assert (Path(settings.data_dir) / "archives" / f"{t.id}.tar.gz").exists()
    assert (await b.get(page)).status_code == 404
    kept = await b.get(f"{page}/archive")
    assert (
        kept.status_code == 200
        and kept.content == (Path(settings.data_dir) / "archives" / f"{t.id}.tar.gz").read_bytes()
    )
    # A second post (a double click, a reload) shows the same offboarding.
    r = await b.post(f"{page}/offboard", {"confirm": t.slug})
    assert r.status_code == 200 and sha.group(1) in r.text


async def test_bureau_accounts_per_province_created_and_deactivated(web, db, client):
    b = await _signed_in(web, db)
    await b.get("/console/platform/bureau")
    email = f"bureau-{uuid.uuid4().hex[:6]}@edu.hn.gov.cn"
    r = await b.post("/console/platform/bureau", {"email": email, "password": "short", "province_code": "430000"})
    assert r.status_code == 422 and "初始密码" in r.text and f'value="{email}"' in r.text
    r = await b.post(
        "/console/platform/bureau", {"email": email, "password": "bureau-password-1", "province_code": "430000"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/platform/bureau?province=430000&done=created"
    r = await b.get(r.headers["location"])
    assert email in r.text and "湖南省" in r.text and "教育厅账号已创建" in r.text
    viewer = await sign_in(client, None, email, "bureau-password-1")
    me = (await client.get("/api/v1/auth/me", headers=viewer.headers)).json()
    assert (me["role"], me["province_code"]) == ("bureau_viewer", "430000")
    r = await b.post(
        "/console/platform/bureau", {"email": email, "password": "bureau-password-1", "province_code": "430000"}
    )
    assert r.status_code == 422 and "已有平台账号使用该邮箱" in r.text

    row = re.search(
        re.escape(email) + r'</th>.*?action="/console/platform/bureau/([0-9a-f-]{36})/deactivate"', r.text, re.S
    )
    account_id = row
    assert account_id
    r = await b.post(f"/console/platform/bureau/{account_id.group(1)}/deactivate", {})
    assert r.status_code == 303
    assert (await client.get("/api/v1/auth/me", headers=viewer.headers)).status_code == 401
    r = await b.get(r.headers["location"])
    assert "已停用" in r.text


async def test_times_are_shown_in_each_university_s_zone(web, db, client, platform_token, make_tenant):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    b = await _signed_in(web, db)
    t = await make_tenant(timezone="Asia/Urumqi")
    created = (await client.get(f"/api/v1/platform/tenants/{t.id}", headers=auth(platform_token))).json()["created_at"]
    local = datetime.fromisoformat(created).astimezone(ZoneInfo("Asia/Urumqi")).strftime("%Y-%m-%d %H:%M")
    assert local in (await b.get(f"/console/platform/tenants/{t.id}")).text
    assert local in (await b.get("/console/platform", params={"q": t.slug})).text


async def test_a_platform_admin_signing_in_on_the_staff_page_lands_on_the_platform_pages(web, db):
    """Without a university code the staff sign-in admits a platform account too: it lands on its own pages (its
    issued password first), not on the staff queue it may not open."""
    for issued, home in ((False, "/console/platform"), (True, "/console/platform/password")):
        email, password = await _platform_admin(db, issued=issued)
        b: Browser = web()
        await b.get("/console/login")
        r = await b.post("/console/login", {"tenant": "", "email": email, "password": password})
        assert r.status_code == 303 and r.headers["location"] == home, r.text
        assert (await b.get(home)).status_code == 200
