async def test_health(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_tenant_flow(client, tenant):
    r = await client.get("/api/v1/auth/me", headers=tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["tenant_id"] == str(tenant.id)
