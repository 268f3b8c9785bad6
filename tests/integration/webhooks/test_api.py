"""The webhook API: who may call, bad input, SSRF refusals at subscription time, tenant isolation."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from sqlalchemy import func, select

from service.webhooks import services
from service.webhooks.models import Subscription
from tenants.errors import Invalid
from tests.support.platform import sign_in
from tests.support.webhooks import drive, subscribe

BASE = "/api/v1/webhooks"


async def _count(db, tenant_id) -> int:
    async with db.transaction(tenant_id) as session:
        return int(await session.scalar(select(func.count()).select_from(Subscription)))


async def _api_key(client, tenant, scopes) -> str:
    r = await client.post("/api/v1/api-keys", json={"name": "integrator", "scopes": scopes}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


async def test_integrator_key_with_scope_manages_subscriptions(client, tenant, receiver):
    key = await _api_key(client, tenant, ["webhooks:manage"])
    headers = {"X-API-Key": key}
    created = await subscribe(client, headers, receiver.url, ["account.created"])
    sid = created["subscription"]["id"]
    r = await client.patch(
        f"{BASE}/subscriptions/{sid}", json={"description": "工单系统 ticketing", "enabled": False}, headers=headers
    )
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["description"] == "工单系统 ticketing"
    assert (await client.get(f"{BASE}/subscriptions", headers=headers)).status_code == 200


async def test_callers_without_the_right_are_refused(client, tenant, receiver):
    other_scope = await _api_key(client, tenant, ["events:read"])
    r = await client.get(f"{BASE}/subscriptions", headers={"X-API-Key": other_scope})
    assert r.status_code == 403
    staff = await client.post(
        "/api/v1/accounts",
        json={"email": f"s{uuid.uuid4().hex[:6]}@x.edu.cn", "password": "staff-password-1", "role": "staff"},
        headers=tenant.headers,
    )
    assert staff.status_code == 201
    staff_headers = (await sign_in(client, tenant.slug, staff.json()["email"], "staff-password-1")).headers
    r = await client.post(
        f"{BASE}/subscriptions",
        json={"url": receiver.url, "event_types": ["*"]},
        headers=staff_headers,
    )
    assert r.status_code == 403
    assert (await client.get(f"{BASE}/subscriptions")).status_code == 401


async def test_bad_input_lists_every_problem_and_writes_nothing(client, tenant, db):
    before = await _count(db, tenant.id)
    r = await client.post(
        f"{BASE}/subscriptions",
        json={"url": "ftp://example.com/x", "event_types": ["no.such.type", "*", "petition.*", "Bad Pattern"]},
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["type"].endswith("/validation")
    fields = sorted(e["field"] for e in problem["errors"])
    assert fields == ["event_types[0]", "event_types[3]", "url"]
    for body in (
        {"url": "https://example.com", "event_types": []},
        {"url": "https://example.com", "event_types": ["*"], "surprise": 1},
        {"url": "https://example.com/" + "x" * 2100, "event_types": ["*"]},
    ):
        r = await client.post(f"{BASE}/subscriptions", json=body, headers=tenant.headers)
        assert 400 <= r.status_code < 500, body
    assert await _count(db, tenant.id) == before


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.8/hook",
        "http://10.255.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.10/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
    ],
)
async def test_private_urls_are_refused_at_subscription_time(client, tenant, db, url):
    r = await client.post(f"{BASE}/subscriptions", json={"url": url, "event_types": ["*"]}, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/",
    ],
)
async def test_loopback_is_refused_without_the_development_allowance(db, tenant, settings, url):
    strict = msgspec.structs.replace(settings, webhook_allow_loopback=False)
    async with db.transaction(tenant.id) as session:
        with pytest.raises(Invalid) as refused:
            await services.create_subscription(
                session, strict, url=url, event_types=["*"], description=None, enabled=True, actor_id=None
            )
    assert refused.value.extra["errors"][0]["field"] == "url"


async def test_hostnames_resolving_to_private_addresses_are_refused(client, tenant, monkeypatch):
    from service.webhooks import ssrf

    answers = {
        "metadata.evil.test": ["169.254.169.254"],
        "intranet.evil.test": ["10.0.0.5"],
        "v6.evil.test": ["::1", "::ffff:127.0.0.1"],
    }

    async def resolve(host, port, *, limit):
        return answers[host]

    monkeypatch.setattr(ssrf, "resolve", resolve)
    for host in ("metadata.evil.test", "intranet.evil.test"):
        r = await client.post(
            f"{BASE}/subscriptions", json={"url": f"https://{host}/x", "event_types": ["*"]}, headers=tenant.headers
        )
        assert r.status_code == 422, host
    with pytest.raises(ssrf.Refused):
        await ssrf.check_url("https://v6.evil.test/x", allow_loopback=False)


async def test_another_tenant_sees_nothing(client, make_tenant, db, fast_settings, receiver):
    owner = await make_tenant()
    stranger = await make_tenant()
    created = await subscribe(client, owner.headers, receiver.url, ["webhook.ping"])
    sid = created["subscription"]["id"]
    ping = await client.post(f"{BASE}/subscriptions/{sid}/ping", headers=owner.headers)
    event_id = uuid.UUID(ping.json()["event_id"])
    await drive(db, fast_settings, owner.id, event_id)
    [delivery] = (
        await client.get(f"{BASE}/deliveries", params={"event_id": str(event_id)}, headers=owner.headers)
    ).json()["items"]
    did = delivery["id"]
    h = stranger.headers
    for method, path, body in [
        ("GET", f"{BASE}/subscriptions/{sid}", None),
        ("PATCH", f"{BASE}/subscriptions/{sid}", {"enabled": False}),
        ("POST", f"{BASE}/subscriptions/{sid}/ping", None),
        ("POST", f"{BASE}/subscriptions/{sid}/rotate-secret", {}),
        ("GET", f"{BASE}/subscriptions/{sid}/deliveries", None),
        ("POST", f"{BASE}/subscriptions/{sid}/redeliver", {"since": "2020-01-01T00:00:00Z"}),
        ("GET", f"{BASE}/deliveries/{did}", None),
        ("POST", f"{BASE}/deliveries/{did}/redeliver", None),
    ]:
        r = await client.request(method, path, json=body, headers=h)
        assert r.status_code == 404, (method, path, r.text)
    assert (await client.get(f"{BASE}/subscriptions", headers=h)).json()["items"] == []
    assert (await client.get(f"{BASE}/deliveries", params={"event_id": str(event_id)}, headers=h)).json()["items"] == []
    still = await client.get(f"{BASE}/subscriptions/{sid}", headers=owner.headers)
    assert still.json()["enabled"] is True


async def test_delivery_log_pages_and_filters(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    sid = created["subscription"]["id"]
    events = []
    for _ in range(3):
        r = await client.post(f"{BASE}/subscriptions/{sid}/ping", headers=tenant.headers)
        events.append(uuid.UUID(r.json()["event_id"]))
        await drive(db, fast_settings, tenant.id, events[-1])
    first = (
        await client.get(f"{BASE}/subscriptions/{sid}/deliveries", params={"limit": 2}, headers=tenant.headers)
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = (
        await client.get(
            f"{BASE}/subscriptions/{sid}/deliveries",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=tenant.headers,
        )
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = {d["event_id"] for d in first["items"] + rest["items"]}
    assert seen == {str(e) for e in events}
    by_type = await client.get(
        f"{BASE}/subscriptions/{sid}/deliveries",
        params={"event_type": "webhook.ping", "status": "succeeded"},
        headers=tenant.headers,
    )
    assert len(by_type.json()["items"]) == 3
    bad = await client.get(f"{BASE}/subscriptions/{sid}/deliveries", params={"status": "lost"}, headers=tenant.headers)
    assert bad.status_code == 400
