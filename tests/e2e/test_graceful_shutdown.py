"""Graceful shutdown on SIGTERM, as an orchestrator sends it: the API finishes the request in flight (and takes no
new one), a worker finishes the message it is working on before it exits."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from service.webhooks.models import Delivery
from tests.support.processes import free_port, start, stop
from tests.support.receiver import Receiver
from tests.support.webhooks import subscribe

pytestmark = pytest.mark.e2e


def wait_healthy(port: int, process: object, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"  # type: ignore[attr-defined]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server never answered /health")


async def test_the_api_finishes_the_request_in_flight_on_sigterm(tenant):
    port = free_port()
    server = start("serve", "--port", str(port))
    try:
        wait_healthy(port, server)
        body = json.dumps(
            {"kind": "university", "code": "ROOT", "name_zh": "测试大学", "name_en": "Test University"}
        ).encode()
        head = (
            f"POST /api/v1/org/units HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {tenant.headers['Authorization']}"
            f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            # The request is in flight: its head and half its body have arrived when SIGTERM does.
            conn.sendall(head + body[:10])
            await asyncio.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            # Shutting down, the server takes no new request ...
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            # ... but answers the one in flight.
            conn.sendall(body[10:])
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < 2:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        # uvicorn shuts down gracefully, then re-raises the signal it caught, as a process killed by it would.
        assert server.wait(30) in (0, -signal.SIGTERM)
    finally:
        stop(server)


async def test_a_worker_finishes_its_current_message_on_sigterm(client, db, tenant):
    hold = threading.Event()
    receiver = Receiver(hold=hold).start()
    worker = start("worker", "--processes", "1", "--threads", "2")
    scheduler = start("scheduler")  # the relay
    try:
        sid = (await subscribe(client, tenant.headers, receiver.url, ["webhook.ping"]))["subscription"]["id"]
        r = await client.post(f"/api/v1/webhooks/subscriptions/{sid}/ping", headers=tenant.headers)
        assert r.status_code == 202, r.text
        # The worker's attempt is at the receiver, held there, when SIGTERM arrives.
        assert await asyncio.to_thread(receiver.arrived.wait, 60), "the ping never reached the receiver"
        worker.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        hold.set()
        assert await asyncio.to_thread(worker.wait, 30) == 0
        async with db.transaction(tenant.id) as session:
            deliveries = (
                await session.scalars(select(Delivery).where(Delivery.subscription_id == uuid.UUID(sid)))
            ).all()
        assert [(d.status, d.attempts) for d in deliveries] == [("succeeded", 1)]
        assert len(receiver.received) == 1
    finally:
        hold.set()
        stop(worker)
        stop(scheduler)
        receiver.stop()
