"""Export, import and offboard one university of a given size; prints the times.

    .venv/bin/python -m tests.bench.tenant_archive [ACCOUNTS] [EVENTS]

Uses the embedded PostgreSQL under .xinfang/bench-pgdata and two throw-away databases (source and target).
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def main(accounts: int, events: int) -> None:
    os.environ.update(
        XINFANG_ENV="test",
        XINFANG_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop",
        XINFANG_DATA_KEY=base64.b64encode(b"b" * 32).decode(),
    )
    from service.ops.cli import migrate
    from service.ops.embedded import database_url, start_postgres
    from service.ops.tenant_archive import export_tenant, import_tenant, offboard_tenant
    from tenants import crypto, identity, journal, tenancy
    from tenants.db import Database
    from tenants.ids import new_id
    from tenants.settings import get_settings

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    urls = {}
    for name in ("xf_bench_source", "xf_bench_target"):
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        urls[name] = database_url(server, name)
        os.environ["XINFANG_DATABASE_URL"] = urls[name]
        get_settings.cache_clear()
        migrate()
    os.environ["XINFANG_DATABASE_URL"] = urls["xf_bench_source"]
    get_settings.cache_clear()
    settings = get_settings()
    crypto.configure(settings.data_key_bytes)
    key = settings.data_key_bytes

    async def populate() -> str:
        db = Database.from_settings(settings)
        tenant_id = new_id()
        async with db.transaction(tenant_id) as session:
            await tenancy.create_tenant(
                session,
                slug="bench-university",
                name_zh="基准大学",
                name_en="Bench University",
                province_code="440000",
                timezone="Asia/Shanghai",
                admin_email="admin@bench.edu.cn",
                actor_id=None,
            )
        password_hash = identity.hash_password("bench-password-1")
        for start in range(0, accounts, 1000):
            async with db.transaction(tenant_id) as session:
                session.add_all(
                    identity.Account(
                        email=f"s{i}@bench.edu.cn", password_hash=password_hash, role="staff", display_name=f"职员{i}"
                    )
                    for i in range(start, min(start + 1000, accounts))
                )
        for start in range(0, events, 5000):
            async with db.transaction(tenant_id) as session:
                for _ in range(start, min(start + 5000, events)):
                    await journal.record(session, "tenant.created", subject_id=tenant_id, slug="bench-university")
        await db.dispose()
        return str(tenant_id)

    tenant = asyncio.run(populate())
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "bench.tar.gz"
        with psycopg.connect(urls["xf_bench_source"], autocommit=True) as source:
            t = time.perf_counter()
            manifest = export_tenant(source, tenant, archive, data_key=key)
            exported = time.perf_counter() - t
        rows = sum(e["rows"] for e in manifest["tables"])
        with psycopg.connect(urls["xf_bench_target"], autocommit=True) as target:
            t = time.perf_counter()
            import_tenant(target, archive, data_key=key)
            imported = time.perf_counter() - t
        with psycopg.connect(urls["xf_bench_source"], autocommit=True) as source:
            t = time.perf_counter()
            offboard_tenant(source, tenant, Path(tmp) / "off.tar.gz", data_key=key, confirm="bench-university")
            offboarded = time.perf_counter() - t
        size = archive.stat().st_size
    print(
        f"{rows} rows ({accounts} accounts, {events} events), archive {size / 1e6:.1f} MB: "
        f"export {exported:.2f} s ({rows / exported:,.0f} rows/s), import {imported:.2f} s "
        f"({rows / imported:,.0f} rows/s), offboard (export + delete) {offboarded:.2f} s"
    )
    with psycopg.connect(server, autocommit=True) as conn:
        for name in urls:
            conn.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
