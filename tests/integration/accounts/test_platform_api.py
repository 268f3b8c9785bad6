"""Onboarding and the platform admin API."""

from __future__ import annotations

import uuid

from tests.support.journal import journal_types
from tests.support.platform import auth, sign_in
from tests.support.problems import assert_problem


async def test_onboarding_creates_a_university_its_admin_and_journal(client, db, platform_token, make_tenant):
    t = await make_tenant(province_code="110108", timezone="Asia/Urumqi")
    r = await client.get(f"/api/v1/platform/tenants/{t.id}", headers=auth(platform_token))
    assert r.status_code == 200
    body = r.json()
    assert (body["slug"], body["province_code"], body["timezone"], body["status"]) == (
        t.slug,
        "110108",
        "Asia/Urumqi",
        "active",
    )
    # The admin's one-time password was changed at the first sign-in (tests.conftest.onboard).
    assert await journal_types(db, t.id) == ["account.created", "tenant.created", "account.password_changed"]
    listed = await client.get("/api/v1/platform/tenants?limit=200", headers=auth(platform_token))
    assert t.slug in [x["slug"] for x in listed.json()["items"]]


async def test_onboarding_refuses_bad_input_and_duplicates(client, platform_token, tenant):
    url, h = "/api/v1/platform/tenants", auth(platform_token)
    good = {
        "slug": "x-" + uuid.uuid4().hex[:8],
        "name_zh": "大学",
        "name_en": "U",
        "province_code": "440000",
        "admin_email": "a@u.edu.cn",
    }
    body = assert_problem(
        await client.post(
            url, json={**good, "slug": "Bad Slug", "province_code": "990000", "timezone": "Nowhere/X"}, headers=h
        ),
        422,
        "validation",
    )
    assert {e["field"] for e in body["errors"]} == {"slug", "province_code", "timezone"}
    assert_problem(await client.post(url, json={**good, "slug": tenant.slug}, headers=h), 409, "slug-taken")
    assert_problem(await client.post(url, json={**good, "province_code": "44"}, headers=h), 400)
    assert_problem(await client.post(url, json=good, headers=tenant.headers), 403)
    assert_problem(await client.post(url, json=good), 401)
    assert (await client.get(f"/api/v1/platform/tenants/{uuid.uuid4()}", headers=h)).status_code == 404


async def test_pagination_walks_every_university_once(client, platform_token, make_tenant):
    for _ in range(3):
        await make_tenant()
    seen, cursor = [], None
    while True:
        r = await client.get(
            "/api/v1/platform/tenants",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=auth(platform_token),
        )
        page = r.json()
        seen += [t["slug"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 3
    assert seen == sorted(seen)


async def test_suspension_locks_out_tokens_keys_and_logins_until_reactivated(client, db, platform_token, tenant):
    key = (
        await client.post("/api/v1/api-keys/", json={"name": "erp", "scopes": ["events:read"]}, headers=tenant.headers)
    ).json()["secret"]
    refresh = (
        await client.post(
            "/api/v1/auth/login",
            json={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.admin_password},
        )
    ).json()["refresh_token"]
    r = await client.post(f"/api/v1/platform/tenants/{tenant.id}/suspend", headers=auth(platform_token))
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert_problem(await client.get("/api/v1/accounts/", headers=tenant.headers), 403, "tenant-suspended")
    assert_problem(await client.get("/api/v1/journal/", headers={"X-API-Key": key}), 403, "tenant-suspended")
    assert_problem(
        await client.post(
            "/api/v1/auth/login",
            json={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.admin_password},
        ),
        403,
        "tenant-suspended",
    )
    assert_problem(await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}), 403, "tenant-suspended")
    r = await client.post(f"/api/v1/platform/tenants/{tenant.id}/reactivate", headers=auth(platform_token))
    assert r.json()["status"] == "active"
    assert (await client.get("/api/v1/accounts/", headers=tenant.headers)).status_code == 200
    assert (await client.get("/api/v1/journal/", headers={"X-API-Key": key})).status_code == 200
    types = await journal_types(db, tenant.id)
    assert types[-2:] == ["tenant.suspended", "tenant.reactivated"]


async def test_platform_accounts_and_bureau_viewers(client, platform_token):
    h = auth(platform_token)
    email = f"bureau-{uuid.uuid4().hex[:6]}@edu.gd.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        headers=h,
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": "440000"},
    )
    assert r.status_code == 201, r.text
    assert_problem(
        await client.post(
            "/api/v1/platform/accounts",
            headers=h,
            json={"email": "b2@x.cn", "password": "bureau-password-1", "role": "bureau_viewer"},
        ),
        422,
    )
    assert_problem(
        await client.post(
            "/api/v1/platform/accounts",
            headers=h,
            json={"email": "b3@x.cn", "password": "bureau-password-1", "role": "staff"},
        ),
        422,
    )
    signed_in = await sign_in(client, None, email, "bureau-password-1")
    me = (await client.get("/api/v1/auth/me", headers=signed_in.headers)).json()
    assert (me["role"], me["province_code"], me["tenant_id"]) == ("bureau_viewer", "440000", None)
    bureau = signed_in.headers
    assert_problem(await client.get("/api/v1/platform/tenants", headers=bureau), 403)
    assert_problem(await client.get("/api/v1/accounts/", headers=bureau), 403)
