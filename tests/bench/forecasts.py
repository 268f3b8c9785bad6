"""Forecast quality on generated history: ``python -m tests.bench forecasts``.

Ten universities, three years and eleven months of petitions each (September 2022 to November 2026, local),
their categories at different volumes, arrival times drawn by the synthetic generator's own sampler
(``service.ops.synthetic.model.arrival_times``: month, weekday and hour weights of the academic year). For every
series (each category and the total) ``analytics.forecasts.compute`` holds out the last quarter of the history,
forecasts it from the months before, and scores the model and the seasonal-naive baseline by MASE. Printed: the
median MASE of each, the share of series where the model beat the baseline (and is kept), and the time per
university. Baseline: the seasonal-naive forecast (MASE of the baseline itself); target: the kept forecasts' median
MASE below the baseline's. Writes ``.xinfang/bench/forecasts.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from analytics.forecasts import compute
from service.ops.synthetic.model import arrival_times

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = dt.date(2022, 9, 1), dt.date(2026, 11, 1)
# Petitions a year per category (a large, a middling and a small category, and two rarer ones).
VOLUMES = {"dormitory": 420, "canteen": 180, "teaching": 90, "security": 30, "finance": 12}


def university(seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    zone = ZoneInfo("Asia/Urumqi" if seed % 4 == 0 else "Asia/Shanghai")
    end = compute.add_months(LAST, 1)
    years = (end - FIRST).days / 365.25
    rows = []
    for category, per_year in VOLUMES.items():
        scale = rng.uniform(0.6, 1.6)
        for at in arrival_times(rng, int(per_year * scale * years), FIRST, end, zone):
            local = at.astimezone(zone)
            rows.append((category, dt.date(local.year, local.month, 1)))
    frame = pl.DataFrame(rows, schema={"series": pl.String(), "month": pl.Date()}, orient="row")
    return frame.group_by("series", "month").agg(petitions=pl.len().cast(pl.Int64)).select(*compute.MONTHLY_SCHEMA)


def main(n: int = 10) -> None:
    compute.forecast(university(0), LAST)  # warm-up: the library's first fit compiles its kernels
    frames, seconds = [], []
    for seed in range(1, n + 1):
        history = university(seed)
        started = time.perf_counter()
        frames.append(compute.forecast(history, LAST))
        seconds.append(time.perf_counter() - started)
    out = pl.concat(frames)
    model, baseline = out.get_column("mase").to_list(), out.get_column("baseline_mase").to_list()
    kept = [r["mase"] if r["model"] == "AutoETS" else r["baseline_mase"] for r in out.iter_rows(named=True)]
    figures = {
        "universities": n,
        "series": out.height,
        "median_mase_model": round(statistics.median(model), 3),
        "median_mase_baseline": round(statistics.median(baseline), 3),
        "median_mase_kept": round(statistics.median(kept), 3),
        "model_kept_share": round(sum(out.get_column("model") == "AutoETS") / out.height, 3),
        "seconds_per_university": round(statistics.median(seconds), 3),
    }
    ratio = figures["median_mase_baseline"] / figures["median_mase_kept"] if figures["median_mase_kept"] else None
    result = {
        "name": "forecasts",
        "figures": figures,
        "baseline": {"seasonal_naive_median_mase": figures["median_mase_baseline"]},
        "ratio": round(ratio, 3) if ratio else None,
        "target": "median MASE of the kept forecasts below the seasonal-naive baseline's (ratio > 1)",
        "passed": bool(ratio and ratio > 1),
    }
    for key, value in figures.items():
        print(f"  {key}: {value}")
    print(f"  baseline (seasonal naive) median MASE {figures['median_mase_baseline']}; ratio {result['ratio']}")
    path = ROOT / ".xinfang" / "bench" / "forecasts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"  written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
