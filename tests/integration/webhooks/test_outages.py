"""At least once through outages: the broker refusing messages, and a worker killed mid-delivery (SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy import select, text

from analytics.runtime import relay
from service.webhooks.models import Delivery
from tests.support.platform import ROOT
from tests.support.receiver import Receiver
from tests.support.webhooks import drive, subscribe

BASE = "/api/v1/webhooks"


async def _cursor(db) -> tuple[int, int]:
    async with db.transaction() as session:
        row = (await session.execute(text("select txid, seq from journal_cursors where name = 'relay'"))).one()
        return int(row.txid), int(row.seq)


async def _relay_all(db) -> None:
    from service.webhooks import jobs  # noqa: F401  (registers the relay handlers)

    while await relay.relay_once(db):
        pass


def _queued_fan_outs(database_url: str, event_id: uuid.UUID) -> int:
    """How many queued fan_out messages carry the event."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select message->'args' from dramatiq.queue where message->>'actor_name' = 'fan_out'")
        return sum(1 for (args,) in rows if str(event_id) in args[1])


async def test_broker_outage_delays_but_loses_nothing(client, tenant, db, settings, fast_settings, receiver):
    created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
    await _relay_all(db)
    before = await _cursor(db)
    r = await client.post(f"{BASE}/subscriptions/{created['subscription']['id']}/ping", headers=tenant.headers)
    event_id = uuid.UUID(r.json()["event_id"])
    # The broker refuses every message (its queue table is closed to the application role); the relay keeps
    # retrying the hand-over and does not move its cursor meanwhile.
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"revoke insert, update on dramatiq.queue from {settings.app_db_role}")
    try:
        relaying = asyncio.create_task(_relay_all(db))
        await asyncio.sleep(3)
        assert not relaying.done()
        assert await _cursor(db) == before, "the relay must not move past events it could not hand over"
        assert _queued_fan_outs(settings.database_url, event_id) == 0
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f"grant insert, update on dramatiq.queue to {settings.app_db_role}")
    # The broker is back: the relay finishes the hand-over, then moves on.
    await asyncio.wait_for(relaying, 120)
    assert await _cursor(db) > before
    assert _queued_fan_outs(settings.database_url, event_id) == 1
    await drive(db, fast_settings, tenant.id, event_id)
    assert [x.headers["webhook-id"] for x in receiver.received] == [str(event_id)]


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dramatiq",
            "service.ops.jobs",
            "--processes",
            "1",
            "--threads",
            "2",
            "--queues",
            "webhooks",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen[bytes], sig: int) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=15)


@pytest.mark.e2e
@pytest.mark.timeout(280)
async def test_worker_killed_mid_delivery_loses_nothing(client, tenant, db, settings):
    hold = threading.Event()
    receiver = Receiver(hold=hold, hold_first=1).start()
    env = {
        **os.environ,
        "XINFANG_DATABASE_URL": settings.database_url,
        "XINFANG_WEBHOOK_ALLOW_LOOPBACK": "true",
        "XINFANG_WEBHOOK_TIMEOUT": "3",
        "XINFANG_WEBHOOK_RETRY_SCHEDULE": "1,1,1",
    }
    worker = _start_worker(env)
    try:
        created = await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"])
        r = await client.post(f"{BASE}/subscriptions/{created['subscription']['id']}/ping", headers=tenant.headers)
        event_id = uuid.UUID(r.json()["event_id"])
        await _relay_all(db)
        # The worker has posted the event and waits for the answer: kill it there.
        assert await asyncio.to_thread(receiver.arrived.wait, 120), "the worker never delivered"
        _stop(worker, signal.SIGKILL)
        hold.set()
        async with db.transaction(tenant.id) as session:
            [row] = (await session.scalars(select(Delivery).where(Delivery.event_id == event_id))).all()
            assert row.status == "pending" and row.attempts == 0
        # A new worker takes over the dead one's message (after the broker's heartbeat timeout) and delivers.
        worker = _start_worker(env)
        deadline = time.monotonic() + 200
        while time.monotonic() < deadline:
            if any(x.status == 200 for x in receiver.received):
                break
            await asyncio.sleep(1)
        assert [x.headers["webhook-id"] for x in receiver.received] == [str(event_id)]
        for _ in range(50):
            async with db.transaction(tenant.id) as session:
                row = await session.get(Delivery, (tenant.id, row.id))
            if row.status == "succeeded":
                break
            await asyncio.sleep(0.2)
        assert row.status == "succeeded" and row.attempts == 1
    finally:
        _stop(worker, signal.SIGTERM)
        receiver.stop()
