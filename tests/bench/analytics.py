"""Analytics benchmark (a): extraction of one tenant's journal into Polars, beside a plain COPY of the same rows.

    .venv/bin/python -m tests.bench.analytics [EVENTS_PER_TENANT]

Two universities' petition journals (synthetic lifecycles written by SQL into the real journal table, ~8 events
per petition) in a throw-away database of the embedded PostgreSQL under .xinfang/bench-pgdata. Every path runs
as the application role in tenant A's transaction, so row-level security returns A's rows only (checked).
ADBC and connectorx are measured when installed (they are not dependencies); see analytics/extract.py.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DB = "xf_bench_analytics"

# One petition's lifecycle: (type, hours after submission, payload SQL beyond kind and category).
LIFECYCLE = [
    ("submitted", 0, "'channel', 'online'"),
    ("accepted", 30, "'days', 1"),
    ("assigned", 31, None),
    ("transferred", 40, "'from_unit', 'u'"),
    ("started", 50, None),
    ("replied", 400, "'outcome', 'supported', 'days', 16"),
    ("rated", 420, "'rating', 'satisfied', 'stage', 'reply'"),
    ("closed", 700, None),
]


def populate(url: str, tenants: list[str], events: int) -> None:
    petitions = events // len(LIFECYCLE)
    parts = []
    for step, (event, hours, extra) in enumerate(LIFECYCLE):
        payload = "'kind', 'complaint', 'category', 'c' || mod(i, 12)" + (f", {extra}" if extra else "")
        # Drop a share of later steps so cohorts differ (every 7th petition stops after acceptance).
        keep = "true" if step < 2 else "mod(i, 7) <> 0"
        parts.append(
            f"select t, gen_random_uuid(), timestamptz '2025-01-01' + mod(i, 525600) * interval '1 minute' "
            f"+ {hours} * interval '1 hour', 'petition.{event}', p, null::uuid, u, null::uuid, "
            f"jsonb_build_object({payload}) from s where {keep}"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        for tenant in tenants:
            conn.execute(
                "insert into journal (tenant_id, id, occurred_at, type, petition_id, incident_id, org_unit_id, "
                "subject_id, payload) with s as (select %s::uuid as t, i, gen_random_uuid() as p, "
                "gen_random_uuid() as u from generate_series(1, %s) as i) " + " union all ".join(parts),
                (tenant, petitions),
            )
        conn.execute("vacuum analyze journal")


def best(label: str, rows_expected: int, runs: int, fn: Callable[[], int]) -> None:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - t)
        if rows != rows_expected:
            print(f"  {label}: {rows:,} rows (expected {rows_expected:,}): not the tenant's rows")
            return
    t = min(times)
    print(f"  {label:<44} {t:6.2f} s  {rows_expected / t:>12,.0f} rows/s")


def main(events: int = 1_000_000) -> None:
    os.environ.update(
        XINFANG_ENV="test",
        XINFANG_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop",
        XINFANG_DATA_KEY=base64.b64encode(b"b" * 32).decode(),
    )
    import polars as pl

    from analytics.extract import _select, journal_frame
    from analytics.metrics import coordination, localize, petition_facts, satisfaction, timeliness
    from service.cli import migrate
    from service.embedded import database_url, start_postgres
    from tenants import tenancy
    from tenants.db import Database
    from tenants.ids import new_id
    from tenants.settings import get_settings

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    os.environ["XINFANG_DATABASE_URL"] = url = database_url(server, DB)
    get_settings.cache_clear()
    migrate()
    settings = get_settings()

    async def make_tenants() -> list[str]:
        db = Database.from_settings(settings)
        ids = []
        for n in range(2):
            tenant_id = new_id()
            async with db.transaction(tenant_id) as session:
                await tenancy.create_tenant(
                    session,
                    slug=f"bench-{n}",
                    name_zh="基准大学",
                    name_en="Bench University",
                    province_code="440000",
                    timezone="Asia/Shanghai",
                    admin_email=f"admin@bench-{n}.edu.cn",
                    actor_id=None,
                )
            ids.append(str(tenant_id))
        await db.dispose()
        return ids

    tenants = asyncio.run(make_tenants())
    t = time.perf_counter()
    populate(url, tenants, events)
    with psycopg.connect(url) as conn:
        expected = conn.execute(
            "select count(*) from journal where tenant_id = %s and type like 'petition.%%'", (tenants[0],)
        ).fetchone()[0]
        total = conn.execute("select count(*) from journal").fetchone()[0]
    print(
        f"journal: {total:,} rows, tenant A {expected:,} petition events (written in {time.perf_counter() - t:.0f} s)"
    )
    app_url = settings.app_url
    sql = _select()

    async def copy_only(fmt: str) -> int:
        import asyncpg

        conn = await asyncpg.connect(app_url)
        try:
            async with conn.transaction():
                await conn.execute("select set_config('app.tenant_id', $1, true)", tenants[0])
                buffer = io.BytesIO()
                status = await conn.copy_from_query(sql, output=buffer, format=fmt)
        finally:
            await conn.close()
        return int(status.split()[1])  # "COPY <rows>"

    extracted: dict[str, pl.DataFrame] = {}

    async def polars_copy() -> int:
        db = Database(app_url, pool_size=1)
        try:
            async with db.transaction(uuid.UUID(tenants[0])) as session:
                extracted["frame"] = frame = await journal_frame(session)
        finally:
            await db.dispose()
        return frame.height

    runs = 3
    print(f"tenant A, best of {runs}:")
    best("plain COPY ... TO STDOUT (csv), bytes only", expected, runs, lambda: asyncio.run(copy_only("csv")))
    best("plain COPY ... TO STDOUT (binary), bytes only", expected, runs, lambda: asyncio.run(copy_only("binary")))
    best("analytics.extract (COPY csv -> pl.read_csv)", expected, runs, lambda: asyncio.run(polars_copy()))

    def quarterly_metrics() -> int:
        journal = localize(extracted["frame"].lazy(), {tenants[0]: "Asia/Shanghai"})
        facts = petition_facts(journal).collect().lazy()  # computed once, shared by the three metric families
        for by in ([], ["org_unit_id"], ["category"], ["kind"]):
            for metric in (timeliness, coordination, satisfaction):
                metric(journal, period="quarter", by=by, facts=facts)
        return extracted["frame"].height

    best("metrics: 3 families x 4 breakdowns, quarterly", expected, runs, quarterly_metrics)

    libpq_url = app_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        print("  ADBC: not installed")
    else:

        def via_adbc() -> int:
            # The dbapi connection is not in autocommit: set_config and the query share one transaction.
            with adbc.connect(libpq_url) as conn, conn.cursor() as cur:
                cur.execute(f"select set_config('app.tenant_id', '{uuid.UUID(tenants[0])}', true)")
                cur.fetchall()
                cur.execute(sql)
                frame = pl.from_arrow(cur.fetch_arrow_table())
                conn.rollback()
            return frame.height

        best("ADBC (set_config + query, one transaction)", expected, runs, via_adbc)

    try:
        import connectorx  # noqa: F401
    except ImportError:
        print("  connectorx: not installed")
    else:

        def via_connectorx(url: str) -> Callable[[], int]:
            return lambda: pl.read_database_uri(sql, url, engine="connectorx").height

        # connectorx takes no ?host=: a Unix socket directory goes percent-encoded in the host part.
        parts = urlsplit(libpq_url)
        socket = dict(parse_qsl(parts.query)).get("host", "")
        cx_url = f"postgresql://{parts.username}@{quote(socket, safe='')}{parts.path}"
        best("connectorx (no tenant setting)", expected, 1, via_connectorx(cx_url))
        # The only way to give connectorx the tenant: a session-level setting in the connection's startup options.
        option = quote(f"-c app.tenant_id={tenants[0]}")
        best("connectorx (startup option app.tenant_id)", expected, runs, via_connectorx(f"{cx_url}?options={option}"))

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
