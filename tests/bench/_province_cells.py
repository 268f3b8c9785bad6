"""Part (d) of the analytics benchmark: the precomputed province cells on the generated universities.

- a full rebuild of every university (the whole generated year) from the journal, two universities at a time;
- folding a day's new events of the province: the journal rows of the last generated day are taken out before
  the rebuild and put back afterwards (as new transactions), then every university is folded;
- the bureau's work per request from the cells (read through the platform-path functions + publication with
  suppression): aggregates, rankings and statistics, p95 over repeated requests for every province.

Targets (issue 16): bureau p95 < 100 ms, a day's fold < 5 s, a rebuild < 60 s at 50 universities.
"""

from __future__ import annotations

import asyncio
import statistics as stats
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

TARGETS = {"bureau_p95_ms": 100.0, "day_fold_s": 5.0, "rebuild_s": 60.0}


def run(admin_url: str, app_url: str, tenants: list[uuid.UUID], until: Any, *, requests: int = 40) -> dict[str, Any]:
    import psycopg

    from analytics.province import cells as province_cells
    from analytics.province import jobs as province_jobs
    from analytics.province import statistics as province
    from tenants.db import Database

    day_start = datetime.combine(until, datetime.min.time(), UTC) - timedelta(days=1, hours=8)  # local day, UTC+8
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_held_day")
        conn.execute("create table bench_held_day as select * from journal where occurred_at >= %s", (day_start,))
        held = conn.execute("select count(*) from bench_held_day").fetchone()[0]
        conn.execute("delete from journal where occurred_at >= %s", (day_start,))
        conn.execute("vacuum analyze journal")
    out: dict[str, Any] = {"day_events": held}

    async def main() -> None:
        db = Database(app_url, pool_size=4)
        try:
            t = time.perf_counter()
            results = await province_jobs.fold_all(db, tenants, rebuild=True, jobs=2)
            out["rebuild_s"] = round(time.perf_counter() - t, 2)
            out["rebuild_events"] = sum(r.events for r in results)
            print(f"(d) rebuild of {len(tenants)} universities ({out['rebuild_events']:,} petition events): "
                  f"{out['rebuild_s']:.1f} s")  # fmt: skip
            with psycopg.connect(admin_url, autocommit=True) as conn:
                columns = [
                    r[0]
                    for r in conn.execute(
                        "select column_name from information_schema.columns where table_name = 'journal' "
                        "and column_name <> 'txid' order by ordinal_position"
                    ).fetchall()
                ]
                names = ", ".join(columns)
                # Back as new transactions (one per university), as a day's intake would commit them.
                for tenant in tenants:
                    conn.execute(
                        f"insert into journal ({names}) overriding system value select {names} from bench_held_day "
                        "where tenant_id = %s",
                        (tenant,),
                    )
                conn.execute("drop table bench_held_day")
            t = time.perf_counter()
            results = await province_jobs.fold_all(db, tenants, jobs=2)
            out["day_fold_s"] = round(time.perf_counter() - t, 2)
            out["day_fold_events_read"] = sum(r.events for r in results)
            print(f"(d) a day's fold: {held:,} new events, {out['day_fold_events_read']:,} events of the touched "
                  f"petitions read, {out['day_fold_s']:.2f} s")  # fmt: skip
            async with db.transaction() as session:
                from sqlalchemy import select

                from tenants.tenancy import Tenant

                codes = sorted(set(await session.scalars(select(Tenant.province_code).where(Tenant.id.in_(tenants)))))
            # The last full quarter of the history, and its year for the statistics.
            last = until - timedelta(days=1)
            quarter = (last.month - 1) // 3 + 1
            year, quarter = (last.year, quarter - 1) if quarter > 1 else (last.year - 1, 4)
            window = province.Window(year, quarter)
            timings: dict[str, list[float]] = {"aggregates": [], "rankings": [], "statistics": []}
            for _ in range(requests):
                for code in codes:
                    t = time.perf_counter()
                    data = await province_jobs.read(db, code, window)
                    province_cells.published_metrics(data.universities, data.cells)
                    timings["aggregates"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    data = await province_jobs.read(db, code, window)
                    metrics, _ = province_cells.published_metrics(data.universities, data.cells)
                    province.rankings(metrics, data.universities)
                    timings["rankings"].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    data = await province_jobs.read(db, code, province.Window(year), dimensions=True)
                    province_cells.published_statistics(data.universities, data.cells, data.dimensions)
                    timings["statistics"].append(time.perf_counter() - t)
            for name, values in timings.items():
                p95 = stats.quantiles(values, n=20)[-1] * 1000
                out[f"{name}_p95_ms"] = round(p95, 1)
                out[f"{name}_p50_ms"] = round(stats.median(values) * 1000, 1)
                print(f"(d) bureau {name} from the cells ({len(codes)} provinces, {window.describe()['start']}): "
                      f"p50 {out[f'{name}_p50_ms']:.1f} ms, p95 {p95:.1f} ms")  # fmt: skip
        finally:
            await db.dispose()

    asyncio.run(main())
    out["bureau_p95_ms"] = max(out[f"{n}_p95_ms"] for n in ("aggregates", "rankings", "statistics"))
    out["passed"] = {
        "bureau_p95": out["bureau_p95_ms"] < TARGETS["bureau_p95_ms"],
        "day_fold": out["day_fold_s"] < TARGETS["day_fold_s"],
        "rebuild": out["rebuild_s"] < TARGETS["rebuild_s"],
    }
    return out
