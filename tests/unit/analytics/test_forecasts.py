"""Forecasts of next quarter's volume on generated monthly histories with a known academic-year season."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from analytics.forecasts import compute

# The synthetic generator's month weights (January .. December): term starts and exam months are busy.
SEASON = (0.9, 0.35, 1.25, 1.0, 1.0, 1.2, 0.45, 0.4, 1.4, 0.85, 1.0, 1.15)


def history(first: dt.date, last: dt.date, bases: dict[str, float], seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows, m = [], first
    while m <= last:
        for series, base in bases.items():
            n = int(rng.poisson(base * SEASON[m.month - 1]))
            if n:
                rows.append((series, m, n))
        m = compute.add_months(m, 1)
    return pl.DataFrame(rows, schema=compute.MONTHLY_SCHEMA, orient="row")


@pytest.mark.parametrize(
    ("last", "quarter"),
    [
        (dt.date(2026, 11, 1), dt.date(2027, 1, 1)),  # the year boundary
        (dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
        (dt.date(2027, 3, 1), dt.date(2027, 4, 1)),  # a quarter's last month: the next quarter
        (dt.date(2027, 1, 1), dt.date(2027, 4, 1)),
    ],
)
def test_the_target_is_the_first_quarter_after_the_last_complete_month(last, quarter):
    assert compute.quarter_after(last) == quarter


def test_missing_months_count_zero_and_the_total_series_is_added():
    monthly = pl.DataFrame(
        [("a", dt.date(2026, 1, 1), 2), ("a", dt.date(2026, 3, 1), 1), ("b", dt.date(2026, 2, 1), 5)],
        schema=compute.MONTHLY_SCHEMA,
        orient="row",
    )
    full = compute.complete(monthly, dt.date(2026, 4, 1))
    a = full.filter(pl.col("series") == "a").get_column("petitions").to_list()
    total = full.filter(pl.col("series") == compute.TOTAL).get_column("petitions").to_list()
    assert a == [2, 0, 1, 0] and total == [2, 5, 1, 0]


def test_mase_divides_the_holdout_error_by_the_baseline_s_in_sample_error():
    train = [float(x) for x in range(1, 15)]  # 14 months: the seasonal lag (12) gives diffs of 12
    assert compute.mase([20.0, 20.0], [18.0, 23.0], train) == pytest.approx(2.5 / 12)


def test_a_seasonal_history_is_forecast_within_its_interval_and_beats_the_baseline():
    monthly = history(dt.date(2022, 9, 1), dt.date(2026, 11, 1), {"dormitory": 40.0, "canteen": 12.0})
    out = {r["series"]: r for r in compute.forecast(monthly, dt.date(2026, 11, 1)).iter_rows(named=True)}
    assert set(out) == {"dormitory", "canteen", compute.TOTAL}
    expected = {"dormitory": 40 * sum(SEASON[:3]), "canteen": 12 * sum(SEASON[:3])}  # January to March
    for series, mean in expected.items():
        row = out[series]
        assert row["quarter_start"] == dt.date(2027, 1, 1)
        assert row["lo"] <= mean <= row["hi"], (series, row)
        assert row["petitions"] == pytest.approx(mean, rel=0.2)
        assert row["months"] == 51
    total = out[compute.TOTAL]
    assert total["model"] == "AutoETS" and total["mase"] < total["baseline_mase"]


def test_the_baseline_is_kept_where_the_model_does_not_beat_it():
    # An exact repetition of the season: the seasonal-naive baseline is perfect on the holdout.
    rows, m = [], dt.date(2023, 1, 1)
    while m <= dt.date(2026, 12, 1):
        rows.append(("x", m, [3, 9, 4, 8, 2, 7, 1, 6, 5, 9, 2, 8][m.month - 1]))
        m = compute.add_months(m, 1)
    out = compute.forecast(pl.DataFrame(rows, schema=compute.MONTHLY_SCHEMA, orient="row"), dt.date(2026, 12, 1))
    x = out.filter(pl.col("series") == "x").row(0, named=True)
    assert x["baseline_mase"] == 0.0 and x["model"] == "SeasonalNaive"
    assert x["petitions"] == pytest.approx(3 + 9 + 4)  # January, February, March of the last year


def test_under_six_months_of_history_there_is_no_forecast():
    monthly = history(dt.date(2026, 7, 1), dt.date(2026, 11, 1), {"dormitory": 40.0})
    assert compute.forecast(monthly, dt.date(2026, 11, 1)).height == 0
    assert compute.forecast(pl.DataFrame(schema=compute.MONTHLY_SCHEMA), dt.date(2026, 11, 1)).height == 0


@pytest.mark.parametrize("n", [6, 7, 8])
def test_a_history_too_short_for_the_model_gets_the_baseline_s_forecast(n):
    """statsforecast's AutoETS refuses a few months of history ("tiny datasets"): a small or new university's
    series is forecast by the baseline instead of failing the whole refresh."""
    y = [3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0][:n]
    first = dt.date(2026, 1, 1)
    out = compute.forecast_series(y, first, compute.quarter_after(compute.add_months(first, n - 1)))
    assert out is not None
    assert out["model"] == "Naive" and out["mase"] == out["baseline_mase"]
    assert out["lo"] <= out["petitions"] <= out["hi"]
