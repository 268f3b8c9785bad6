"""Webhook delivery benchmark: ``python -m tests.bench.webhooks``.

Starts an embedded PostgreSQL, a receiver on loopback that answers 200 at once (uvicorn), the scheduler (the
journal relay) and ONE worker process, then measures:

- baseline: signed POSTs per second that one process makes to the receiver with the same HTTP client
  (``service.webhooks.delivery``) and a body the size of a delivered event, with as many in flight as the worker
  has threads; measured before the worker starts and after it stops, and averaged;
- full path: deliveries per second journal -> relay -> broker (PostgreSQL) -> worker -> signed POST, for a
  backlog of events committed as fast as possible (from the first commit to the last receipt); two backlogs,
  averaged. This machine's speed drifts within a run (it is a VM), so both sides are means over the run;
- delay from event commit to receipt at low load (10 events/s): p50 and p99.

Target: full path >= 50% of the baseline rate; p50 delay < 1 s. Writes ``.xinfang/bench/webhooks.json``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "8"))
BACKLOG = int(os.environ.get("BENCH_EVENTS", "10000"))  # sustained: start-up latency must not dominate
BASELINE_POSTS = int(os.environ.get("BENCH_BASELINE_POSTS", "10000"))
ROUNDS = 2  # the baseline before and after the full path, the full path twice: both are means over the run
FULL_ROUNDS = int(os.environ.get("BENCH_FULL_ROUNDS", str(ROUNDS)))
LOW_LOAD_EVENTS = int(os.environ.get("BENCH_LOW_LOAD_EVENTS", "100"))


# --- the receiver (runs in its own process under uvicorn) ------------------------------------------------------

_received: dict[str, float] = {}


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI app: POST records (webhook-id, arrival time) and answers 200; GET /stats returns the records."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        for name, value in scope["headers"]:
            if name == b"webhook-id":
                _received.setdefault(value.decode(), time.time())
        body = b""
    elif scope["path"] == "/reset":
        _received.clear()
        body = b"{}"
    else:
        body = json.dumps(_received if scope["path"] == "/stats" else {"count": len(_received)}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]}
    )
    await send({"type": "http.response.body", "body": body})


# --- helpers ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment() -> dict[str, str]:
    from service.ops.embedded import database_url, start_postgres

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    url = database_url(server, f"xf_bench_webhooks_{uuid.uuid4().hex[:6]}")
    env = {
        **os.environ,
        "XINFANG_ENV": "test",
        "XINFANG_DATABASE_URL": url,
        "XINFANG_SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
        "XINFANG_DATA_KEY": base64.b64encode(b"b" * 32).decode(),
        "XINFANG_BROKER_URL": "postgres",
        "XINFANG_LOG_LEVEL": "warning",
        "XINFANG_LOG_FORMAT": "json",
        "XINFANG_WEBHOOK_ALLOW_LOOPBACK": "true",
    }
    os.environ.update(env)
    return env


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- the measurements -----------------------------------------------------------------------------------------


def _event_sized_body() -> bytes:
    """A body built like a delivered event's (``dispatch.body``), so both sides POST the same size."""
    from types import SimpleNamespace

    from service.webhooks import dispatch
    from tenants.clock import utcnow

    event = SimpleNamespace(
        type="webhook.ping",
        occurred_at=utcnow(),
        tenant_id=uuid.uuid4(),
        id=uuid.uuid4(),
        actor_id=None,
        petition_id=None,
        incident_id=None,
        org_unit_id=None,
        subject_id=uuid.uuid4(),
        payload={},
    )
    return dispatch.body(event, "bench-university")


async def _baseline(settings: Any, url: str) -> float:
    """Signed POSTs/s one process makes with the delivery client, THREADS in flight."""
    from service.webhooks import delivery, signing

    client = delivery.make_client(settings)
    secret = signing.generate_secret()
    payload = _event_sized_body()
    counter = iter(range(BASELINE_POSTS))

    async def lane() -> None:
        for i in counter:
            outcome = await delivery.post(client, url, [secret], f"plain-{i}", payload, limit=settings.webhook_timeout)
            assert outcome.succeeded, outcome

    for _ in range(50):  # warm the pool
        await delivery.post(client, url, [secret], "warm", payload, limit=settings.webhook_timeout)
    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(THREADS)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return BASELINE_POSTS / elapsed


async def _setup(db: Any, settings: Any, url: str) -> tuple[uuid.UUID, uuid.UUID]:
    from service.webhooks import services
    from tenants import tenancy
    from tenants.ids import new_id

    tenant_id = new_id()
    async with db.transaction(tenant_id) as session:
        await tenancy.create_tenant(
            session,
            slug=f"bench-{tenant_id.hex[-8:]}",
            name_zh="基准大学",
            name_en="Bench University",
            province_code="440000",
            timezone="Asia/Shanghai",
            admin_email="admin@bench.edu.cn",
            actor_id=None,
        )
        subscription, _ = await services.create_subscription(
            session,
            settings,
            url=url,
            event_types=["webhook.ping"],
            description="bench",
            enabled=True,
            actor_id=None,
        )
    return tenant_id, subscription.id


async def _commit_events(db: Any, tenant_id: uuid.UUID, subscription_id: uuid.UUID, n: int) -> dict[str, float]:
    """Commit ``n`` events in one transaction; returns their ids with the commit time."""
    from tenants import journal

    async with db.transaction(tenant_id) as session:
        events = [await journal.record(session, "webhook.ping", subject_id=subscription_id) for _ in range(n)]
        await session.flush()
    committed = time.time()
    return {str(e.id): committed for e in events}


async def _wait_for(client: Any, base: str, ids: set[str], within: float) -> dict[str, float]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        count = (await client.get(f"{base}/count")).json()["count"]
        if count >= len(ids):
            stats = (await client.get(f"{base}/stats")).json()
            if ids <= stats.keys():
                return {k: stats[k] for k in ids}
        await asyncio.sleep(0.05)
    stats = (await client.get(f"{base}/stats")).json()
    raise SystemExit(f"only {len(ids & stats.keys())} of {len(ids)} events arrived within {within:.0f} s")


async def _full_path(env: dict[str, str], base: str) -> dict[str, float]:
    import httpx

    from service.webhooks import delivery
    from tenants import crypto
    from tenants.db import Database
    from tenants.settings import get_settings

    settings = get_settings()
    crypto.configure(settings.data_key_bytes)
    db = Database.from_settings(settings)
    hook = f"{base}/hook"
    figures: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30) as control:
        figures["baseline_posts_per_s_0"] = await _baseline(settings, hook)
        await control.post(f"{base}/reset")
        tenant_id, subscription_id = await _setup(db, settings, hook)
        xinfang = [sys.executable, "-m", "service.ops.cli"]
        scheduler = _spawn([*xinfang, "scheduler"], env)
        worker = _spawn([*xinfang, "worker", "--processes", "1", "--threads", str(THREADS)], env)
        try:
            # Warm-up: processes started, connections open.
            await _wait_for(control, base, set(await _commit_events(db, tenant_id, subscription_id, 50)), 120)
            await control.post(f"{base}/reset")

            # Low load: one event every 100 ms, delay from commit to receipt.
            committed: dict[str, float] = {}
            for _ in range(LOW_LOAD_EVENTS):
                committed |= await _commit_events(db, tenant_id, subscription_id, 1)
                await asyncio.sleep(0.1)
            arrived = await _wait_for(control, base, set(committed), 60)
            delays = [arrived[k] - committed[k] for k in committed]
            figures["delay_p50_s"] = _percentile(delays, 0.5)
            figures["delay_p99_s"] = _percentile(delays, 0.99)
            await control.post(f"{base}/reset")

            # Sustained: a backlog committed as fast as possible, first commit to last receipt (ROUNDS times).
            for round_ in range(FULL_ROUNDS):
                committed = {}
                first = time.time()
                for _ in range(BACKLOG // 100):
                    committed |= await _commit_events(db, tenant_id, subscription_id, 100)
                figures[f"produce_events_per_s_{round_}"] = len(committed) / (time.time() - first)
                arrived = await _wait_for(control, base, set(committed), 600)
                figures[f"full_path_deliveries_per_s_{round_}"] = len(committed) / (max(arrived.values()) - first)
                await control.post(f"{base}/reset")
        finally:
            _stop(worker)
            _stop(scheduler)
            await db.dispose()
        # The baseline again, the worker stopped: the machine's state at both ends of the run counts.
        figures["baseline_posts_per_s_1"] = await _baseline(settings, hook)
        for client in delivery._clients.values():
            await client.aclose()
    figures["baseline_posts_per_s"] = (figures["baseline_posts_per_s_0"] + figures["baseline_posts_per_s_1"]) / 2
    rounds = [figures[f"full_path_deliveries_per_s_{r}"] for r in range(FULL_ROUNDS)]
    figures["full_path_deliveries_per_s"] = sum(rounds) / len(rounds)
    return figures


def main() -> int:
    env = _environment()
    from service.ops.cli import migrate

    migrate()
    port = _free_port()
    receiver = _spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.bench.webhooks:receiver_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        figures = asyncio.run(_full_path(env, base))
    finally:
        _stop(receiver)
    ratio = figures["full_path_deliveries_per_s"] / figures["baseline_posts_per_s"]
    target = {"ratio": 0.5, "delay_p50_s": 1.0}
    passed = ratio >= target["ratio"] and figures["delay_p50_s"] < target["delay_p50_s"]
    result = {
        "name": "webhooks",
        "figures": {k: round(v, 4) for k, v in figures.items()} | {"worker_threads": THREADS, "events": BACKLOG},
        "baseline": {"plain_signed_posts_per_s": round(figures["baseline_posts_per_s"], 1), "in_flight": THREADS},
        "ratio": round(ratio, 3),
        "target": target,
        "passed": passed,
    }
    out = ROOT / ".xinfang" / "bench" / "webhooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(
        f"plain signed POSTs (1 process, {THREADS} in flight): {figures['baseline_posts_per_s']:8.1f} /s"
        f" (before {figures['baseline_posts_per_s_0']:.0f}, after {figures['baseline_posts_per_s_1']:.0f})\n"
        f"full path (1 worker process, {THREADS} threads):     {figures['full_path_deliveries_per_s']:8.1f} /s"
        f" (rounds {', '.join(str(round(figures[f'full_path_deliveries_per_s_{r}'])) for r in range(FULL_ROUNDS))})"
        f"  ratio {ratio:.2f} (target >= 0.5)\n"
        f"commit -> receipt at 10 events/s: p50 {figures['delay_p50_s'] * 1000:.0f} ms, "
        f"p99 {figures['delay_p99_s'] * 1000:.0f} ms (target p50 < 1 s)\n"
        f"{'PASSED' if passed else 'FAILED'}; written to {out}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
