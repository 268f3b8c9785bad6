"""Signing in and out of the console: the API's sign-in service, its throttling and its session versions."""

from __future__ import annotations

from tests.support.forms import Browser
from tests.support.platform import changed


async def _issued_account(client, tenant, role="staff"):
    import uuid

    email = f"{role}-{uuid.uuid4().hex[:8]}@{tenant.slug}.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": role, "display_name": "王五"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    return email, "a-long-password-1"


async def test_login_page_is_chinese_first_with_an_english_switch(web, tenant):
    b: Browser = web()
    r = await b.get("/console/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text and "学校代码" in r.text
    r = await b.get("/console/login?lang=en")
    assert '<html lang="en">' in r.text and "University code" in r.text
    # The choice is remembered.
    r = await b.get("/console/login")
    assert "University code" in r.text


async def test_pages_carry_a_strict_content_security_policy(web):
    b: Browser = web()
    r = await b.get("/console/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in r.text and "style=" not in r.text


async def test_sign_in_forces_the_issued_password_to_be_changed_then_the_queue(web, client, tenant):
    email, issued = await _issued_account(client, tenant)
    b: Browser = web()
    r = await b.sign_in(tenant.slug, email, issued)
    assert r.status_code == 303 and r.headers["location"] == "/console/password"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("xf_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    # Until the password is changed, the queue sends back to the password form.
    r = await b.get("/console/queue")
    assert r.status_code == 303 and r.headers["location"] == "/console/password"
    await b.get("/console/password")
    r = await b.post("/console/password", {"current_password": issued, "new_password": changed(issued)})
    assert r.status_code == 303, r.text
    r = await b.get("/console/queue")
    assert r.status_code == 200 and "我的待办" in r.text


async def test_a_weak_new_password_is_refused_with_its_reasons_in_chinese(web, client, tenant):
    email, issued = await _issued_account(client, tenant)
    b: Browser = web()
    await b.sign_in(tenant.slug, email, issued)
    await b.get("/console/password")
    r = await b.post("/console/password", {"current_password": issued, "new_password": "short"})
    assert r.status_code == 422 and "至少" in r.text
    r = await b.post("/console/password", {"current_password": "not-it", "new_password": changed(issued)})
    assert r.status_code == 401 and "当前密码不正确" in r.text


async def test_a_wrong_password_is_answered_on_the_page_and_throttled_like_the_api(web, client, tenant):
    b: Browser = web()
    r = await b.sign_in(tenant.slug, tenant.admin_email, "wrong-password")
    assert r.status_code == 401 and "不正确" in r.text
    # Wrong university: the same answer.
    r = await b.sign_in("no-such-university", tenant.admin_email, tenant.admin_password)
    assert r.status_code == 401 and "不正确" in r.text


async def test_sign_out_ends_the_session_for_real(web, tenant):
    b: Browser = web()
    r = await b.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)
    assert r.status_code == 303 and r.headers["location"] == "/console/queue"
    stolen = b.client.cookies.get("xf_session")
    await b.get("/console/queue")
    r = await b.post("/console/logout", {})
    assert r.status_code == 303
    # The cookie is cleared, and a copy of it kept elsewhere no longer works either.
    other: Browser = web()
    other.client.cookies.set("xf_session", stolen, domain="testserver")
    r = await other.get("/console/queue")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


async def test_a_password_change_through_the_api_ends_the_console_session(web, client, tenant):
    b: Browser = web()
    r = await b.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)
    assert r.status_code == 303
    assert (await b.get("/console/queue")).status_code == 200
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": tenant.admin_password, "new_password": tenant.admin_password + "-2"},
        headers=tenant.headers,
    )
    assert r.status_code == 200, r.text
    tenant.admin_password += "-2"
    tenant.admin_token = r.json()["access_token"]
    r = await b.get("/console/queue")
    assert r.status_code == 303 and r.headers["location"] == "/console/login?ended=1"


async def test_a_form_without_its_csrf_token_is_refused_with_a_page(web, tenant):
    b: Browser = web()
    await b.get("/console/login")
    r = await b.client.post(
        "/console/login", data={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.admin_password}
    )
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html") and "出错了" in r.text
    assert "Traceback" not in r.text


async def test_a_petitioner_account_has_no_console(web, client, tenant):
    import uuid

    email = f"p-{uuid.uuid4().hex[:6]}@{tenant.slug}.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": "petitioner", "display_name": "学生"},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    b: Browser = web()
    r = await b.sign_in(tenant.slug, email, "a-long-password-1")
    assert r.status_code == 303
    for page in ("/console/password?lang=en", "/console/queue?lang=en"):
        r = await b.get(page)
        assert r.status_code == 403 and "You may not do this" in r.text


async def test_unknown_console_paths_are_a_404_page_in_the_users_language(web):
    b: Browser = web()
    r = await b.get("/console/no-such-page?lang=en")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "does not exist" in r.text
    # The API keeps its problem documents.
    r = await b.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_refusals_before_the_route_are_pages_too(web):
    b: Browser = web()
    r = await b.get("/console/queue?lang=en", headers={"Authorization": "Basic eDp5"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html") and "Please sign in" in r.text
    # The API's answer to the same refusal is still a problem document.
    r = await b.get("/api/v1/auth/me", headers={"Authorization": "Basic eDp5"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
