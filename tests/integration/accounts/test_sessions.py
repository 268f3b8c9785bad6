"""Sessions and passwords: revocation that reaches access tokens, the forced change of issued passwords, resets,
the password policy, sign-in throttling, and one answer for every kind of wrong sign-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import msgspec

from tests.support.journal import journal_types
from tests.support.platform import auth, changed, sign_in
from tests.support.problems import assert_problem

LOGIN = "/api/v1/auth/login"
PASSWORD = "/api/v1/auth/password"


async def _staff(client: Any, tenant: Any, role: str = "staff", password: str = "issued-password-77") -> tuple:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.edu.cn"
    r = await client.post(
        "/api/v1/accounts/", json={"email": email, "password": password, "role": role}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    return email, r.json()["id"]


async def test_logout_ends_the_access_token_too(client, tenant):
    email, _ = await _staff(client, tenant)
    me = await sign_in(client, tenant.slug, email, "issued-password-77")
    assert (await client.get("/api/v1/auth/me", headers=me.headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=me.headers)).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=me.headers), 401, "token-revoked")


async def test_demotion_and_deactivation_reach_access_tokens_at_once(client, tenant):
    email, account_id = await _staff(client, tenant, role="tenant_admin")
    other = await sign_in(client, tenant.slug, email, "issued-password-77")
    assert (await client.get("/api/v1/accounts/", headers=other.headers)).status_code == 200
    r = await client.patch(f"/api/v1/accounts/{account_id}", json={"role": "staff"}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    # The old token carried tenant_admin: it is stale now, not a 15-minute admin.
    assert_problem(await client.get("/api/v1/accounts/", headers=other.headers), 401, "token-revoked")
    demoted = await sign_in(client, tenant.slug, email, other.password)
    assert_problem(await client.get("/api/v1/accounts/", headers=demoted.headers), 403, "forbidden")
    r = await client.patch(f"/api/v1/accounts/{account_id}", json={"active": False}, headers=tenant.headers)
    assert r.status_code == 200
    assert_problem(
        await client.post("/api/v1/api-keys/", json={"name": "k", "scopes": ["org:read"]}, headers=demoted.headers),
        401,
        "token-revoked",
    )


async def test_an_issued_password_must_be_changed_before_anything_else(client, db, tenant):
    email, _ = await _staff(client, tenant)
    login = await client.post(LOGIN, json={"tenant": tenant.slug, "email": email, "password": "issued-password-77"})
    assert login.status_code == 200
    pair = login.json()
    assert pair["password_change_required"] is True
    first = auth(pair["access_token"])
    body = assert_problem(await client.get("/api/v1/org/units", headers=first), 403, "password-change-required")
    assert PASSWORD in body["detail"]
    assert (await client.get("/api/v1/auth/me", headers=first)).json()["password_change_required"] is True
    # A weak or unchanged new password is refused, with every reason listed.
    for weak, reason in (
        ("short-1", "at least"),
        ("issued-password-77", "differ"),
        ("password1234", "common"),
        (email, "email"),
        (tenant.slug + "!!", "university"),
    ):
        r = await client.post(
            PASSWORD, json={"current_password": "issued-password-77", "new_password": weak}, headers=first
        )
        problem = assert_problem(r, 422, "weak-password")
        assert any(reason in e["message"] for e in problem["errors"]), (weak, problem)
    r = await client.post(
        PASSWORD, json={"current_password": "wrong-password-00", "new_password": "x" * 20}, headers=first
    )
    assert_problem(r, 401, "bad-credentials")
    r = await client.post(
        PASSWORD, json={"current_password": "issued-password-77", "new_password": "my-own-secret-42"}, headers=first
    )
    assert r.status_code == 200, r.text
    assert r.json()["password_change_required"] is False
    assert (await client.get("/api/v1/org/units", headers=auth(r.json()["access_token"]))).status_code == 200
    # The change ends the other sessions, and the old password.
    assert_problem(await client.get("/api/v1/auth/me", headers=first), 401, "token-revoked")
    assert_problem(
        await client.post(LOGIN, json={"tenant": tenant.slug, "email": email, "password": "issued-password-77"}), 401
    )
    again = await client.post(LOGIN, json={"tenant": tenant.slug, "email": email, "password": "my-own-secret-42"})
    assert again.json()["password_change_required"] is False
    assert "account.password_changed" in await journal_types(db, tenant.id)


async def test_an_admin_resets_a_password_once(client, db, tenant, make_tenant):
    email, account_id = await _staff(client, tenant)
    mine = await sign_in(client, tenant.slug, email, "issued-password-77")
    r = await client.post(f"/api/v1/accounts/{account_id}/password-reset", headers=tenant.headers)
    assert r.status_code == 200, r.text
    one_time = r.json()["password"]
    assert_problem(await client.get("/api/v1/auth/me", headers=mine.headers), 401, "token-revoked")
    assert_problem(
        await client.post(LOGIN, json={"tenant": tenant.slug, "email": email, "password": mine.password}), 401
    )
    reset = await sign_in(client, tenant.slug, email, one_time)
    assert reset.password == changed(one_time)
    assert_problem(await client.post(f"/api/v1/accounts/{account_id}/password-reset", headers=mine.headers), 401)
    other = await make_tenant()
    assert_problem(await client.post(f"/api/v1/accounts/{account_id}/password-reset", headers=other.headers), 404)
    assert "account.password_reset" in await journal_types(db, tenant.id)


async def test_an_admin_cannot_issue_a_weak_password(client, tenant):
    r = await client.post(
        "/api/v1/accounts/",
        json={"email": "weak@example.edu.cn", "password": "qwertyuiop123", "role": "staff"},
        headers=tenant.headers,
    )
    assert_problem(r, 422, "weak-password")


async def test_an_unknown_university_answers_like_a_wrong_password(client, tenant):
    wrong = assert_problem(
        await client.post(LOGIN, json={"tenant": tenant.slug, "email": tenant.admin_email, "password": "nope-nope-12"}),
        401,
        "bad-credentials",
    )
    unknown = assert_problem(
        await client.post(
            LOGIN, json={"tenant": "no-such-u-" + uuid.uuid4().hex[:6], "email": "a@b.cn", "password": "x"}
        ),
        401,
        "bad-credentials",
    )
    assert (wrong["title"], wrong["detail"]) == (unknown["title"], unknown["detail"])


async def _throttled_app(settings: Any, **limits: Any) -> Any:
    from service.http.app import create_app

    return create_app(msgspec.structs.replace(settings, **limits))


async def test_sign_in_backs_off_per_account_with_growing_waits(clock, settings, tenant):
    from service.http.app import app_resources

    app = await _throttled_app(settings, sign_in_account_failures=3, sign_in_backoff_seconds=30)
    transport = httpx.ASGITransport(app=app, client=("10.1.0.1", 1))
    async with app_resources(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        wrong = {"tenant": tenant.slug, "email": tenant.admin_email, "password": "wrong-password-0"}
        right = {**wrong, "password": tenant.admin_password}
        for _ in range(3):
            assert_problem(await c.post(LOGIN, json=wrong), 401, "bad-credentials")
        # Locked: even the right password waits, and the answer says how long.
        r = await c.post(LOGIN, json=right)
        assert_problem(r, 429, "sign-in-throttled")
        assert 25 <= int(r.headers["retry-after"]) <= 31
        clock.shift(dt.timedelta(seconds=31))
        assert_problem(await c.post(LOGIN, json=wrong), 401)
        r = await c.post(LOGIN, json=right)
        assert_problem(r, 429, "sign-in-throttled")
        assert 55 <= int(r.headers["retry-after"]) <= 61  # the wait doubles
        clock.shift(dt.timedelta(seconds=61))
        assert (await c.post(LOGIN, json=right)).status_code == 200
        # A success forgets the failures.
        assert_problem(await c.post(LOGIN, json=wrong), 401, "bad-credentials")
        # An unknown university is throttled the same way: nothing tells it apart.
        ghost = {"tenant": "ghost-" + uuid.uuid4().hex[:6], "email": "a@b.cn", "password": "wrong-password-0"}
        for _ in range(3):
            assert_problem(await c.post(LOGIN, json=ghost), 401, "bad-credentials")
        assert_problem(await c.post(LOGIN, json=ghost), 429, "sign-in-throttled")


async def test_sign_in_backs_off_per_client(clock, settings, make_tenant):
    from service.http.app import app_resources

    a, b = await make_tenant(), await make_tenant()
    app = await _throttled_app(settings, sign_in_client_failures=4, sign_in_backoff_seconds=10)
    transport = httpx.ASGITransport(app=app, client=("10.2.0.2", 1))
    elsewhere = httpx.ASGITransport(app=app, client=("10.2.0.3", 1))
    async with (
        app_resources(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
        httpx.AsyncClient(transport=elsewhere, base_url="http://t") as d,
    ):
        for i in range(4):
            t = (a, b)[i % 2]
            email = f"guess{i}@{t.slug}.edu.cn"
            assert_problem(
                await c.post(LOGIN, json={"tenant": t.slug, "email": email, "password": "guess-guess-1"}), 401
            )
        r = await c.post(LOGIN, json={"tenant": a.slug, "email": a.admin_email, "password": a.admin_password})
        assert_problem(r, 429, "sign-in-throttled")
        assert int(r.headers["retry-after"]) >= 1
        # Another client signs in undisturbed.
        r = await d.post(LOGIN, json={"tenant": a.slug, "email": a.admin_email, "password": a.admin_password})
        assert r.status_code == 200
        clock.shift(dt.timedelta(seconds=11))
        r = await c.post(LOGIN, json={"tenant": a.slug, "email": a.admin_email, "password": a.admin_password})
        assert r.status_code == 200


async def test_guessing_the_current_password_is_throttled_too(clock, settings, tenant):
    from service.http.app import app_resources

    app = await _throttled_app(settings, sign_in_account_failures=2, sign_in_backoff_seconds=30)
    transport = httpx.ASGITransport(app=app, client=("10.3.0.3", 1))
    async with app_resources(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        guess = {"current_password": "not-my-password-1", "new_password": "a-brand-new-secret-9"}
        for _ in range(2):
            assert_problem(await c.post(PASSWORD, json=guess, headers=tenant.headers), 401, "bad-credentials")
        right = {**guess, "current_password": tenant.admin_password}
        r = await c.post(PASSWORD, json=right, headers=tenant.headers)
        assert_problem(r, 429, "sign-in-throttled")
        assert int(r.headers["retry-after"]) >= 25
        clock.shift(dt.timedelta(seconds=31))
        assert (await c.post(PASSWORD, json=right, headers=tenant.headers)).status_code == 200


async def test_a_cached_session_gives_way_to_a_newer_token_from_another_replica(client, tenant, settings, app):
    """Replicas cache session versions for XINFANG_TENANT_CACHE_SECONDS. A password changed through one replica
    gives a newer token; another replica that cached the older version must take the newer token (its cache is
    stale), not refuse it. Found by the PgBouncer + RabbitMQ scale-out test with two API replicas."""
    from service.http.security import Authenticator

    email, _ = await _staff(client, tenant)
    login = await client.post(LOGIN, json={"tenant": tenant.slug, "email": email, "password": "issued-password-77"})
    old_token = login.json()["access_token"]
    other = Authenticator(app.state.db, app.state.tokens, msgspec.structs.replace(settings, tenant_cache_seconds=60))
    # Each call in a task of its own, like a request: what authenticating sets in its context stays there.
    assert (await asyncio.create_task(other.authenticate(old_token))).subject_id is not None  # the old version
    r = await client.post(
        PASSWORD,
        json={"current_password": "issued-password-77", "new_password": changed("issued-password-77")},
        headers=auth(old_token),
    )
    assert r.status_code == 200, r.text
    new = await asyncio.create_task(other.authenticate(r.json()["access_token"]))
    assert new.subject_id is not None and not new.must_change_password
