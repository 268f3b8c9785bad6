"""Benchmark ``intake_sql``: where PostgreSQL's CPU per submission goes (issue 20's breakdown).

    python -m tests.bench.intake_sql            (BENCH_REQUESTS=4000 per variant, 16 connections)

Drives ``services.submit`` — the intake's own statement, ``intake_petition`` (migration 0023), with an
Idempotency-Key and a named petitioner, as the mobile endpoint calls it, without HTTP — from 16 concurrent intake
connections against the embedded PostgreSQL, and reports the CPU time of that server's own processes per
submission (and the application's, in-process), first as shipped, then with one thing taken away at a time (as the
owner, on a scratch database): the Idempotency-Key, the full-text GIN index, the other petition indexes, the
journal's secondary indexes, the category foreign key, and — for comparison only, not acceptable in production —
``synchronous_commit = off``. Prints the table and writes ``.xinfang/bench/intake_sql.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from typing import Any

from tests.bench._cpu import postmaster_of, tree_cpu
from tests.bench.submission import BODY, ROOT, bench_settings, seed

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))
LANES = 16

# (name, DDL run as the owner before the variant: each variant also keeps what the ones before it took away)
_PETITION_INDEXES = ["ix_petitions_due", "ix_petitions_received", "ix_petitions_unit", "ix_petitions_registered_by",
                     "ix_petitions_state_scope"]  # fmt: skip
_JOURNAL_INDEXES = ["ix_journal_txid_seq", "ix_journal_tenant_type_occurred", "ix_journal_tenant_txid",
                    "ix_journal_tenant_petition", "ix_journal_tenant_incident"]  # fmt: skip
VARIANTS: list[tuple[str, list[str]]] = [
    ("as shipped", []),
    ("without the Idempotency-Key", []),
    ("without the full-text GIN index", ["drop index ix_petitions_search"]),
    ("without the other secondary petition indexes", [f"drop index {i}" for i in _PETITION_INDEXES]),
    ("without the journal's secondary indexes", [f"drop index {i}" for i in _JOURNAL_INDEXES]),
    (
        "without the category foreign key",
        ["alter table petitions drop constraint petitions_tenant_id_category_id_fkey"],
    ),
    ("with synchronous_commit off (not acceptable: shown for scale)", []),
]


async def run(owner_url: str, app_url: str, principal: Any) -> list[dict[str, Any]]:
    import asyncpg
    import msgspec

    from service.petitions import controllers, services
    from service.petitions import schemas as s
    from tenants import idempotency
    from tenants.db import Database, set_tenant

    db = Database(app_url, pool_size=LANES)
    data = controllers.submission(msgspec.json.decode(BODY, type=s.SubmissionIn))
    postmaster = postmaster_of(owner_url.replace("+asyncpg", ""))
    owner = await asyncpg.connect(owner_url)
    rows = []
    try:
        for name, ddl in VARIANTS:
            for statement in ddl:
                await owner.execute(statement)
            keyed = name != "without the Idempotency-Key"
            lazy = name.startswith("with synchronous_commit off")

            async def one(i: int, keyed: bool = keyed, lazy: bool = lazy) -> None:
                set_tenant(principal.tenant_id)
                attempt = idempotency.Attempt.of(uuid.uuid4().hex, principal, "f" * 64) if keyed else None
                async with db.intake_connection() as connection:
                    if lazy:
                        await connection.execute("set synchronous_commit = off")
                    await services.submit(
                        connection, db, data, principal=principal, attempt=attempt, render=lambda p, c: b"{}"
                    )
                    if lazy:
                        await connection.execute("reset synchronous_commit")

            for i in range(200):  # warm-up
                await one(i)
            work = iter(range(REQUESTS))

            async def lane(work: Any = work) -> None:
                for i in work:
                    await one(i)

            started, app, database = time.perf_counter(), time.process_time(), tree_cpu(postmaster)
            await asyncio.gather(*(lane() for _ in range(LANES)))
            elapsed = time.perf_counter() - started
            row = {
                "variant": name,
                "postgres_cpu_ms": round((tree_cpu(postmaster) - database) * 1000 / REQUESTS, 3),
                "app_cpu_ms": round((time.process_time() - app) * 1000 / REQUESTS, 3),
                "per_s": round(REQUESTS / elapsed),
            }
            rows.append(row)
            print(
                f"  {name:<62} PostgreSQL {row['postgres_cpu_ms']:.3f} ms, app {row['app_cpu_ms']:.3f} ms per"
                f" submission, {row['per_s']:,}/s",
                flush=True,
            )
    finally:
        await owner.close()
        await db.dispose()
    return rows


def main() -> int:
    from service.ops.cli import migrate
    from service.ops.embedded import database_url, start_postgres
    from tenants import crypto, identity
    from tenants.settings import get_settings

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    owner_url = database_url(server, f"xf_bench_sql_{uuid.uuid4().hex[:6]}")
    os.environ.update(bench_settings(owner_url))
    migrate()
    import uvloop

    tokens = uvloop.run(seed(1))
    settings = get_settings()
    crypto.configure(settings.data_key_bytes)
    principal, _ = identity.Tokens(settings.secret_key, access_ttl=3600, refresh_ttl=3600).verify(
        tokens[0], typ="access"
    )
    rows = uvloop.run(run(owner_url, settings.app_url, principal))
    shipped = rows[0]["postgres_cpu_ms"]
    result = {
        "name": "intake_sql",
        "figures": {r["variant"]: r for r in rows},
        "baseline": {"as shipped": rows[0]},
        "ratio": None,
        "target": None,
        "passed": None,
        "savings_ms": {r["variant"]: round(shipped - r["postgres_cpu_ms"], 3) for r in rows[1:]},
    }
    out = ROOT / ".xinfang" / "bench" / "intake_sql.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
