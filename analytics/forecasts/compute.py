"""Next quarter's petition volume, per university and category and in total, from the monthly history.

The history is one count per local month (the university's zone) and series: a category code, or ``TOTAL``. A
model is fitted by ``statsforecast`` (a maintained library; nothing hand-written): ``AutoETS`` with the academic
year's season (12 months) once two years of history exist, without a season before that. It is measured on a
holdout — the last quarter (3 months) of the history, forecast from the months before it — against the seasonal-naive
baseline (the same month a year earlier; the last month while a year of history is missing), by MASE: the mean
absolute error over the holdout divided by the in-sample mean absolute error of that baseline. The model is kept
for a series only where it beats the baseline on the holdout; otherwise the baseline forecasts. Either is then
refitted on the whole history.

The quarter's forecast is the sum of its three monthly forecasts; its 80% interval combines the monthly
half-widths as independent errors (root of the sum of squares), and never goes below zero. Pure: frames in, frame
out (the I/O is in ``analytics.forecasts.store``). ``statsforecast`` is imported when a forecast is computed, not
before: it is heavy to import and only the workers need it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

TOTAL = "*"  # the series of every category together
SEASON = 12  # months: the academic year
HOLDOUT = 3  # months: one quarter
LEVEL = 80  # the interval's coverage, percent
MIN_MONTHS = 6  # fewer months of history: no forecast at all
MONTHLY_SCHEMA: dict[str, pl.DataType] = {"series": pl.String(), "month": pl.Date(), "petitions": pl.Int64()}
FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "series": pl.String(),
    "quarter_start": pl.Date(),
    "petitions": pl.Float64(),
    "lo": pl.Float64(),
    "hi": pl.Float64(),
    "model": pl.String(),
    "mase": pl.Float64(),
    "baseline_mase": pl.Float64(),
    "months": pl.Int64(),
}


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_after(last_month: dt.date) -> dt.date:
    """The first calendar quarter that starts after ``last_month`` (the last complete month of the history)."""
    nxt = add_months(last_month, 1)
    while nxt.month not in (1, 4, 7, 10):
        nxt = add_months(nxt, 1)
    return nxt


def complete(monthly: pl.DataFrame, last_month: dt.date) -> pl.DataFrame:
    """Every series with a row for every month from its first to ``last_month`` (missing months are zero), and the
    total series beside the categories."""
    if monthly.height == 0:
        return pl.DataFrame(schema=MONTHLY_SCHEMA)
    totals = monthly.group_by("month").agg(pl.col("petitions").sum()).with_columns(series=pl.lit(TOTAL))
    frames = []
    for series, rows in pl.concat([monthly.select(*MONTHLY_SCHEMA), totals.select(*MONTHLY_SCHEMA)]).group_by("series"):
        first = rows.get_column("month").min()
        assert isinstance(first, dt.date)
        months, m = [], first
        while m <= last_month:
            months.append(m)
            m = add_months(m, 1)
        grid = pl.DataFrame({"month": months}, schema={"month": pl.Date()})
        filled = grid.join(rows.select("month", "petitions"), on="month", how="left").with_columns(
            pl.col("petitions").fill_null(0), series=pl.lit(str(series[0]))
        )
        frames.append(filled.select(*MONTHLY_SCHEMA))
    return pl.concat(frames).sort("series", "month")


@dataclass(frozen=True)
class _Fit:
    mean: list[float]
    lo: list[float]
    hi: list[float]


def _models(n: int) -> tuple[object, object]:
    """(the candidate model, the baseline) for a history of ``n`` months."""
    from statsforecast.models import AutoETS, Naive, SeasonalNaive

    seasonal = n >= 2 * SEASON
    model = AutoETS(season_length=SEASON if seasonal else 1)
    baseline = SeasonalNaive(season_length=SEASON) if n >= SEASON else Naive()
    return model, baseline


def _fit(model: object, y: Sequence[float], h: int) -> _Fit:
    import numpy as np

    out = model.forecast(y=np.asarray(y, dtype=float), h=h, level=[LEVEL])  # type: ignore[attr-defined]
    mean = [float(v) for v in out["mean"]]
    lo = [float(v) for v in out.get(f"lo-{LEVEL}", out["mean"])]
    hi = [float(v) for v in out.get(f"hi-{LEVEL}", out["mean"])]
    return _Fit(mean, lo, hi)


def _try_fit(model: object, y: Sequence[float], h: int) -> _Fit | None:
    """The model's fit, or None where it cannot be fitted: ``AutoETS`` refuses a history shorter than its
    parameters need ("tiny datasets": a small university's first months)."""
    try:
        return _fit(model, y, h)
    except NotImplementedError:
        return None


def _scale(y: Sequence[float]) -> float:
    """The in-sample mean absolute error of the baseline: what MASE divides by."""
    lag = SEASON if len(y) > SEASON else 1
    diffs = [abs(y[i] - y[i - lag]) for i in range(lag, len(y))]
    return sum(diffs) / len(diffs) if diffs and sum(diffs) > 0 else 1.0


def mase(actual: Sequence[float], predicted: Sequence[float], train: Sequence[float]) -> float:
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual) / _scale(train)


def forecast_series(y: Sequence[float], first_month: dt.date, quarter_start: dt.date) -> dict[str, object] | None:
    """One series' forecast of the quarter starting ``quarter_start`` (None with too short a history)."""
    n = len(y)
    if n < MIN_MONTHS:
        return None
    train, test = list(y[:-HOLDOUT]), list(y[-HOLDOUT:])
    model, baseline = _models(len(train))
    baseline_mase = mase(test, _fit(baseline, train, HOLDOUT).mean, train)
    tried = _try_fit(model, train, HOLDOUT)
    # A model that cannot be fitted scores as the baseline, which is then kept.
    model_mase = mase(test, tried.mean, train) if tried else baseline_mase
    last = add_months(first_month, n - 1)
    ahead = (quarter_start.year * 12 + quarter_start.month) - (last.year * 12 + last.month)  # months to its start
    candidate, fallback = _models(n)
    fit = _try_fit(candidate, list(y), ahead + HOLDOUT - 1) if model_mase < baseline_mase else None
    chosen = candidate if fit else fallback
    fit = fit or _fit(fallback, list(y), ahead + HOLDOUT - 1)
    months = slice(ahead - 1, ahead - 1 + HOLDOUT)
    mean = sum(max(0.0, v) for v in fit.mean[months])
    half = math.sqrt(sum(((h - lo) / 2) ** 2 for lo, h in zip(fit.lo[months], fit.hi[months], strict=True)))
    return {
        "quarter_start": quarter_start,
        "petitions": round(mean, 3),
        "lo": round(max(0.0, mean - half), 3),
        "hi": round(mean + half, 3),
        "model": type(chosen).__name__,
        "mase": round(model_mase, 4),
        "baseline_mase": round(baseline_mase, 4),
        "months": n,
    }


def forecast(monthly: pl.DataFrame, last_month: dt.date) -> pl.DataFrame:
    """Every series' forecast of the first quarter after ``last_month`` (``FORECAST_SCHEMA``), from the monthly
    counts (``MONTHLY_SCHEMA``: the months up to ``last_month`` that have petitions)."""
    quarter = quarter_after(last_month)
    rows = []
    for (series,), part in complete(monthly, last_month).group_by("series", maintain_order=True):
        y = part.sort("month")
        out = forecast_series([float(v) for v in y.get_column("petitions")], y.get_column("month")[0], quarter)
        if out is not None:
            rows.append({"series": str(series), **out})
    return pl.DataFrame(rows, schema=FORECAST_SCHEMA, orient="row").sort("series")
