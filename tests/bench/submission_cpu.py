"""Benchmark ``submission_cpu``: CPU time the application spends per submission, in-process.

    python -m tests.bench.submission_cpu        (BENCH_REQUESTS=3000, BENCH_REPEATS=5)

The ``submission`` benchmark's rate depends on everything sharing the two cores (PostgreSQL, the load generator,
other jobs); this one isolates the part the code controls and is steady on a busy machine. It drives the real
app (``service.http.app.create_app``, every middleware, the embedded PostgreSQL as the application role) with ASGI
calls — no HTTP server, no client — from 16 concurrent lanes, and reports the process CPU time per
``POST /api/v1/petitions`` (signed-in petitioner, named, Idempotency-Key), and the CPU time PostgreSQL's processes
spent meanwhile (the benchmark's own server), per submission: the minimum over the repeats.
``BENCH_PROFILE=1`` also writes a cProfile of one repeat to ``.xinfang/bench/submission_cpu.pstats``.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import time
import uuid
from typing import Any

from tests.bench._cpu import postmaster_of, tree_cpu
from tests.bench.submission import BODY, ROOT, bench_settings, seed

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
LANES = 16


async def drive(tokens: list[str], postmaster: int) -> list[tuple[float, float]]:
    from service.http.app import create_app

    app = create_app()

    async def call(i: int) -> None:
        headers = [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {tokens[i % len(tokens)]}".encode()),
            (b"idempotency-key", uuid.uuid4().hex.encode()),
            (b"content-length", str(len(BODY)).encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/v1/petitions",
            "raw_path": b"/api/v1/petitions",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 40000 + i % 1000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        statuses: list[int] = []
        bodies: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": BODY, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            elif message["type"] == "http.response.body" and statuses[-1] != 201:
                bodies.append(message.get("body", b""))

        await app(scope, receive, send)  # type: ignore[arg-type]
        assert statuses == [201], (statuses, bodies)

    per_request: list[tuple[float, float]] = []
    async with app.lifespan():
        for i in range(100):  # warm-up: connections, caches, prepared statements
            await call(i)
        for repeat in range(REPEATS):
            requests = iter(range(REQUESTS))

            async def lane(requests: Any = requests) -> None:
                for i in requests:
                    await call(i)

            profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") and repeat == 0 else None
            if profile:
                profile.enable()
            started, database = time.process_time(), tree_cpu(postmaster)
            await asyncio.gather(*(lane() for _ in range(LANES)))
            cpu = (time.process_time() - started) / REQUESTS
            database = (tree_cpu(postmaster) - database) / REQUESTS
            if profile:
                profile.disable()
                out = ROOT / ".xinfang" / "bench" / "submission_cpu.pstats"
                out.parent.mkdir(parents=True, exist_ok=True)
                profile.dump_stats(out)
                print(f"  profile of repeat 0 written to {out}")
            else:
                per_request.append((cpu, database))
            print(
                f"  repeat {repeat}: {cpu * 1000:.3f} ms CPU per submission, PostgreSQL {database * 1000:.3f} ms",
                flush=True,
            )
    return per_request


def main() -> int:
    from service.ops.cli import migrate
    from service.ops.embedded import database_url, start_postgres

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    url = database_url(server, f"xf_bench_cpu_{uuid.uuid4().hex[:6]}")
    os.environ.update(bench_settings(url))
    migrate()
    import uvloop

    tokens = uvloop.run(seed(32))
    repeats = uvloop.run(drive(tokens, postmaster_of(url)))
    app, database = min(r[0] for r in repeats), min(r[1] for r in repeats)
    result = {
        "name": "submission_cpu",
        "figures": {"app_cpu_ms": round(app * 1000, 3), "postgres_cpu_ms": round(database * 1000, 3)},
        "requests": REQUESTS,
        "repeats_ms": [[round(a * 1000, 3), round(d * 1000, 3)] for a, d in repeats],
    }
    out = ROOT / ".xinfang" / "bench" / "submission_cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(
        f"CPU per submission (min of {len(repeats)}): application (in-process) {app * 1000:.3f} ms,"
        f" PostgreSQL {database * 1000:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
