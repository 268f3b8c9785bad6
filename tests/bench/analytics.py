"""Analytics benchmark (issue #7) on generated data: 1,000,000 petitions, 10,000,000 journal events, 50 universities.

    .venv/bin/python -m tests.bench.analytics [SCALE]        # or XINFANG_BENCH_SCALE=0.01; default 1.0
    XINFANG_BENCH_UNIVERSITIES=200 .venv/bin/python -m tests.bench.analytics 1.0   # 200 of the same size

The data comes from ``xinfang demo generate`` (``service.ops.synthetic``: universities provisioned through the
services, history loaded by COPY under each tenant's context) in a throw-away database of the embedded
PostgreSQL under .xinfang/bench-pgdata. Incidents are sized so that the journal reaches the event target.

(a) extraction of the largest university's petition journal into Polars (``analytics.extract``), beside a plain
    ``COPY … TO STDOUT`` of the same rows in the same run (csv and binary), as the application role in that
    university's transaction (row-level security returns its rows only; checked); ADBC and connectorx too when
    installed (they are not dependencies: see analytics/extract.py for why COPY is the path kept);
(b) that university's quarterly metrics (3 petition families × 4 breakdowns, incident step times, tasks by unit,
    information release) and the province aggregates (every university's metrics, grouped by university) in
    Polars, beside the same metrics in DuckDB SQL (tests/bench/_analytics_duckdb.py) over the same in-memory
    frames; both results are checked equal before the times are compared (``ratio`` = DuckDB / Polars);
(c) the peak RSS of the process during (b) (VmHWM, reset before each engine).

Prints the figures and writes .xinfang/bench/analytics.json.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from tests.bench._province_cells import TARGETS as PROVINCE_TARGETS

ROOT = Path(__file__).resolve().parents[2]
DB = "xf_bench_analytics"
PETITIONS, EVENTS, UNIVERSITIES = 1_000_000, 10_000_000, 50
# Measured on generated data: journal events per petition and per incident (to size the incidents).
EVENTS_PER_PETITION, EVENTS_PER_INCIDENT = 6.9, 45
BREAKDOWNS: list[list[str]] = [[], ["org_unit_id"], ["category"], ["kind"]]
UNTIL = date(2026, 11, 1)


def sizes(scale: float, universities: int | None = None) -> tuple[int, int, int]:
    """(universities, petitions, incidents) for a scale (1.0 = the issue's figures); ``universities``
    (``XINFANG_BENCH_UNIVERSITIES``, e.g. 200) sets their number and keeps the scale's size per university."""
    if universities is None and os.environ.get("XINFANG_BENCH_UNIVERSITIES"):
        universities = int(os.environ["XINFANG_BENCH_UNIVERSITIES"])
    if universities:
        scale *= universities / UNIVERSITIES
        tenants = universities
    else:
        tenants = min(UNIVERSITIES, max(2, round(UNIVERSITIES * min(1.0, scale * 10))))
    petitions = max(tenants * 10, round(PETITIONS * scale))
    incidents = max(tenants, round((EVENTS * scale - petitions * EVENTS_PER_PETITION) / EVENTS_PER_INCIDENT))
    return tenants, petitions, incidents


def reset_peak() -> None:
    """Reset the kernel's peak-RSS mark of this process (VmHWM) so the next reading covers what follows."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


# --- (b) the metrics, in Polars ----------------------------------------------------------------------------------


def tenant_quarterly(petitions: Any, incidents: Any, targets: dict[str, dict[str, int]]) -> dict[str, Any]:
    """One university's quarterly report metrics (what ``analytics`` computes for its evaluation report)."""
    from analytics.metrics import coordination, petition_facts, satisfaction, timeliness
    from analytics.metrics.incidents import (
        incident_facts,
        incident_timeliness,
        information_release,
        task_coordination,
        task_facts,
    )

    out: dict[str, Any] = {}
    facts = petition_facts(petitions).collect().lazy()  # once, shared by the three families
    for by in BREAKDOWNS:
        for name, metric in (
            ("timeliness", timeliness),
            ("coordination", coordination),
            ("satisfaction", satisfaction),
        ):
            out[f"{name}/{','.join(by)}"] = metric(petitions, period="quarter", by=by, facts=facts)
    ifacts = incident_facts(incidents).collect().lazy()
    tfacts = task_facts(incidents).collect().lazy()
    out["incident_timeliness"] = incident_timeliness(incidents, period="quarter", targets=targets, facts=ifacts)
    out["information_release"] = information_release(incidents, period="quarter", targets=targets, facts=ifacts)
    out["tasks/"] = task_coordination(incidents, period="quarter", facts=tfacts)
    out["tasks/org_unit_id"] = task_coordination(incidents, period="quarter", by=["org_unit_id"], facts=tfacts)
    return out


def tenant_level(petitions: Any, incidents: Any, targets: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Every university's metrics grouped by university: the stand-in for the province aggregates."""
    from analytics.metrics import coordination, petition_facts, satisfaction, timeliness
    from analytics.metrics.incidents import incident_facts, incident_timeliness, information_release, task_coordination

    facts = petition_facts(petitions).collect().lazy()  # once for the three families, as DuckDB's facts table
    out = {
        f"{name}/": metric(petitions, period="quarter", facts=facts)
        for name, metric in (("timeliness", timeliness), ("coordination", coordination), ("satisfaction", satisfaction))
    }
    ifacts = incident_facts(incidents).collect().lazy()
    out["incident_timeliness"] = incident_timeliness(incidents, period="quarter", targets=targets, facts=ifacts)
    out["information_release"] = information_release(incidents, period="quarter", targets=targets, facts=ifacts)
    out["tasks/"] = task_coordination(incidents, period="quarter")
    return out


# The hook for the lead: the province module (analytics' province aggregates with disclosure control) replaces
# this with a function of the same frames; the DuckDB side then needs the same SQL (see duck_queries).
PROVINCE_AGGREGATES: Callable[[Any, Any, dict[str, dict[str, int]]], dict[str, Any]] = tenant_level


# --- (b) the same metrics, in DuckDB ------------------------------------------------------------------------------


def duck_queries(names: list[str]) -> list[tuple[str, str]]:
    """(name, SQL) for each metric the Polars side computed (the facts tables are built first)."""
    from tests.bench import _analytics_duckdb as q

    out = []
    for name in names:
        family, _, by_text = name.partition("/")
        by = [b for b in by_text.split(",") if b]
        if family in ("incident_timeliness", "information_release"):
            sql = getattr(q, family)("quarter")
        else:
            sql = getattr(q, "task_coordination" if family == "tasks" else family)("quarter", by)
        out.append((name, sql))
    return out


def duck_run(petitions: Any, incidents: Any, targets: Any, names: list[str]) -> dict[str, Any]:
    import duckdb

    from tests.bench import _analytics_duckdb as q

    con = duckdb.connect()
    try:
        con.register("pj", petitions)
        con.register("ij", incidents)
        con.register("targets", targets)
        for setup in (q.PETITION_FACTS, q.INCIDENT_FACTS, q.TASK_FACTS):
            con.execute(setup)
        return {name: con.sql(sql).pl() for name, sql in duck_queries(names)}
    finally:
        con.close()


def same(polars_out: dict[str, Any], duck_out: dict[str, Any]) -> list[str]:
    """Names of the metrics whose values differ between the engines (empty: the same metrics)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    def normal(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        frame = frame.with_columns(
            pl.col(c).cast(pl.String) if t in (pl.Categorical, pl.Enum) or isinstance(t, pl.Categorical) else
            pl.col(c).cast(pl.Float64) if t.is_numeric() else pl.col(c)
            for c, t in frame.schema.items()
        )  # fmt: skip
        return frame.sort(keys, nulls_last=True)

    differ = []
    for name, frame in polars_out.items():
        keys = [c for c in frame.columns if c in ("tenant_id", "period", "drill", "org_unit_id", "category", "kind")]
        theirs = duck_out[name].select(frame.columns)
        try:
            assert_frame_equal(normal(frame, keys), normal(theirs, keys), check_dtypes=False, rel_tol=1e-6)
        except AssertionError as exc:
            differ.append(f"{name}: {str(exc).splitlines()[0]}")
    return differ


# --- the run ------------------------------------------------------------------------------------------------------


async def extract_all(db: Any, tenants: list[uuid.UUID]) -> tuple[Any, Any, dict[str, str], float]:
    """Every university's petition and incident journal, each under its own tenant context, compacted."""
    import polars as pl

    from analytics.extract import compact, incident_frame, journal_frame, tenant_zones

    t = time.perf_counter()
    petitions, incidents, zones = [], [], {}
    for tenant in tenants:
        async with db.transaction(tenant) as session:
            petitions.append(compact(await journal_frame(session)))
            incidents.append(compact(await incident_frame(session)))
            zones.update(await tenant_zones(session))
    return pl.concat(petitions), pl.concat(incidents), zones, time.perf_counter() - t


def run(app_url: str, tenants: list[uuid.UUID], *, runs: int = 3) -> dict[str, Any]:
    """Parts (a), (b) and (c) on the given (generated) universities; returns the figures."""
    import polars as pl

    from analytics.extract import _select, compact, incident_frame, journal_frame
    from analytics.metrics import localize
    from tenants.db import Database

    result: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    db = Database(app_url, pool_size=2)

    async def count_rows() -> dict[uuid.UUID, int]:
        out = {}
        for tenant in tenants:
            async with db.transaction(tenant) as session:
                frame = await journal_frame(session)
                out[tenant] = frame.height
        return out

    counts = loop.run_until_complete(count_rows())
    big = max(tenants, key=lambda t: counts[t])
    expected = counts[big]
    sql = _select()

    # (a) extraction of the largest university's petition journal.
    async def copy_only(fmt: str) -> int:
        import asyncpg

        conn = await asyncpg.connect(app_url)
        try:
            async with conn.transaction():
                await conn.execute("select set_config('app.tenant_id', $1, true)", str(big))
                status = await conn.copy_from_query(sql, output=io.BytesIO(), format=fmt)
        finally:
            await conn.close()
        return int(status.split()[1])

    async def polars_copy() -> int:
        async with db.transaction(big) as session:
            return (await journal_frame(session)).height

    extraction: dict[str, Any] = {"rows": expected}
    print(f"(a) extraction: the largest university, {expected:,} petition events, best of {runs}")
    for label, key, fn in (
        ("plain COPY ... TO STDOUT (csv), bytes only", "copy_csv", lambda: loop.run_until_complete(copy_only("csv"))),
        ("plain COPY ... TO STDOUT (binary), bytes only", "copy_binary",
         lambda: loop.run_until_complete(copy_only("binary"))),
        ("analytics.extract (COPY csv -> pl.read_csv)", "polars", lambda: loop.run_until_complete(polars_copy())),
    ):  # fmt: skip
        seconds, rows = timed(fn, runs)
        assert rows == expected, f"{label}: {rows} rows, expected {expected}: not the tenant's rows"
        extraction[key] = {"seconds": round(seconds, 3), "rows_per_s": round(expected / seconds)}
        print(f"  {label:<46} {seconds:6.2f} s  {expected / seconds:>12,.0f} rows/s")
    extraction["ratio_to_copy_csv"] = round(
        extraction["polars"]["rows_per_s"] / extraction["copy_csv"]["rows_per_s"], 3
    )
    extraction["ratio_to_copy_binary"] = round(
        extraction["polars"]["rows_per_s"] / extraction["copy_binary"]["rows_per_s"], 3
    )
    extraction.update(_arrow_native(app_url, big, sql, expected, runs))
    result["extraction"] = extraction

    # (b) one university's quarter and the province, in Polars and in DuckDB over the same frames.
    async def one() -> tuple[Any, Any]:
        async with db.transaction(big) as session:
            return compact(await journal_frame(session)), compact(await incident_frame(session))

    p_one, i_one = loop.run_until_complete(one())
    p_all, i_all, zones, extract_seconds = loop.run_until_complete(extract_all(db, tenants))
    loop.run_until_complete(db.dispose())
    loop.close()
    result["province_extraction"] = {"seconds": round(extract_seconds, 2), "petition_events": p_all.height,
                                     "incident_events": i_all.height}  # fmt: skip
    print(f"province extraction: {p_all.height:,} petition + {i_all.height:,} incident events of {len(tenants)} "
          f"universities in {extract_seconds:.1f} s (each under its own tenant context)")  # fmt: skip
    targets = {t: {} for t in zones}  # every generated university runs the default plan's targets
    from analytics.metrics.incidents import DEFAULT_TARGETS

    targets_frame = pl.DataFrame([{"tenant_id": t, **DEFAULT_TARGETS} for t in zones])
    frames = {
        "tenant_quarter": (localize(p_one.lazy(), zones).collect(), localize(i_one.lazy(), zones).collect()),
        "province": (localize(p_all.lazy(), zones).collect(), localize(i_all.lazy(), zones).collect()),
    }
    del p_one, i_one, p_all, i_all
    gc.collect()
    compute: dict[str, Any] = {}
    for name, (pj, ij) in frames.items():
        polars_fn = tenant_quarterly if name == "tenant_quarter" else PROVINCE_AGGREGATES
        reset_peak()
        polars_s, polars_out = timed(lambda pj=pj, ij=ij, fn=polars_fn: fn(pj.lazy(), ij.lazy(), targets), runs)
        polars_peak = peak_rss()
        gc.collect()
        reset_peak()
        names = list(polars_out)
        duck_s, duck_out = timed(lambda pj=pj, ij=ij, names=names: duck_run(pj, ij, targets_frame, names), runs)
        duck_peak = peak_rss()
        differ = same(polars_out, duck_out)
        compute[name] = {
            "rows": pj.height + ij.height,
            "metric_frames": len(names),
            "polars_s": round(polars_s, 3),
            "duckdb_s": round(duck_s, 3),
            "ratio": round(duck_s / polars_s, 2),
            "same_values": not differ,
            "differences": differ,
            "peak_rss_polars_mib": round(polars_peak / 2**20),
            "peak_rss_duckdb_mib": round(duck_peak / 2**20),
        }
        print(f"(b) {name}: {pj.height + ij.height:,} events, {len(names)} metric frames, best of {runs}: "
              f"Polars {polars_s:.2f} s, DuckDB {duck_s:.2f} s, ratio {duck_s / polars_s:.2f}; "
              f"same values: {differ or 'yes'}")  # fmt: skip
        print(f"(c) peak RSS during {name}: Polars {polars_peak / 2**20:,.0f} MiB, "
              f"DuckDB {duck_peak / 2**20:,.0f} MiB")  # fmt: skip
        del polars_out, duck_out
        gc.collect()
    result["metrics"] = compute
    result["peak_rss_mib"] = max(c["peak_rss_polars_mib"] for c in compute.values())
    return result


def _arrow_native(app_url: str, tenant: uuid.UUID, sql: str, expected: int, runs: int) -> dict[str, Any]:
    """ADBC and connectorx, when installed (not dependencies), on the same query."""
    import polars as pl

    out: dict[str, Any] = {}
    libpq_url = app_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:
        print("  ADBC: not installed")
    else:

        def via_adbc() -> int:
            with adbc.connect(libpq_url) as conn, conn.cursor() as cur:
                cur.execute(f"select set_config('app.tenant_id', '{tenant}', true)")
                cur.fetchall()
                cur.execute(sql)
                frame = pl.from_arrow(cur.fetch_arrow_table())
                conn.rollback()
            return frame.height

        seconds, rows = timed(via_adbc, runs)
        out["adbc"] = {"seconds": round(seconds, 3), "rows_per_s": round(expected / seconds), "rows": rows}
        label = "ADBC (set_config + query, one transaction)"
        print(f"  {label:<46} {seconds:6.2f} s  {expected / seconds:>12,.0f} rows/s")
    try:
        import connectorx  # noqa: F401
    except ImportError:
        print("  connectorx: not installed")
    else:
        parts = urlsplit(libpq_url)
        socket = dict(parse_qsl(parts.query)).get("host", "")
        option = quote(f"-c app.tenant_id={tenant}")
        cx_url = f"postgresql://{parts.username}@{quote(socket, safe='')}{parts.path}?options={option}"
        seconds, rows = timed(lambda: pl.read_database_uri(sql, cx_url, engine="connectorx").height, runs)
        out["connectorx"] = {"seconds": round(seconds, 3), "rows_per_s": round(expected / seconds), "rows": rows}
        print(
            f"  {'connectorx (startup option app.tenant_id)':<46} {seconds:6.2f} s  {expected / seconds:>12,.0f} rows/s"
        )
    return out


TARGET = {
    "polars_over_duckdb_ratio": 1.0,
    "extraction_ratio_to_copy": 0.9,
    "peak_rss_mib": 4096,
    **PROVINCE_TARGETS,
}


def contract(result: dict[str, Any]) -> dict[str, Any]:
    """The keys every benchmark's JSON carries: name, figures, baseline, ratio (the smaller DuckDB/Polars ratio,
    the engine comparison), target and passed (every target of the issue met)."""
    metrics = result["metrics"]
    ratio = min(metrics[n]["ratio"] for n in ("tenant_quarter", "province"))
    extraction = result["extraction"]
    peak = max(metrics[n]["peak_rss_polars_mib"] for n in ("tenant_quarter", "province"))
    cells = result["province_cells"]
    figures = {
        "polars_tenant_quarter_s": metrics["tenant_quarter"]["polars_s"],
        "polars_province_s": metrics["province"]["polars_s"],
        "extraction_rows_per_s": extraction["polars"]["rows_per_s"],
        "extraction_ratio_to_copy_csv": extraction["ratio_to_copy_csv"],
        "province_extraction_s": result["province_extraction"]["seconds"],
        "peak_rss_polars_mib": peak,
        "bureau_p95_ms": cells["bureau_p95_ms"],
        "day_fold_s": cells["day_fold_s"],
        "rebuild_s": cells["rebuild_s"],
    }
    baseline = {
        "duckdb_tenant_quarter_s": metrics["tenant_quarter"]["duckdb_s"],
        "duckdb_province_s": metrics["province"]["duckdb_s"],
        "copy_csv_rows_per_s": extraction["copy_csv"]["rows_per_s"],
    }
    passed = (
        ratio >= TARGET["polars_over_duckdb_ratio"]
        and extraction["ratio_to_copy_csv"] >= TARGET["extraction_ratio_to_copy"]
        and peak < TARGET["peak_rss_mib"]
        and all(cells["passed"].values())
    )
    return {"name": "analytics", "figures": figures, "baseline": baseline, "ratio": ratio, "target": TARGET,
            "passed": passed}  # fmt: skip


def scale_from(argv: list[str]) -> float:
    """The scale from the first argument when it is a number, else XINFANG_BENCH_SCALE, else 1.0."""
    try:
        return float(argv[0])
    except (IndexError, ValueError):
        return float(os.environ.get("XINFANG_BENCH_SCALE", "1.0"))


def main(scale: float | None = None) -> dict[str, Any]:
    os.environ.update(
        XINFANG_ENV="test",
        XINFANG_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop",
        XINFANG_DATA_KEY=base64.b64encode(b"b" * 32).decode(),
    )
    import psycopg

    from service.ops.cli import migrate
    from service.ops.embedded import database_url, start_postgres
    from service.ops.synthetic.generate import Spec, generate
    from tenants import crypto
    from tenants.db import Database
    from tenants.settings import get_settings

    scale = scale_from(sys.argv[1:]) if scale is None else scale
    tenants_n, petitions_n, incidents_n = sizes(scale)
    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    os.environ["XINFANG_DATABASE_URL"] = database_url(server, DB)
    get_settings.cache_clear()
    migrate()
    settings = get_settings()
    crypto.configure(settings.data_key_bytes)
    spec = Spec(tenants=tenants_n, petitions=petitions_n, incidents=incidents_n, seed=1, until=UNTIL, jobs=2)

    async def make() -> Any:
        db = Database(settings.app_url, pool_size=2)
        try:
            return await generate(db, spec, data_key=settings.data_key_bytes, url=settings.app_url)
        finally:
            await db.dispose()

    report = asyncio.run(make())
    print(f"generated: {len(report.universities)} universities, {report.petitions:,} petitions, "
          f"{report.events:,} journal events in {report.seconds:.0f} s "
          f"(xinfang demo generate --tenants {tenants_n} --petitions {petitions_n} --incidents {incidents_n} "
          f"--seed 1 --until {UNTIL} --jobs 2)")  # fmt: skip
    with psycopg.connect(database_url(server, DB), autocommit=True) as conn:
        conn.execute("vacuum analyze journal")
    result = run(settings.app_url, [u.tenant_id for u in report.universities])
    from tests.bench import _province_cells

    cells = _province_cells.run(database_url(server, DB), settings.app_url,
                                [u.tenant_id for u in report.universities], UNTIL)  # fmt: skip
    result = {
        "scale": scale,
        "generated": {
            "universities": len(report.universities),
            "petitions": report.petitions,
            "journal_events": report.events,
            "seconds": round(report.seconds, 1),
        },
        **result,
        "province_cells": cells,
    }
    result = {**contract(result), **result}
    out = ROOT / ".xinfang" / "bench" / "analytics.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"written to {out.relative_to(ROOT)}")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    return result


if __name__ == "__main__":
    main()
