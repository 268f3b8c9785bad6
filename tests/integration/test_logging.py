"""Log lines carry the request and tenant ids, name route templates, and never personal data."""

from __future__ import annotations

import json

import msgspec


async def test_access_log_lines_carry_ids_and_no_personal_data(settings, tenant, capfd):
    import httpx

    from service.http.app import app_resources, create_app

    app = create_app(msgspec.structs.replace(settings, log_level="info", log_format="json"))
    try:
        async with (
            app_resources(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            err = await _exercise(client, tenant, capfd)
    finally:
        from service.ops.logging import configure_logging

        configure_logging(settings)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [
        line for line in lines if line.get("event") == "request" and line.get("request_id", "").startswith("req-log")
    ]
    assert [line["request_id"] for line in access] == ["req-log-1", "req-log-2"]
    assert all(line["tenant_id"] == str(tenant.id) for line in access)
    assert access[1]["route"] == "/api/v1/accounts/{account_id}"
    for secret in ("wang.fang", "secret-password-9", "王芳"):
        assert secret not in err


async def _exercise(client, tenant, capfd):
    capfd.readouterr()
    r = await client.post(
        "/api/v1/accounts/",
        headers={**tenant.headers, "X-Request-ID": "req-log-1"},
        json={
            "email": "wang.fang@example.edu.cn",
            "password": "secret-password-9",
            "role": "staff",
            "display_name": "王芳",
        },
    )
    assert r.status_code == 201
    await client.get(f"/api/v1/accounts/{r.json()['id']}", headers={**tenant.headers, "X-Request-ID": "req-log-2"})
    return capfd.readouterr().err


async def test_the_tenant_rate_limit_counts_every_client_of_a_university(settings, tenant):
    import httpx

    from service.http.app import app_resources, create_app

    app = create_app(msgspec.structs.replace(settings, rate_limit_tenant_per_minute=2))
    async with app_resources(app):
        statuses = []
        for port in (1, 2, 3):  # three different clients, one university
            transport = httpx.ASGITransport(app=app, client=("10.9.9.9", port))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                statuses.append((await c.get("/api/v1/auth/me", headers=tenant.headers)).status_code)
        assert statuses == [200, 200, 429]
