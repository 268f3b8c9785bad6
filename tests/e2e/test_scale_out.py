"""The multi-process deployment on this machine: PgBouncer in transaction pooling mode in front of PostgreSQL,
RabbitMQ as the broker, two API processes, two workers and one scheduler, all on loopback.

A mixed load from several universities runs through both API processes while PgBouncer shares a handful of
server connections between them. Afterwards: no response ever carried another university's data (the tenant
context is per transaction, so it survives transaction pooling), every university was provisioned exactly once
through the whole pipeline (journal -> scheduler's relay -> RabbitMQ -> worker). Midway one API process and
one worker are killed (SIGKILL): clients see transport errors at worst and retry on the other process, no
confirmed write is lost, universities onboarded afterwards are still provisioned.

Periodic reports: two universities with a year of history (``xinfang demo generate``, onboarded when their history
starts) are written before the processes start, so the scheduler's first tick sweeps their closed month, quarter
and year (in their time zone) and the workers compute them. Just before the kill every report message is sent a
second time, as RabbitMQ redelivers a message whose ack was lost, so both workers (one of them killed) work on the
same periods. Afterwards each due (university, kind, period) has exactly one report, claimed once by the sweep
and journaled ``report.ready`` exactly once, while the scheduler ticked all along. Finally SIGTERM stops every
process in time, the scheduler releasing its lease.

Needs the ``pgbouncer`` binary (Debian's package) and a RabbitMQ server named by ``XINFANG_TEST_RABBITMQ_URL``;
skipped with the reason when either is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.support.platform import DATA_KEY, SECRET, changed

pytestmark = pytest.mark.e2e

TENANTS = 4
CLIENTS_PER_TENANT = 4
LOAD_SECONDS = 8.0
MAX_OPS_PER_CLIENT = 60
SERVER_CONNECTIONS = 4  # PgBouncer's pool: far fewer than the clients, so server connections are shared
HISTORIC = 2  # universities with a year of history, whose closed periods the scheduler has reports made of
REPORT_KINDS = {"monthly": 1, "quarterly": 3, "yearly": 12}  # months per period


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    env: dict[str, str]
    logs: Path
    pgbouncer_port: int
    apis: list[str] = field(default_factory=list)
    historic: list[str] = field(default_factory=list)  # slugs of the universities with history
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        # A session (process group) of its own: a worker is a main process with children, and killing only
        # the main one would leave orphans consuming from the broker.
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "service.ops.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def bound_port(self, name: str, timeout: float = 60) -> int:
        """The port a server started with ``--port 0`` reports in its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"running on http://127\.0\.0\.1:(\d+)", (self.logs / f"{name}.log").read_text())
            if found:
                return int(found.group(1))
            assert self.procs[name].poll() is None, f"{name} exited early\n{self.tails()}"
            time.sleep(0.1)
        raise AssertionError(f"{name} never reported its port\n{self.tails()}")

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group, as when a machine or a container dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def tails(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:])
            for p in sorted(self.logs.glob("*.log"))
        )


def _rabbitmq_url() -> str:
    url = os.environ.get("XINFANG_TEST_RABBITMQ_URL")
    if not url:
        pytest.skip("XINFANG_TEST_RABBITMQ_URL is not set (CI sets it): this test needs a RabbitMQ server")
    return url


def _own_the_queues(url: str) -> None:
    """Purge what earlier runs left, and make sure no other process consumes this test's messages (a worker of
    another database would take them and fail them)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for queue in ("default", "default.DQ", "default.XQ"):
            try:
                consumers = channel.queue_declare(queue, passive=True).method.consumer_count
            except pika.exceptions.ChannelClosedByBroker:  # the queue does not exist yet
                channel = connection.channel()
                continue
            if consumers:
                pytest.fail(
                    f"{consumers} other consumer(s) on RabbitMQ queue {queue!r} would take this test's messages: "
                    "stop the stray workers, or point XINFANG_TEST_RABBITMQ_URL at a virtual host of its own"
                )
            channel.queue_purge(queue)
    finally:
        connection.close()


def _start_pgbouncer(server_url: str, folder: Path, attempt: int = 0) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )
    if binary is None:
        pytest.skip("pgbouncer is not installed (Debian package `pgbouncer`): this test puts it in front of PostgreSQL")
    parts = urlsplit(server_url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    password = f" password={parts.password}" if parts.password else ""
    port = _free_port()
    (folder / "userlist.txt").write_text('"xinfang_app" ""\n"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={host} port={parts.port or 5432}{password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
"""
    )
    folder.chmod(0o755)
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root; run it as the user that owns the server's socket directory.
        owner = Path(host).stat().st_uid if host.startswith("/") else pwd.getpwnam("nobody").pw_uid
        command[1:1] = ["-u", pwd.getpwuid(owner).pw_name]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(folder / "pgbouncer.log").open("wb"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        if proc.poll() is not None:
            log = (folder / "pgbouncer.log").read_text()
            # The port picked above can be taken before PgBouncer binds it: pick another.
            if "in use" in log and attempt < 2:
                return _start_pgbouncer(server_url, folder, attempt + 1)
            raise AssertionError(log)
        time.sleep(0.05)
    raise AssertionError("pgbouncer did not start listening")


@pytest.fixture
def stack(server_url: str) -> Iterator[Stack]:
    rabbitmq = _rabbitmq_url()
    from service.ops.embedded import database_url as url_for

    folder = Path(tempfile.mkdtemp(prefix="xinfang-e2e-"))
    name = f"xf_e2e_{uuid.uuid4().hex[:8]}"
    privileged = url_for(server_url, name)
    pgbouncer, pgbouncer_port = _start_pgbouncer(server_url, folder)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")},
        "XINFANG_ENV": "test",
        "XINFANG_SECRET_KEY": SECRET,
        "XINFANG_DATA_KEY": DATA_KEY,
        "XINFANG_DATABASE_URL": privileged,
        "XINFANG_APP_DATABASE_URL": f"postgresql://xinfang_app@127.0.0.1:{pgbouncer_port}/{name}",
        "XINFANG_DB_STATEMENT_CACHE_SIZE": "0",
        "XINFANG_DB_POOL_SIZE": "5",
        "XINFANG_BROKER_URL": rabbitmq,
        "XINFANG_LOG_FORMAT": "json",
        "XINFANG_LOG_LEVEL": "info",
        "XINFANG_RELAY_POLL_SECONDS": "0.1",
        "XINFANG_RATE_LIMIT_CLIENT_PER_MINUTE": "1000000",
        "XINFANG_RATE_LIMIT_TENANT_PER_MINUTE": "1000000",
        "XINFANG_DATA_DIR": str(folder),
        # Webhooks go to a receiver on loopback; a short timeout keeps the lease of a killed worker's deliveries
        # short, so the sweep re-sends them within the test.
        "XINFANG_WEBHOOK_ALLOW_LOOPBACK": "true",
        "XINFANG_WEBHOOK_TIMEOUT": "2",
    }
    stack = Stack(env, folder, pgbouncer_port)
    try:
        subprocess.run(
            [sys.executable, "-m", "service.ops.cli", "migrate"], env=env, check=True, capture_output=True, timeout=120
        )
        _own_the_queues(rabbitmq)
        # Written before the scheduler starts, so that its first tick's report sweep finds them.
        generated = subprocess.run(
            [sys.executable, "-m", "service.ops.cli", "demo", "generate", "--tenants", str(HISTORIC), "--petitions",
             "300", "--incidents", "6", "--prefix", f"h{uuid.uuid4().hex[:6]}"],
            env=env, check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        stack.historic = json.loads(generated.stdout)["universities"]
        stack.started_at = dt.datetime.now(dt.UTC)
        for i in range(2):
            # Port 0: the server binds a free port itself (a port picked here first could be taken, e.g. as the
            # ephemeral port of some client connection, before the server binds it).
            stack.start(f"api{i}", "serve", "--port", "0")
        for i in range(2):
            stack.apis.append(f"http://127.0.0.1:{stack.bound_port(f'api{i}')}")
        for i in range(2):
            stack.start(f"worker{i}", "worker", "--processes", "1", "--threads", "4")
        stack.start("scheduler", "scheduler")
        yield stack
    finally:
        for name in stack.procs:
            stack.kill(name)
        pgbouncer.terminate()
        pgbouncer.wait(10)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(folder, ignore_errors=True)


def _due_periods(zone: str, onboarded: dt.datetime, at: dt.datetime) -> set[tuple[str, dt.date]]:
    """The periods the scheduler owes a university at ``at``: per kind the latest one closed in the university's
    time zone, unless it ended before the university was onboarded (worked out here, not by the product's code)."""
    today = at.astimezone(ZoneInfo(zone)).date()
    since = onboarded.astimezone(ZoneInfo(zone)).date()
    due = set()
    for kind, months in REPORT_KINDS.items():
        current = today.year * 12 + (today.month - 1) // months * months  # the open period's first month
        start, end = (dt.date(m // 12, m % 12 + 1, 1) for m in (current - months, current))
        if end > since:
            due.add((kind, start))
    return due


def _send_again(url: str, messages: list[tuple[str, tuple[str, ...]]]) -> None:
    """Put ``(actor, args)`` messages on the queue a second time, as a redelivery after a lost ack would."""
    import dramatiq
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    broker = RabbitmqBroker(url=url, confirm_delivery=True)
    try:
        for actor, args in messages:
            broker.enqueue(dramatiq.Message(queue_name="default", actor_name=actor, args=args, kwargs={}, options={}))
    finally:
        broker.close()


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows read with the privileged login (not subject to row-level security: every university's rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def _reports_computed(stack: Stack) -> dict[str, int]:
    """How many report computations each worker finished (each logs ``report.generated``, created or found)."""
    return {
        name: (stack.logs / f"{name}.log").read_text(errors="replace").count("report.generated")
        for name in stack.procs
        if name.startswith("worker")
    }


async def _wait_ready(client: httpx.AsyncClient, stack: Stack) -> None:
    deadline = time.monotonic() + 60
    for base in stack.apis:
        while True:
            for name, proc in stack.procs.items():
                assert proc.poll() is None, f"{name} exited early\n{stack.tails()}"
            try:
                if (await client.get(f"{base}/ready", timeout=3)).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{base} never became ready\n{stack.tails()}"
            await asyncio.sleep(0.2)


def _platform_token(stack: Stack) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "service.ops.cli", "admin", "--email", "root@e2e.xinfang.test"],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    match = re.search(r"token:\s+(\S+)", result.stdout)
    assert match, result.stdout + result.stderr
    return match.group(1)


@dataclass
class Receiver:
    """A webhook endpoint on loopback: ``/<slug>/<subscription>`` records (event id, webhook-id) per arrival."""

    port: int = 0
    arrivals: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    async def start(self) -> Any:
        from aiohttp import web

        async def hook(request: web.Request) -> web.Response:
            event = (await request.json())["data"]["event_id"]
            key = (request.match_info["slug"], request.match_info["sub"])
            self.arrivals.setdefault(key, []).append((event, request.headers["webhook-id"]))
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/{slug}/{sub}", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner


@dataclass
class University:
    id: str
    slug: str
    headers: dict[str, str]
    account_ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    subscriptions: dict[str, str] = field(default_factory=dict)  # receiver path part -> subscription id


async def test_tenant_isolation_and_pipeline_through_pgbouncer_rabbitmq_and_several_processes(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=20) as client:
        await _wait_ready(client, stack)
        apis = itertools.cycle(stack.apis)
        platform = {"Authorization": f"Bearer {_platform_token(stack)}"}
        # The periods the scheduler owes the universities with history from its first tick on.
        r = await client.get(f"{next(apis)}/api/v1/platform/tenants", params={"limit": 200}, headers=platform)
        historic = {t["id"]: t for t in r.json()["items"] if t["slug"] in stack.historic}
        assert len(historic) == HISTORIC, r.text
        owed = {
            (tid, kind, start)
            for tid, t in historic.items()
            for kind, start in _due_periods(t["timezone"], dt.datetime.fromisoformat(t["created_at"]), stack.started_at)
        }
        # A year of history: its last closed month, quarter and year are all owed.
        assert len(owed) == HISTORIC * len(REPORT_KINDS), owed

        async def onboard(base: str) -> University:
            slug = f"e2e-{uuid.uuid4().hex[:8]}"
            r = await client.post(
                f"{base}/api/v1/platform/tenants",
                json={
                    "slug": slug,
                    "name_zh": "端到端大学",
                    "name_en": "E2E University",
                    "province_code": "440000",
                    "admin_email": f"admin@{slug}.edu.cn",
                },
                headers=platform,
            )
            assert r.status_code == 201, r.text
            body = r.json()
            login = await client.post(
                f"{base}/api/v1/auth/login",
                json={"tenant": slug, "email": body["admin"]["email"], "password": body["admin"]["password"]},
            )
            assert login.status_code == 200, login.text
            # The one-time password must be changed first (as tests.conftest.sign_in does in-process).
            new_pair = await client.post(
                f"{base}/api/v1/auth/password",
                json={
                    "current_password": body["admin"]["password"],
                    "new_password": changed(body["admin"]["password"]),
                },
                headers={"Authorization": f"Bearer {login.json()['access_token']}"},
            )
            assert new_pair.status_code == 200, new_pair.text
            token = new_pair.json()["access_token"]
            return University(body["tenant"]["id"], slug, {"Authorization": f"Bearer {token}"})

        universities = [await onboard(next(apis)) for _ in range(TENANTS)]
        receiver = Receiver()
        runner = await receiver.start()
        # Two subscriptions per university whose patterns both match the staff accounts created under load.
        for u in universities:
            for sub, types in {"exact": ["account.created"], "pattern": ["account.*", "petition.*"]}.items():
                r = await client.post(
                    f"{next(apis)}/api/v1/webhooks/subscriptions",
                    json={"url": f"http://127.0.0.1:{receiver.port}/{u.slug}/{sub}", "event_types": types},
                    headers=u.headers,
                )
                assert r.status_code == 201, r.text
                u.subscriptions[sub] = r.json()["subscription"]["id"]
        leaks: list[str] = []
        statuses: dict[int | str, int] = {}
        deadline = time.monotonic() + LOAD_SECONDS

        async def send(method: str, path: str, first: int, **kwargs: Any) -> tuple[httpx.Response, bool]:
            """Send to one API process, and on a transport error (a killed process) retry on the other one.
            Returns the response and whether a retry happened (a create may then have committed already)."""
            for attempt in range(4):
                base = stack.apis[(first + attempt) % 2]
                try:
                    return await client.request(method, f"{base}{path}", **kwargs), attempt > 0
                except httpx.TransportError as exc:
                    key = f"retried after {type(exc).__name__}"
                    statuses[key] = statuses.get(key, 0) + 1
            raise AssertionError(f"no API process answered {method} {path}")

        async def client_loop(u: University, n: int) -> None:
            for op in range(MAX_OPS_PER_CLIENT):
                if time.monotonic() > deadline:
                    return
                if op % 6 == 0:
                    email = f"s{n}-{op}@{u.slug}.edu.cn"
                    body = {"email": email, "password": "staff-password-1", "role": "staff", "display_name": "职员"}
                    r, retried = await send("POST", "/api/v1/accounts", n + op, json=body, headers=u.headers)
                    if r.status_code == 201:
                        u.account_ids.add(r.json()["id"])
                        u.emails.add(email)
                    elif r.status_code == 409 and retried:
                        u.emails.add(email)  # the first attempt committed before its process was killed
                elif op % 6 in {1, 2, 3}:
                    r, _ = await send("GET", "/api/v1/accounts", n + op, params={"limit": 200}, headers=u.headers)
                    if r.status_code == 200:
                        leaks.extend(
                            f"{u.slug} saw {a['email']}"
                            for a in r.json()["items"]
                            if not a["email"].endswith(f"@{u.slug}.edu.cn")
                        )
                else:
                    r, _ = await send("GET", "/api/v1/journal", n + op, params={"limit": 500}, headers=u.headers)
                    if r.status_code == 200:
                        others = {x for o in universities if o is not u for x in o.account_ids | {o.id}}
                        leaks.extend(
                            f"{u.slug} saw event {e['type']} of {e['subject_id']}"
                            for e in r.json()["items"]
                            if e["subject_id"] in others
                        )
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        async def kill_midway() -> None:
            await asyncio.sleep(LOAD_SECONDS / 2)
            # Every report message and the sweep once more, so the workers (the one about to die too) are busy
            # with periods the first tick's messages already cover.
            again = [("compute_report", (tid, kind, start.isoformat())) for tid, kind, start in owed]
            await asyncio.to_thread(
                _send_again,
                stack.env["XINFANG_BROKER_URL"],
                [*again, ("reports_sweep", (f"{stack.started_at:%Y-%m-%dT%H}",))],
            )
            await asyncio.sleep(0.3)
            for name in ("api1", "worker1"):
                stack.kill(name)

        started = time.monotonic()
        await asyncio.gather(
            kill_midway(), *(client_loop(u, n) for u in universities for n in range(CLIENTS_PER_TENANT))
        )
        elapsed = time.monotonic() - started
        total = sum(v for k, v in statuses.items() if isinstance(k, int))
        print(f"\n{total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s) through PgBouncer: {statuses}")
        assert leaks == []
        # At worst a retriable error (a transport error, retried on the other process); never a server error.
        assert {k for k in statuses if isinstance(k, int)} <= {200, 201, 409}, f"{statuses}\n{stack.tails()}"
        assert sum(len(u.emails) for u in universities) >= TENANTS
        survivor = stack.apis[0]

        for u in universities:
            # Each university sees exactly its own accounts: its admin and every create that was confirmed.
            r = await client.get(f"{survivor}/api/v1/accounts", params={"limit": 200}, headers=u.headers)
            staff = {a["email"] for a in r.json()["items"] if a["role"] == "staff"}
            assert staff == u.emails
            assert all(a["email"].endswith(f"@{u.slug}.edu.cn") for a in r.json()["items"])

        # Universities onboarded after a worker was killed are provisioned all the same.
        for _ in range(2):
            universities.append(await onboard(survivor))

        # The pipeline: tenant.created -> relay (scheduler) -> RabbitMQ -> worker -> tenant.provisioned, once each.
        wait_until = time.monotonic() + 60
        for u in universities:
            while True:
                r = await client.get(f"{survivor}/api/v1/platform/tenants/{u.id}", headers=platform)
                if r.json()["provisioned_at"]:
                    break
                assert time.monotonic() < wait_until, f"{u.slug} was never provisioned\n{stack.tails()}"
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # room for a duplicate delivery to show up
        for u in universities:
            r = await client.get(f"{survivor}/api/v1/journal", params={"type": "tenant.provisioned"}, headers=u.headers)
            assert len(r.json()["items"]) == 1, r.text

        # Webhooks: every staff account created under load reached both subscriptions of its university, with
        # exactly one successful delivery each, also across the killed worker (a re-sent attempt carries the same
        # webhook-id, so a receiver deduplicates it).
        loaded = universities[:TENANTS]
        expected: dict[tuple[str, str], set[str]] = {}
        for u in loaded:
            r = await client.get(
                f"{survivor}/api/v1/journal", params={"type": "account.created", "limit": 500}, headers=u.headers
            )
            staff_events = {e["id"] for e in r.json()["items"] if e["subject_id"] in u.account_ids}
            assert len(staff_events) == len(u.account_ids)
            for sub in u.subscriptions:
                expected[(u.slug, sub)] = staff_events
        wait_until = time.monotonic() + 120
        while any(not events <= {e for e, _ in receiver.arrivals.get(key, [])} for key, events in expected.items()):
            assert time.monotonic() < wait_until, f"webhooks missing\n{stack.tails()}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.5)
        for u in loaded:
            for sub, subscription_id in u.subscriptions.items():
                arrivals = receiver.arrivals[(u.slug, sub)]
                # Only events of the subscription's own university; one webhook-id per event.
                ids_per_event: dict[str, set[str]] = {}
                for event, webhook_id in arrivals:
                    ids_per_event.setdefault(event, set()).add(webhook_id)
                assert expected[(u.slug, sub)] <= ids_per_event.keys()
                others = {e for (slug, _), events in expected.items() if slug != u.slug for e in events}
                assert not ids_per_event.keys() & others
                assert all(len(ids) == 1 for ids in ids_per_event.values()), ids_per_event
                r = await client.get(
                    f"{survivor}/api/v1/webhooks/subscriptions/{subscription_id}/deliveries",
                    params={"event_type": "account.created", "limit": 200},
                    headers=u.headers,
                )
                # A delivery whose POST arrived just before its worker was killed is recorded when the sweep
                # re-sends it (same webhook-id) after its lease: wait for that.
                settle_until = time.monotonic() + 120
                while {d["status"] for d in r.json()["items"]} != {"succeeded"} and time.monotonic() < settle_until:
                    await asyncio.sleep(1)
                    r = await client.get(
                        f"{survivor}/api/v1/webhooks/subscriptions/{subscription_id}/deliveries",
                        params={"event_type": "account.created", "limit": 200},
                        headers=u.headers,
                    )
                deliveries = [d for d in r.json()["items"] if d["event_id"] in expected[(u.slug, sub)]]
                assert sorted(d["event_id"] for d in deliveries) == sorted(expected[(u.slug, sub)])
                assert {d["status"] for d in deliveries} == {"succeeded"}, deliveries
        await runner.cleanup()

        # Periodic reports: wait until every owed period has its report and the workers have finished the
        # messages sent twice (each sent message ends in one "report.generated", more if redelivered).
        privileged = stack.env["XINFANG_DATABASE_URL"]
        report_sql = "select tenant_id::text, kind, period_start, id, revision, generated_at from reports"
        wait_until = time.monotonic() + 120
        while True:
            reports = _query(privileged, report_sql)
            kinds_made = {(t, k) for t, k, *_ in reports}
            if kinds_made >= {(t, k) for t, k, _ in owed} and sum(_reports_computed(stack).values()) >= 2 * len(owed):
                break
            assert time.monotonic() < wait_until, f"reports missing: {reports}\n{stack.tails()}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.5)  # room for a duplicate to show up
        reports = _query(privileged, report_sql)
        made = [(t, k, p) for t, k, p, *_ in reports]
        # Exactly one report per owed period, each the first revision, computed by the workers while the stack
        # ran; no other university has one. (Should a period close while the stack runs, the sweep owes the new
        # one instead of, or as well as, the one owed at the start.)
        ended = dt.datetime.now(dt.UTC)
        owed_at_end = {
            (tid, kind, start)
            for tid, t in historic.items()
            for kind, start in _due_periods(t["timezone"], dt.datetime.fromisoformat(t["created_at"]), ended)
        }
        duplicates = {key: n for key, n in Counter(made).items() if n > 1}
        assert duplicates == {}, duplicates
        assert {(t, k) for t, k, _ in made} == {(t, k) for t, k, _ in owed}
        assert set(made) <= owed | owed_at_end, made
        assert {revision for *_, revision, _ in reports} == {1}
        assert all(generated >= stack.started_at for *_, generated in reports)
        # Each claimed by the sweep (in schedule_runs, once by its key), and announced exactly once.
        claims = _query(privileged, "select job, period_key from schedule_runs where job like 'reports:%'")
        claimed = {(job.removeprefix("reports:"), *key.split(":")) for job, key in claims}
        assert (
            {(t, k, p.isoformat()) for t, k, p in made}
            <= claimed
            <= {(t, k, p.isoformat()) for t, k, p in owed | owed_at_end}
        )
        ready = _query(
            privileged,
            "select subject_id, tenant_id::text, payload->>'kind', payload->>'period_start' from journal "
            "where type = 'report.ready'",
        )
        assert sorted(ready) == sorted((rid, t, k, p.isoformat()) for t, k, p, rid, *_ in reports)
        for u in universities:  # onboarded today: no period of theirs has closed
            r = await client.get(f"{survivor}/api/v1/reports", headers=u.headers)
            assert r.status_code == 200 and r.json()["items"] == [], r.text
        print(f"{len(made)} periodic reports; computations per worker: {_reports_computed(stack)}")

    # The traffic really went through PgBouncer's transaction pool.
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{stack.pgbouncer_port}/pgbouncer", autocommit=True) as admin:
        result = admin.pgconn.exec_(b"SHOW STATS")
        columns = [result.fname(i).decode() for i in range(result.nfields)]
        xacts = sum(
            int(result.get_value(row, columns.index("total_xact_count")).decode())  # type: ignore[union-attr]
            for row in range(result.ntuples)
        )
    assert xacts >= total

    # Graceful shutdown: SIGTERM stops every process in time; the scheduler gives its lease back.
    running = {name: proc for name, proc in stack.procs.items() if proc.poll() is None}
    assert set(running) == set(stack.procs) - {"api1", "worker1"}, stack.tails()
    for proc in running.values():
        proc.send_signal(signal.SIGTERM)
    for name, proc in running.items():
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} did not stop on SIGTERM\n{stack.tails()}")
    with psycopg.connect(stack.env["XINFANG_DATABASE_URL"], autocommit=True) as conn:
        assert conn.execute("select count(*) from scheduler_leases").fetchone() == (0,)
