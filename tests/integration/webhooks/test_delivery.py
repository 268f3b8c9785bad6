"""Delivery through the engine, in-process, to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from analytics.runtime import relay
from service.webhooks import dispatch
from service.webhooks.models import Attempt, Delivery, Subscription
from tenants.journal import JournalEvent
from tests.support.receiver import Receiver
from tests.support.webhooks import drive, feed_event, subscribe

BASE = "/api/v1/webhooks"


async def _events(db, tenant_id, event_type, subject_id=None):
    async with db.transaction(tenant_id) as session:
        query = select(JournalEvent).where(JournalEvent.type == event_type).order_by(JournalEvent.seq)
        if subject_id is not None:
            query = query.where(JournalEvent.subject_id == subject_id)
        return list((await session.scalars(query)).all())


async def _ping(client, tenant, sid) -> uuid.UUID:
    r = await client.post(f"{BASE}/subscriptions/{sid}/ping", headers=tenant.headers)
    assert r.status_code == 202, r.text
    return uuid.UUID(r.json()["event_id"])


async def test_ping_is_signed_verifiable_and_only_for_its_subscription(client, tenant, db, fast_settings, receiver):
    other = Receiver().start()
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        await subscribe(client, tenant.headers, other.url, ["*"])
        event_id = await _ping(client, tenant, created["subscription"]["id"])
        await drive(db, fast_settings, tenant.id, event_id)
    finally:
        other.stop()
    assert len(receiver.received) == 1 and other.received == []
    got = receiver.received[0]
    assert got.headers["webhook-id"] == str(event_id)
    assert got.headers["content-type"] == "application/json"
    body = Webhook(created["secret"]).verify(got.body, got.headers)
    assert body["type"] == "webhook.ping"
    assert body["data"]["tenant_id"] == str(tenant.id)
    assert body["data"]["tenant_slug"] == tenant.slug
    assert body["data"]["subject_id"] == created["subscription"]["id"]
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(got.body.replace(b"ping", b"pong"), got.headers)


async def test_rotation_overlap_both_secrets_verify_then_only_the_new(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    sid, old = created["subscription"]["id"], created["secret"]
    r = await client.post(
        f"{BASE}/subscriptions/{sid}/rotate-secret", json={"overlap_seconds": 3600}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and r.json()["subscription"]["previous_secret_expires_at"]
    await drive(db, fast_settings, tenant.id, await _ping(client, tenant, sid))
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)
    # No overlap: the old secret stops signing at once.
    r = await client.post(
        f"{BASE}/subscriptions/{sid}/rotate-secret", json={"overlap_seconds": 0}, headers=tenant.headers
    )
    newest = r.json()["secret"]
    await drive(db, fast_settings, tenant.id, await _ping(client, tenant, sid))
    got = receiver.received[-1]
    Webhook(newest).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(got.body, got.headers)
    assert [e.type for e in await _events(db, tenant.id, "webhook.secret_rotated", uuid.UUID(sid))] == [
        "webhook.secret_rotated"
    ] * 2


async def test_failing_n_times_then_recovering_succeeds_once_with_n_failures_logged(client, tenant, db, fast_settings):
    receiver = Receiver(script=[(500, {}), (502, {}), (404, {}), (200, {})]).start()
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        event_id = await _ping(client, tenant, created["subscription"]["id"])
        retries = await drive(db, fast_settings, tenant.id, event_id)
    finally:
        receiver.stop()
    assert len(retries) == 3
    assert [r.status for r in receiver.received] == [500, 502, 404, 200]
    assert {r.headers["webhook-id"] for r in receiver.received} == {str(event_id)}
    assert sum(1 for r in receiver.received if r.status == 200) == 1
    log = await client.get(f"{BASE}/deliveries", params={"event_id": str(event_id)}, headers=tenant.headers)
    [delivery] = log.json()["items"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 4
    detail = (await client.get(f"{BASE}/deliveries/{delivery['id']}", headers=tenant.headers)).json()
    attempts = detail["attempts"]
    assert [a["status_code"] for a in attempts] == [500, 502, 404, 200]
    assert [a["succeeded"] for a in attempts] == [False, False, False, True]
    assert attempts[0]["error"] == "HTTP 500" and attempts[0]["response_body"] == "receiver says no"
    assert all(a["latency_ms"] >= 0 and a["attempted_at"] for a in attempts)
    # The endpoint is healthy again.
    shown = (await client.get(f"{BASE}/subscriptions/{created['subscription']['id']}", headers=tenant.headers)).json()
    assert shown["failing_since"] is None and shown["enabled"]
    # A late duplicate of an old retry message does nothing.
    assert await dispatch.deliver(db, fast_settings, tenant.id, uuid.UUID(delivery["id"]), 1) == []


async def test_retries_exhaust_to_failed_then_redeliver_failed_since(client, tenant, db, fast_settings):
    receiver = Receiver(script=[(500, {})] * 4 + [(200, {})]).start()
    settings = msgspec.structs.replace(fast_settings, webhook_retry_schedule="0,0")
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        sid = created["subscription"]["id"]
        started = datetime.now(UTC) - timedelta(seconds=5)
        event_id = await _ping(client, tenant, sid)
        await drive(db, settings, tenant.id, event_id)
        assert len(receiver.received) == 3
        failed = await client.get(
            f"{BASE}/subscriptions/{sid}/deliveries", params={"status": "failed"}, headers=tenant.headers
        )
        [delivery] = failed.json()["items"]
        assert delivery["attempts"] == 3 and delivery["last_status_code"] == 500
        r = await client.post(
            f"{BASE}/subscriptions/{sid}/redeliver", json={"since": started.isoformat()}, headers=tenant.headers
        )
        assert r.status_code == 202 and r.json() == {"count": 1}
        [requested] = await _events(db, tenant.id, "webhook.redelivery_requested", uuid.UUID(sid))
        assert requested.payload == {"count": 1}
        # The relay turns the request into a resume message; the resume gives the deliveries to send.
        feed = feed_event(requested)
        assert any(m.actor_name == "resume" for m in relay.messages_for(feed))
        for retry in await dispatch.resume(db, tenant.id, uuid.UUID(sid)):
            pending = await dispatch.deliver(db, settings, tenant.id, retry.delivery_id, retry.token)
            while pending:
                pending = [
                    x for p in pending for x in await dispatch.deliver(db, settings, tenant.id, p.delivery_id, p.token)
                ]
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [500, 500, 500, 500, 200]
    detail = (await client.get(f"{BASE}/deliveries/{delivery['id']}", headers=tenant.headers)).json()
    assert detail["delivery"]["status"] == "succeeded" and len(detail["attempts"]) == 5


async def test_redeliver_one(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    event_id = await _ping(client, tenant, created["subscription"]["id"])
    await drive(db, fast_settings, tenant.id, event_id)
    [delivery] = (
        await client.get(f"{BASE}/deliveries", params={"event_id": str(event_id)}, headers=tenant.headers)
    ).json()["items"]
    r = await client.post(f"{BASE}/deliveries/{delivery['id']}/redeliver", headers=tenant.headers)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    again = await client.post(f"{BASE}/deliveries/{delivery['id']}/redeliver", headers=tenant.headers)
    assert again.status_code == 409
    for retry in await dispatch.resume(db, tenant.id, uuid.UUID(created["subscription"]["id"])):
        await dispatch.deliver(db, fast_settings, tenant.id, retry.delivery_id, retry.token)
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)] * 2


async def test_gone_disables_the_endpoint_and_journals_it(client, tenant, db, fast_settings):
    receiver = Receiver(script=[(410, {})]).start()
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        sid = created["subscription"]["id"]
        event_id = await _ping(client, tenant, sid)
        assert await drive(db, fast_settings, tenant.id, event_id) == []
    finally:
        receiver.stop()
    assert len(receiver.received) == 1
    shown = (await client.get(f"{BASE}/subscriptions/{sid}", headers=tenant.headers)).json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "gone" and shown["disabled_at"]
    [disabled] = await _events(db, tenant.id, "webhook.endpoint_disabled", uuid.UUID(sid))
    assert disabled.payload == {"reason": "gone"}
    ping = await client.post(f"{BASE}/subscriptions/{sid}/ping", headers=tenant.headers)
    assert ping.status_code == 409
    # Enabling again clears the automatic disabling.
    r = await client.patch(f"{BASE}/subscriptions/{sid}", json={"enabled": True}, headers=tenant.headers)
    assert r.json()["enabled"] and r.json()["disabled_reason"] is None


async def test_failing_for_the_configured_period_disables(client, tenant, db, fast_settings):
    settings = msgspec.structs.replace(fast_settings, webhook_disable_after=1800)
    receiver = Receiver(script=[(500, {})]).start()
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        sid = uuid.UUID(created["subscription"]["id"])
        # Failing for 20 minutes: the next failure keeps it enabled (and a retry is scheduled).
        async with db.transaction(tenant.id) as session:
            sub = await session.get(Subscription, (tenant.id, sid))
            sub.failing_since = datetime.now(UTC) - timedelta(minutes=20)
        [retry] = await dispatch.fan_out(db, settings, tenant.id, [await _ping(client, tenant, sid)])
        # Failing for 40 minutes: past the period, the next failure disables.
        async with db.transaction(tenant.id) as session:
            sub = await session.get(Subscription, (tenant.id, sid))
            sub.failing_since = datetime.now(UTC) - timedelta(minutes=40)
        assert await dispatch.deliver(db, settings, tenant.id, retry.delivery_id, retry.token) == []
    finally:
        receiver.stop()
    assert len(receiver.received) == 2
    [disabled] = await _events(db, tenant.id, "webhook.endpoint_disabled", sid)
    assert disabled.payload == {"reason": "failing"}
    async with db.transaction(tenant.id) as session:
        sub = await session.get(Subscription, (tenant.id, sid))
        assert sub.enabled is False and sub.disabled_reason == "failing"
        [delivery] = (await session.scalars(select(Delivery).where(Delivery.subscription_id == sid))).all()
        assert delivery.status == "failed" and delivery.attempts == 2


async def test_redirects_are_failures_and_not_followed(client, tenant, db, fast_settings):
    target = Receiver().start()
    redirector = Receiver(script=[(307, {"location": target.url})]).start()
    settings = msgspec.structs.replace(fast_settings, webhook_retry_schedule="")
    try:
        created = await subscribe(client, tenant.headers, redirector.url, ["webhook.ping"])
        await drive(db, settings, tenant.id, await _ping(client, tenant, created["subscription"]["id"]))
    finally:
        target.stop()
        redirector.stop()
    assert len(redirector.received) == 1 and target.received == []
    [delivery] = (
        await client.get(f"{BASE}/subscriptions/{created['subscription']['id']}/deliveries", headers=tenant.headers)
    ).json()["items"]
    assert delivery["status"] == "failed" and "redirects are not followed" in delivery["last_error"]


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(client, tenant, db, fast_settings, status):
    receiver = Receiver(script=[(status, {"retry-after": "7"}), (200, {})]).start()
    settings = msgspec.structs.replace(fast_settings, webhook_retry_schedule="30,30")
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        event_id = await _ping(client, tenant, created["subscription"]["id"])
        [retry] = await dispatch.fan_out(db, settings, tenant.id, [event_id])
    finally:
        receiver.stop()
    assert retry.delay == 7 and retry.token == 1
    async with db.transaction(tenant.id) as session:
        delivery = await session.get(Delivery, (tenant.id, retry.delivery_id))
        assert timedelta(seconds=5) < delivery.next_attempt_at - datetime.now(UTC) <= timedelta(seconds=7)
    # Not due yet: an early message does nothing.
    assert await dispatch.deliver(db, settings, tenant.id, retry.delivery_id, retry.token) == []


async def test_timeout_is_bounded(client, tenant, db, fast_settings):
    hold = threading.Event()
    receiver = Receiver(hold=hold).start()
    settings = msgspec.structs.replace(fast_settings, webhook_timeout=0.5, webhook_retry_schedule="")
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        event_id = await _ping(client, tenant, created["subscription"]["id"])
        started = datetime.now(UTC)
        await dispatch.fan_out(db, settings, tenant.id, [event_id])
        elapsed = datetime.now(UTC) - started
    finally:
        receiver.stop()
    assert elapsed < timedelta(seconds=3)
    async with db.transaction(tenant.id) as session:
        [attempt] = (
            await session.scalars(
                select(Attempt).where(Attempt.subscription_id == uuid.UUID(created["subscription"]["id"]))
            )
        ).all()
    assert attempt.status_code is None and "timed out" in attempt.error and not attempt.succeeded


async def test_busy_endpoint_defers_instead_of_waiting(client, tenant, db, fast_settings):
    hold = threading.Event()
    receiver = Receiver(hold=hold).start()
    settings = msgspec.structs.replace(fast_settings, webhook_endpoint_concurrency=1, webhook_timeout=3.0)
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        sid = created["subscription"]["id"]
        first = await _ping(client, tenant, sid)
        second = await _ping(client, tenant, sid)
        slow = asyncio.create_task(dispatch.fan_out(db, settings, tenant.id, [first]))
        assert await asyncio.to_thread(receiver.arrived.wait, 10)
        # The attempt in flight has run longer than SLOW_SECONDS: the endpoint is slow, new attempts are deferred.
        await asyncio.sleep(dispatch.SLOW_SECONDS + 0.2)
        [deferred] = await dispatch.fan_out(db, settings, tenant.id, [second])
        hold.set()
        assert await slow == []
    finally:
        receiver.stop()
    assert deferred.token == 0 and 1 <= deferred.delay <= 2
    async with db.transaction(tenant.id) as session:
        row = await session.get(Delivery, (tenant.id, deferred.delivery_id))
        assert row.status == "pending" and row.attempts == 0 and row.locked_until is None


async def test_fan_out_is_idempotent(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    event_id = await _ping(client, tenant, created["subscription"]["id"])
    await drive(db, fast_settings, tenant.id, event_id)
    await drive(db, fast_settings, tenant.id, event_id)
    assert len(receiver.received) == 1
    async with db.transaction(tenant.id) as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.event_id == event_id))).all()
    assert len(rows) == 1


async def test_no_personal_data_in_a_real_event(client, tenant, db, fast_settings, receiver):
    await subscribe(client, tenant.headers, receiver.url, ["account.*"])
    email = f"wang.fang.{uuid.uuid4().hex[:6]}@example.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "long-enough-password", "role": "staff", "display_name": "王芳"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    [event] = await _events(db, tenant.id, "account.created", uuid.UUID(r.json()["id"]))
    await drive(db, fast_settings, tenant.id, event.id)
    [got] = receiver.received
    text = got.body.decode()
    assert email not in text and "王芳" not in text and "wang" not in text
    assert json.loads(text)["data"]["payload"] == {"role": "staff"}


async def test_delivery_time_ssrf_refusal(client, tenant, db, fast_settings, receiver, monkeypatch):
    """Accepted while the allowance was on (or DNS said public); refused when connecting, nothing is sent."""
    from service.webhooks import ssrf

    strict = msgspec.structs.replace(fast_settings, webhook_allow_loopback=False, webhook_retry_schedule="")
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    await drive(db, strict, tenant.id, await _ping(client, tenant, created["subscription"]["id"]))
    # DNS rebinding: the name resolved to a public address when subscribing, to loopback when connecting.
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host, port, *, limit):
        return next(answers) if host == "rebind.example" else ["10.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", rebinding)
    rebound = await subscribe(client, tenant.headers, f"http://rebind.example:{receiver.port}/hook", ["webhook.ping"])
    await drive(db, strict, tenant.id, await _ping(client, tenant, rebound["subscription"]["id"]))
    assert receiver.received == []
    for sub in (created, rebound):
        [delivery] = (
            await client.get(f"{BASE}/subscriptions/{sub['subscription']['id']}/deliveries", headers=tenant.headers)
        ).json()["items"]
        assert delivery["status"] == "failed" and "refused" in delivery["last_error"]


async def test_connection_goes_to_the_checked_address(client, tenant, db, fast_settings, receiver, monkeypatch):
    from service.webhooks import ssrf

    async def fixed(host, port, *, limit):
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", fixed)
    created = await subscribe(client, tenant.headers, f"http://hooks.invalid:{receiver.port}/in", ["webhook.ping"])
    await drive(db, fast_settings, tenant.id, await _ping(client, tenant, created["subscription"]["id"]))
    [got] = receiver.received
    assert got.path == "/in" and got.headers["host"] == f"hooks.invalid:{receiver.port}"


async def test_sweep_resends_overdue_deliveries(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    event_id = await _ping(client, tenant, created["subscription"]["id"])
    # A worker crashed after creating the delivery (its lease expired, its message is gone).
    async with db.transaction(tenant.id) as session:
        session.add(
            Delivery(
                subscription_id=uuid.UUID(created["subscription"]["id"]),
                event_id=event_id,
                event_type="webhook.ping",
                next_attempt_at=datetime.now(UTC) - timedelta(minutes=5),
                locked_until=datetime.now(UTC) - timedelta(minutes=4),
            )
        )
    swept = [r for r in await dispatch.sweep(db, grace_seconds=60) if r.tenant_id == tenant.id]
    assert len(swept) == 1
    assert [r for r in await dispatch.sweep(db, grace_seconds=60) if r.tenant_id == tenant.id] == []
    await dispatch.deliver(db, fast_settings, tenant.id, swept[0].delivery_id, swept[0].token)
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)]


async def test_fan_out_again_after_a_crash_resumes_expired_leases_only(client, tenant, db, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    sid = uuid.UUID(created["subscription"]["id"])
    event_id = await _ping(client, tenant, sid)
    # The worker that first handled the batch died after creating the delivery: its lease is still running.
    async with db.transaction(tenant.id) as session:
        crashed = Delivery(
            subscription_id=sid,
            event_id=event_id,
            event_type="webhook.ping",
            locked_until=datetime.now(UTC) + timedelta(minutes=1),
        )
        session.add(crashed)
    assert await dispatch.fan_out(db, fast_settings, tenant.id, [event_id]) == []
    assert receiver.received == []
    # Once the lease has expired, the broker's re-sent message delivers it.
    async with db.transaction(tenant.id) as session:
        row = await session.get(Delivery, (tenant.id, crashed.id))
        row.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    await dispatch.fan_out(db, fast_settings, tenant.id, [event_id])
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)]
    async with db.transaction(tenant.id) as session:
        row = await session.get(Delivery, (tenant.id, crashed.id))
        assert row.status == "succeeded" and row.attempts == 1


async def test_slow_receiver_does_not_hold_the_message(client, tenant, db, fast_settings):
    """An attempt still running after the hand-off time finishes in the background and records itself."""
    hold = threading.Event()
    receiver = Receiver(hold=hold).start()
    settings = msgspec.structs.replace(fast_settings, webhook_timeout=10.0)
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        event_id = await _ping(client, tenant, created["subscription"]["id"])
        started = asyncio.get_running_loop().time()
        assert await dispatch.fan_out(db, settings, tenant.id, [event_id]) == []
        assert asyncio.get_running_loop().time() - started < dispatch.HANDOFF_SECONDS + 1.5
        async with db.transaction(tenant.id) as session:
            [row] = (await session.scalars(select(Delivery).where(Delivery.event_id == event_id))).all()
            assert row.status == "pending" and row.locked_until is not None
        hold.set()
        for _ in range(100):
            async with db.transaction(tenant.id) as session:
                row = await session.get(Delivery, (tenant.id, row.id))
            if row.status != "pending":
                break
            await asyncio.sleep(0.05)
    finally:
        receiver.stop()
    assert row.status == "succeeded" and row.attempts == 1
    assert [r.status for r in receiver.received] == [200]


async def test_a_responsive_endpoint_backlog_waits_for_slots_instead_of_deferring(client, tenant, db, fast_settings):
    receiver = Receiver().start()
    settings = msgspec.structs.replace(fast_settings, webhook_endpoint_concurrency=2)
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        events = [await _ping(client, tenant, created["subscription"]["id"]) for _ in range(20)]
        assert await dispatch.fan_out(db, settings, tenant.id, events) == []
    finally:
        receiver.stop()
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(str(e) for e in events)


async def test_a_receivers_cookies_are_never_sent_back(client, tenant, make_tenant, db, fast_settings):
    """Deliveries share one HTTP client per worker; a cookie a receiver sets must not ride along on later
    deliveries — not to it, and not to another university's subscription on the same host."""
    receiver = Receiver(script=[(200, {"Set-Cookie": "session=from-the-receiver; Path=/"})]).start()
    other = await make_tenant()
    try:
        for who in (tenant, tenant, other):
            created = await subscribe(client, who.headers, receiver.url, ["webhook.ping"])
            await drive(db, fast_settings, who.id, await _ping(client, who, created["subscription"]["id"]))
    finally:
        receiver.stop()
    assert len(receiver.received) == 3
    assert [r.headers.get("cookie") for r in receiver.received] == [None, None, None]
