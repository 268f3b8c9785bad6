"""Sign-in, tokens, accounts, API keys and roles; another university's ids are always 404."""

from __future__ import annotations

import uuid

from tests.support.journal import db_events
from tests.support.platform import auth, sign_in
from tests.support.problems import assert_problem


async def login(client, tenant, email, password):
    return await client.post("/api/v1/auth/login", json={"tenant": tenant.slug, "email": email, "password": password})


async def test_login_refresh_logout(client, tenant):
    r = await login(client, tenant, tenant.admin_email.upper(), tenant.admin_password)
    assert r.status_code == 200
    pair = r.json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] > 0
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    assert_problem(await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["access_token"]}), 401)
    assert (await client.post("/api/v1/auth/logout", headers=auth(pair["access_token"]))).status_code == 204
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401, "token-revoked"
    )


async def test_wrong_credentials_are_401_without_saying_which_part(client, tenant):
    a = assert_problem(await login(client, tenant, tenant.admin_email, "wrong-password-x"), 401, "bad-credentials")
    b = assert_problem(await login(client, tenant, "nobody@x.edu.cn", "wrong-password-x"), 401, "bad-credentials")
    assert a["detail"] == b["detail"]
    # An unknown university answers the same (it was a 404 that enumerated slugs).
    c = assert_problem(
        await client.post(
            "/api/v1/auth/login", json={"tenant": "no-such-university", "email": "a@b.cn", "password": "x"}
        ),
        401,
        "bad-credentials",
    )
    assert c["detail"] == a["detail"]


async def test_accounts_roles_and_deactivation(client, db, tenant):
    r = await client.post(
        "/api/v1/accounts/",
        headers=tenant.headers,
        json={
            "email": "Staff@Example.edu.cn",
            "password": "staff-password-1",
            "role": "staff",
            "display_name": "李老师",
        },
    )
    assert r.status_code == 201, r.text
    staff = r.json()
    assert staff["email"] == "staff@example.edu.cn" and staff["display_name"] == "李老师"
    assert_problem(
        await client.post(
            "/api/v1/accounts/",
            headers=tenant.headers,
            json={"email": "staff@example.edu.cn", "password": "staff-password-1", "role": "staff"},
        ),
        409,
        "email-taken",
    )
    signed_in = await sign_in(client, tenant.slug, "staff@example.edu.cn", "staff-password-1")
    token = signed_in.token
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(token)), 403, "forbidden")
    assert_problem(
        await client.post("/api/v1/api-keys/", json={"name": "k", "scopes": ["events:read"]}, headers=auth(token)),
        403,
        "forbidden",
    )
    r = await client.patch(f"/api/v1/accounts/{staff['id']}", headers=tenant.headers, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert_problem(await login(client, tenant, "staff@example.edu.cn", signed_in.password), 401)
    types = [e.type for e in await db_events(db, tenant.id)]
    assert types.count("account.created") == 2 and "account.updated" in types


async def test_api_keys_are_shown_once_scoped_and_revocable(client, tenant):
    r = await client.post(
        "/api/v1/api-keys/", headers=tenant.headers, json={"name": "data warehouse", "scopes": ["events:read"]}
    )
    assert r.status_code == 201
    created = r.json()
    secret, key_id = created["secret"], created["key"]["id"]
    listed = await client.get("/api/v1/api-keys/", headers=tenant.headers)
    assert secret not in listed.text and key_id in listed.text
    events = await client.get("/api/v1/journal/", headers={"X-API-Key": secret})
    assert events.status_code == 200
    assert "api_key.created" in [e["type"] for e in events.json()["items"]]
    assert (await client.get("/api/v1/journal/", headers=auth(secret))).status_code == 200  # Bearer works too
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(secret)), 403)
    # The accounts routes take bearer tokens only: a key in X-API-Key is no credential there.
    assert_problem(await client.get("/api/v1/accounts/", headers={"X-API-Key": secret}), 401, "scheme-not-accepted")
    assert_problem(
        await client.post("/api/v1/api-keys/", headers=tenant.headers, json={"name": "x", "scopes": ["root"]}), 422
    )
    assert (await client.delete(f"/api/v1/api-keys/{key_id}", headers=tenant.headers)).status_code == 204
    assert_problem(await client.get("/api/v1/journal/", headers={"X-API-Key": secret}), 401)
    tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    assert_problem(await client.get("/api/v1/journal/", headers={"X-API-Key": tampered}), 401)


async def test_journal_pages_in_order(client, tenant):
    for i in range(3):
        await client.post("/api/v1/api-keys/", headers=tenant.headers, json={"name": f"k{i}", "scopes": ["open311"]})
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = (await client.get("/api/v1/journal/", params=params, headers=tenant.headers)).json()
        seen += page["items"]
        after = page["next_cursor"]
        if not after:
            break
    assert [e["type"] for e in seen].count("api_key.created") == 3
    assert [e["occurred_at"] for e in seen] == sorted(e["occurred_at"] for e in seen)
    only = (await client.get("/api/v1/journal/?type=api_key.created", headers=tenant.headers)).json()["items"]
    assert {e["type"] for e in only} == {"api_key.created"}


async def test_another_universitys_ids_are_404(client, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    account = (
        await client.post(
            "/api/v1/accounts/",
            headers=a.headers,
            json={"email": "s@a.edu.cn", "password": "staff-password-1", "role": "staff"},
        )
    ).json()
    key = (
        await client.post("/api/v1/api-keys/", headers=a.headers, json={"name": "k", "scopes": ["events:read"]})
    ).json()["key"]
    for method, url, body in [
        ("GET", f"/api/v1/accounts/{account['id']}", None),
        ("PATCH", f"/api/v1/accounts/{account['id']}", {"active": False}),
        ("DELETE", f"/api/v1/api-keys/{key['id']}", None),
    ]:
        r = await client.request(method, url, json=body, headers=b.headers)
        assert_problem(r, 404)
    assert account["id"] not in (await client.get("/api/v1/accounts/", headers=b.headers)).text
    # The resources are untouched in their own university.
    assert (await client.get(f"/api/v1/accounts/{account['id']}", headers=a.headers)).json()["active"] is True
    b_events = (await client.get("/api/v1/journal/?limit=500", headers=b.headers)).json()["items"]
    assert all(e["subject_id"] not in (account["id"], key["id"]) for e in b_events)
    assert uuid.UUID(account["id"])
