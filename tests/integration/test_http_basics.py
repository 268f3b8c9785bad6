"""HTTP basics: ops endpoints, the OpenAPI document, and problem responses for every kind of bad request."""

from __future__ import annotations

import asyncio
import uuid

import jwt
import msgspec
import pytest
from sqlalchemy import func, select

from tenants.db import tenant_context
from tenants.identity import Account, Principal, Role, Tokens
from tenants.journal import JournalEvent
from tests.support.platform import auth
from tests.support.problems import assert_problem


async def test_health_ready_metrics(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200


def _sample(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


async def test_metrics_count_requests_by_route_template_and_status(client):
    """The request middleware records each answer (refusals included) by route template, never by raw path."""
    count = 'xinfang_requests_total{method="GET",route="/api/v1/petitions/{petition_id}",status="401"}'
    latency = 'xinfang_request_duration_seconds_count{method="GET",route="/api/v1/petitions/{petition_id}"}'
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get(f"/api/v1/petitions/{uuid.uuid4()}")).status_code == 401
    after = (await client.get("/metrics")).text
    assert _sample(after, count) - _sample(before, count) == 3
    assert _sample(after, latency) - _sample(before, latency) == 3
    assert "/api/v1/petitions/0" not in after and "/api/v1/petitions/1" not in after


async def test_every_response_carries_a_request_id(client):
    r = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces" and len(r.headers["x-request-id"]) == 32


async def test_openapi_documents_security_of_each_route(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert {"bearer", "apiKey"} <= set(doc["components"]["securitySchemes"])
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if (path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/")) or path.endswith("/me"):
                assert op.get("security"), f"{method.upper()} {path} declares no security"
    assert (await client.get("/schema")).status_code == 200


@pytest.fixture
async def counts(db, tenant):
    async def snapshot() -> tuple[int, int]:
        with tenant_context(tenant.id):
            async with db.transaction() as s:
                return (
                    await s.scalar(select(func.count()).select_from(Account)),
                    await s.scalar(select(func.count()).select_from(JournalEvent)),
                )

    return snapshot


async def test_bad_bodies_get_problems_and_write_nothing(client, tenant, counts, settings):
    before = await counts()
    url = "/api/v1/accounts/"
    h = {**tenant.headers, "content-type": "application/json"}
    good = {"email": "x@example.edu.cn", "password": "long-enough-password", "role": "staff"}
    body = assert_problem(await client.post(url, content=b'{"email": ', headers=h), 400)
    assert "malformed" in body["type"] or "bad-request" in body["type"] or "invalid" in body["type"]
    assert_problem(await client.post(url, json={**good, "role": 7}, headers=tenant.headers), 400, "invalid-request")
    body = assert_problem(
        await client.post(url, json={**good, "is_admin": True}, headers=tenant.headers), 400, "invalid-request"
    )
    assert "is_admin" in str(body)
    assert_problem(await client.post(url, json={**good, "role": "emperor"}, headers=tenant.headers), 400)
    assert_problem(await client.post(url, json={**good, "password": "short"}, headers=tenant.headers), 400)
    assert_problem(await client.post(url, json={**good, "email": "nope"}, headers=tenant.headers), 422, "validation")
    assert_problem(
        await client.post(url, json={**good, "role": "platform_admin"}, headers=tenant.headers), 422, "validation"
    )
    big = b'{"email": "' + b"a" * (settings.max_body_bytes + 10) + b'"}'
    assert_problem(await client.post(url, content=big, headers=h), 413)
    assert_problem(
        await client.post(
            url, content=msgspec.json.encode(good), headers={**tenant.headers, "content-type": "text/plain"}
        ),
        415,
    )
    assert await counts() == before


async def test_routing_errors_are_problems(client, tenant):
    assert_problem(await client.get("/api/v1/nothing-here", headers=tenant.headers), 404)
    assert_problem(await client.put("/api/v1/accounts/", json={}, headers=tenant.headers), 405)
    assert_problem(await client.get("/api/v1/accounts/not-a-uuid", headers=tenant.headers), 404)
    assert_problem(await client.get("/api/v1/accounts/?limit=100000", headers=tenant.headers), 400)


async def test_credentials_are_checked(client, tenant, settings):
    assert_problem(await client.get("/api/v1/accounts/"), 401, "unauthorized")
    assert_problem(await client.get("/api/v1/accounts/", headers=auth("garbage")), 401, "invalid-token")
    assert_problem(await client.get("/api/v1/accounts/", headers={"Authorization": "Basic abc"}), 401)
    principal = Principal(kind="account", role=Role.tenant_admin, subject_id=tenant.id, tenant_id=tenant.id)
    forged = Tokens("another-secret-" * 4, access_ttl=60, refresh_ttl=60).issue(principal, 1).access_token
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(forged)), 401, "invalid-token")
    expired = Tokens(settings.secret_key, access_ttl=-10, refresh_ttl=60).issue(principal, 1).access_token
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(expired)), 401, "token-expired")
    refresh = Tokens(settings.secret_key, access_ttl=60, refresh_ttl=60).issue(principal, 1).refresh_token
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(refresh)), 401, "invalid-token")
    assert_problem(await client.get("/api/v1/accounts/", headers={"X-API-Key": "xfk_bad"}), 401, "invalid-token")


async def test_a_verified_token_is_refused_once_it_expires(client, tenant, settings):
    # Verified access tokens are cached per process; the cache must not outlive the token.
    # The admin's own account and session version: a token of no account is refused before it expires.
    claims = jwt.decode(tenant.admin_token, options={"verify_signature": False})
    principal = Principal(
        kind="account", role=Role.tenant_admin, subject_id=uuid.UUID(claims["sub"]), tenant_id=tenant.id
    )
    short = Tokens(settings.secret_key, access_ttl=2, refresh_ttl=60).issue(principal, claims["ver"]).access_token
    assert (await client.get("/api/v1/accounts/", headers=auth(short))).status_code == 200
    await asyncio.sleep(3.1)
    assert_problem(await client.get("/api/v1/accounts/", headers=auth(short)), 401, "token-expired")


async def test_rate_limits_answer_429_with_retry_after(settings):
    import httpx

    from service.http.app import app_resources, create_app

    app = create_app(msgspec.structs.replace(settings, rate_limit_client_per_minute=3))
    async with app_resources(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            statuses = [(await c.get("/health")).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            r = await c.get("/health")
            body = assert_problem(r, 429, "rate-limited")
            assert 1 <= int(r.headers["retry-after"]) <= 61
            assert body["detail"]


async def test_database_down_gives_503_with_retry_after(settings):
    import httpx

    from service.http.app import app_resources, create_app

    down = msgspec.structs.replace(settings, app_database_url="postgresql://xinfang_app@127.0.0.1:9/none")
    app = create_app(down)
    transport = httpx.ASGITransport(app=app)
    async with app_resources(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.post("/api/v1/auth/login", json={"tenant": "demo", "email": "a@b.cn", "password": "x" * 12})
        assert_problem(r, 503)
        assert r.headers["retry-after"] == "5"
        ready = await c.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unavailable")


async def test_a_bad_body_lists_every_invalid_field_with_its_json_pointer(client, tenant, counts):
    before = await counts()
    bad = {
        "held_on": "not-a-date",
        "kind": "party",
        "topic": 5,
        "participants": ["0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e", "nope"],
        "colour": "red",
    }
    body = assert_problem(
        await client.post("/api/v1/training/sessions", json=bad, headers=tenant.headers), 400, "invalid-request"
    )
    got = {e["pointer"]: e for e in body["errors"]}
    assert set(got) == {"/held_on", "/kind", "/topic", "/participants/1", "/colour"}, body["errors"]
    assert got["/colour"]["message"] == "unknown field"
    assert got["/participants/1"]["field"] == "participants[1]"
    assert all(e["source"] == "body" and e["message"] for e in body["errors"])
    # A missing required field is listed beside the wrong ones.
    body = assert_problem(
        await client.post("/api/v1/training/sessions", json={"kind": "party"}, headers=tenant.headers), 400
    )
    messages = {e["pointer"]: e["message"] for e in body["errors"]}
    assert set(messages) == {"/held_on", "/kind", "/topic"}
    assert messages["/held_on"] == messages["/topic"] == "required"
    assert "Invalid enum value 'party'" in messages["/kind"]
    assert await counts() == before


async def test_domain_validation_errors_carry_json_pointers_too(client, tenant):
    body = assert_problem(
        await client.post(
            "/api/v1/training/sessions",
            json={"held_on": "2026-11-01", "kind": "drill", "topic": "演练", "participants": [str(uuid.uuid4())]},
            headers=tenant.headers,
        ),
        422,
    )
    assert [(e["field"], e["pointer"]) for e in body["errors"]] == [("participants[0]", "/participants/0")]
