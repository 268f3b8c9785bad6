"""The analytics benchmark's code at a tiny scale (seconds): generation, extraction, both engines, equal values."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import polars as pl

from service.ops.synthetic.generate import Spec, generate
from tenants.db import Database
from tests.bench import analytics as bench


def test_the_benchmark_runs_at_a_tiny_scale_and_both_engines_agree(settings: Any) -> None:
    tenants, petitions, incidents = bench.sizes(0.0004)
    assert (tenants, petitions) == (2, 400)

    async def make() -> Any:
        db = Database(settings.app_url, pool_size=2)
        try:
            spec = Spec(tenants=tenants, petitions=petitions, incidents=incidents, seed=3, until=date(2026, 1, 1),
                        prefix=f"b{uuid.uuid4().hex[:6]}")  # fmt: skip
            return await generate(db, spec, data_key=settings.data_key_bytes)
        finally:
            await db.dispose()

    report = asyncio.run(make())
    result = bench.run(settings.app_url, [u.tenant_id for u in report.universities], runs=1)
    assert result["extraction"]["rows"] > 0
    assert result["extraction"]["polars"]["rows_per_s"] > 0
    for name in ("tenant_quarter", "province"):
        figures = result["metrics"][name]
        assert figures["same_values"], figures["differences"]
        assert figures["polars_s"] > 0 and figures["duckdb_s"] > 0 and figures["peak_rss_polars_mib"] > 0
    assert result["metrics"]["tenant_quarter"]["metric_frames"] == 16


def test_the_engine_comparison_sees_a_difference() -> None:
    frame = pl.DataFrame({"tenant_id": ["a", "b"], "period": [date(2026, 1, 1)] * 2, "x": [1.0, 2.0]})
    assert bench.same({"m": frame}, {"m": frame.reverse()}) == []
    assert bench.same({"m": frame}, {"m": frame.with_columns(x=pl.lit(1.0))}) != []
