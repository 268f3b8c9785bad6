"""Real processes: a Dramatiq worker and the scheduler over the PostgreSQL broker finish a university's
onboarding; the embedded stack (`xinfang run`, what `make run` starts) comes up ready and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tenants.db import tenant_context
from tenants.journal import JournalEvent
from tests.support.processes import free_port, start, stop

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


async def test_a_real_worker_finishes_onboarding(db, make_tenant):
    worker = start("worker", "--processes", "1", "--threads", "2")
    scheduler = start("scheduler")
    try:
        tenant = await make_tenant()
        deadline = time.monotonic() + 60
        types: list[str] = []
        while time.monotonic() < deadline:
            with tenant_context(tenant.id):
                async with db.transaction() as s:
                    types = list(await s.scalars(select(JournalEvent.type).order_by(JournalEvent.seq)))
            if "tenant.provisioned" in types:
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:] if worker.stderr else ""
            assert scheduler.poll() is None, scheduler.stderr.read().decode()[-2000:] if scheduler.stderr else ""
            await asyncio.sleep(0.3)
        assert types.count("tenant.provisioned") == 1, types
    finally:
        stop(worker)
        stop(scheduler)
    assert worker.returncode == 0 and scheduler.returncode == 0


def _collect(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert process.stdout is not None
    lines.extend(line.decode() for line in process.stdout)


def test_the_embedded_stack_starts_ready_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")}
    env.update(XINFANG_DATA_DIR=str(tmp_path / "data"), XINFANG_PORT=str(port), XINFANG_LOG_FORMAT="json")
    for attempt in range(2):  # the second run reuses the data and the demo
        stack = subprocess.Popen(
            [sys.executable, "-m", "service.ops.cli", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(stack, lines), daemon=True)
        reader.start()
        try:
            # Wait for what a newcomer waits for: the banner, printed once the stack has seen /ready answer 200.
            deadline = time.monotonic() + 180
            while (
                time.monotonic() < deadline
                and stack.poll() is None
                and not any("Xinfang is running" in x for x in lines)
            ):
                time.sleep(0.3)
            assert any("Xinfang is running" in x for x in lines), f"run {attempt}: no banner\n{''.join(lines)[-2000:]}"
            assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
            creds = json.loads((tmp_path / "data" / "demo-credentials.json").read_text())
            for key in (
                "platform_admin_token",
                "tenant_slug",
                "tenant_admin_email",
                "tenant_admin_password",
                "integrator_api_key",
            ):
                assert creds.get(key), key
            login = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/login",
                json={
                    "tenant": creds["tenant_slug"],
                    "email": creds["tenant_admin_email"],
                    "password": creds["tenant_admin_password"],
                },
            )
            assert login.status_code == 200, login.text
            tenants = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/platform/tenants",
                headers={"Authorization": f"Bearer {creds['platform_admin_token']}"},
            )
            assert [t["slug"] for t in tenants.json()["items"]] == ["demo"]
            # Every demo account is listed with its password, and signs in (the bureau viewer without a slug).
            accounts = creds["demo_accounts"]
            assert {"petition_officer", "unit_staff", "student", "bureau_viewer"} <= set(accounts)
            assert {f"{g}_leader" for g in ("leadership", "handling", "info_release", "logistics")} <= set(accounts)
            for key, account in accounts.items():
                assert account["email"] in "".join(lines) and account["password"] in "".join(lines), key
                body = {"email": account["email"], "password": account["password"]}
                if key != "bureau_viewer":
                    body["tenant"] = creds["tenant_slug"]
                r = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json=body, timeout=10)
                assert r.status_code == 200, (key, r.text)
            officer = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/login",
                json={"tenant": "demo", "email": accounts["petition_officer"]["email"],
                      "password": accounts["petition_officer"]["password"]},
            ).json()["access_token"]  # fmt: skip
            # The year of history is there, and the console page says so.
            listed = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/petitions",
                params={"limit": 200},
                headers={"Authorization": f"Bearer {officer}"},
                timeout=10,
            )
            assert listed.status_code == 200 and len(listed.json()["items"]) == 200
            assert f"http://127.0.0.1:{port}/console" in "".join(lines)
            # xinfang commands work against the running stack with no XINFANG_ variable but the data dir:
            # they read the env file `xinfang run` wrote.
            env_file = tmp_path / "data" / "env"
            assert env_file.is_file() and env_file.stat().st_mode & 0o777 == 0o600
            bare = {k: v for k, v in env.items() if k not in ("XINFANG_PORT", "XINFANG_LOG_FORMAT")}
            migrated = subprocess.run(
                [sys.executable, "-m", "service.ops.cli", "migrate"], cwd=ROOT, env=bare, capture_output=True
            )
            assert migrated.returncode == 0, migrated.stderr.decode()[-2000:]
        finally:
            os.killpg(stack.pid, signal.SIGINT)
            stack.wait(timeout=60)
            reader.join(10)
        text = "".join(lines)
        assert stack.returncode == 0, text[-2000:]
        assert "Xinfang is running" in text and "Xinfang stopped" in text
        assert "/schema" in text and "platform_admin_token" in text
        assert not (tmp_path / "data" / "env").exists()  # stopped: commands no longer find a socket
    # Stopped, a command without a database says how to get one.
    bare = {k: v for k, v in env.items() if k != "XINFANG_PORT"}
    failed = subprocess.run(
        [sys.executable, "-m", "service.ops.cli", "migrate"], cwd=ROOT, env=bare, capture_output=True
    )
    assert failed.returncode == 2 and b"make run" in failed.stderr
