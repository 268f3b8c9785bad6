"""Early warning: flag a surge of petitions on one key before it becomes a group event.

The method (pure Polars over a submissions frame; no I/O):

- **Keys.** Every petition counts once under each of three keys: its category (code), its org unit (the handling
  unit it was routed to) and its place (a grid cell of about 500 m from its coordinates; the free-text location
  is never read). Petitions without a unit or coordinates simply have no such key.
- **Window.** At the scan instant ``now``, the window is ``[now − W, now)`` (``W`` = 24 h by default): its count
  ``c`` per (university, key).
- **Baseline.** The ``B = baseline / W`` windows of the same length before it (28 days by default), zeros
  included, for the same university and key: the university's own history, never another's. Robust to past
  surges: every baseline window is capped at ``median + 3 × 1.4826 × MAD`` (at least median + 1) before the mean
  is taken, so an earlier burst does not blind the detector for a month. ``λ`` = that winsorized mean, floored at
  ``1 / B`` (as if one petition in the whole baseline: a key never seen before is not infinitely surprising).
- **Test.** Under "nothing unusual", ``c`` is Poisson(λ); the tail probability ``p = P(X ≥ c)`` is computed
  exactly. A surge is ``c ≥ min_count`` (5 by default: a handful of petitions is never a group event) and
  ``p ≤ alpha`` (1e-4). ``score = −log10 p``.
- **One warning per surge.** One burst of petitions on the same matter usually surges on all three keys at once
  (its category, the unit handling it, the place it comes from). Keys of one university surging in the same scan
  are one surge when at least half of the smaller key's window petitions are the same petitions
  (``group_surges``, transitively); the surge's warning leads with its highest-scoring key and carries the others
  as evidence.
- **Once per surge.** A key that keeps surging on later scans is the same surge as long as it was last seen
  surging within one window (``same_surge``); the scan then updates that warning instead of raising another.

Precision and recall on generated streams with planted surges are measured by ``tests/bench/early_warning.py``
(figures in the README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

KEY_KINDS = ("category", "org_unit", "place")
SUBMISSIONS_SCHEMA: dict[str, pl.DataType] = {
    "tenant_id": pl.String(),
    "received_at": pl.Datetime("us", "UTC"),
    "category": pl.String(),
    "org_unit": pl.String(),
    "place": pl.String(),
}
SURGES_SCHEMA: dict[str, pl.DataType] = {
    "tenant_id": pl.String(),
    "key_kind": pl.String(),
    "key": pl.String(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "window_count": pl.Int64(),
    "baseline": pl.Float64(),
    "score": pl.Float64(),
}
CELL_DEGREES = 0.005  # about 550 m north-south
# Two surging keys are one surge when this share of the smaller key's window petitions are the same petitions.
SAME_PETITIONS = 0.5


@dataclass(frozen=True)
class Method:
    window: timedelta = timedelta(hours=24)
    baseline: timedelta = timedelta(days=28)
    min_count: int = 5
    alpha: float = 1e-4

    @property
    def bins(self) -> int:
        return max(1, int(self.baseline / self.window))


def place_cell(lat: float | None, long: float | None) -> str | None:
    """The grid cell of a coordinate, as the text key of its south-west corner."""
    if lat is None or long is None:
        return None
    return f"{math.floor(lat / CELL_DEGREES) * CELL_DEGREES:.3f},{math.floor(long / CELL_DEGREES) * CELL_DEGREES:.3f}"


def poisson_tail(c: int, lam: float) -> float:
    """P(X ≥ c) for X ~ Poisson(λ), exact (summed in log space, so tiny tails do not underflow to zero early)."""
    if c <= 0:
        return 1.0
    if c <= lam:
        # Not in the upper tail: 1 − P(X < c), summed directly.
        below = sum(math.exp(i * math.log(lam) - lam - math.lgamma(i + 1)) for i in range(c))
        return max(0.0, min(1.0, 1.0 - below))
    log_terms = []
    i = c
    while True:
        log_pmf = i * math.log(lam) - lam - math.lgamma(i + 1)
        log_terms.append(log_pmf)
        if i > c + 10 and log_pmf < log_terms[0] - 40:
            break
        i += 1
    top = max(log_terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in log_terms))


def _keyed(submissions: pl.LazyFrame) -> pl.LazyFrame:
    return (
        submissions.unpivot(
            index=["tenant_id", "received_at"], on=list(KEY_KINDS), variable_name="key_kind", value_name="key"
        )
        .filter(pl.col("key").is_not_null())
    )  # fmt: skip


def surges(submissions: pl.DataFrame | pl.LazyFrame, now: datetime, method: Method = Method()) -> pl.DataFrame:
    """The keys surging at ``now``: one row per (tenant, key kind, key) with the evidence (``SURGES_SCHEMA``)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    window_us = int(method.window / timedelta(microseconds=1))
    bins = method.bins
    start = now - method.window * (bins + 1)
    keyed = _keyed(submissions.lazy().filter(pl.col("received_at").is_between(start, now, closed="left")))
    # Bin 0 is the current window, bins 1..B the baseline, counted back from now.
    counted = (
        keyed.with_columns(
            bin=((pl.lit(now).dt.cast_time_unit("us") - pl.col("received_at")).dt.total_microseconds() // window_us)
        )
        .group_by("tenant_id", "key_kind", "key", "bin")
        .agg(n=pl.len())
    )
    current = counted.filter((pl.col("bin") == 0) & (pl.col("n") >= method.min_count)).select(
        "tenant_id", "key_kind", "key", window_count=pl.col("n").cast(pl.Int64)
    )
    keys = ["tenant_id", "key_kind", "key"]
    grid = current.select(keys).join(pl.LazyFrame({"bin": list(range(1, bins + 1))}), how="cross")
    history = grid.join(counted, on=[*keys, "bin"], how="left").with_columns(pl.col("n").fill_null(0))
    median = pl.col("n").median()
    mad = (pl.col("n") - median).abs().median()
    cap = pl.max_horizontal(median + 3 * 1.4826 * mad, median + 1)
    baseline = history.group_by(keys).agg(
        baseline=pl.max_horizontal(pl.min_horizontal(pl.col("n"), cap).mean(), pl.lit(1.0 / bins))
    )
    candidates = current.join(baseline, on=keys, how="left").collect()
    if candidates.is_empty():
        return pl.DataFrame(schema=SURGES_SCHEMA)
    p = [poisson_tail(c, lam) for c, lam in candidates.select("window_count", "baseline").iter_rows()]
    out = candidates.with_columns(
        p=pl.Series(p, dtype=pl.Float64),
        window_start=pl.lit(now - method.window).dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
        window_end=pl.lit(now).dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
    )
    out = out.filter(pl.col("p") <= method.alpha).with_columns(score=-pl.col("p").clip(lower_bound=1e-300).log10())
    return out.select(list(SURGES_SCHEMA)).cast(pl.Schema(SURGES_SCHEMA)).sort(keys)


def same_surge(last_seen: datetime | None, now: datetime, method: Method = Method()) -> bool:
    """A key surging at ``now`` continues the surge last seen at ``last_seen`` when that is within one window."""
    return last_seen is not None and now - last_seen <= method.window


def group_surges(
    submissions: pl.DataFrame | pl.LazyFrame, found: pl.DataFrame, now: datetime, method: Method = Method()
) -> list[list[dict[str, object]]]:
    """The rows of ``found`` (``surges`` at ``now``) as surges: lists of rows, the highest score first, keys of
    one university sharing at least ``SAME_PETITIONS`` of the smaller key's window petitions joined
    transitively. Surges come in the order of their leading key."""
    rows = list(found.iter_rows(named=True))
    if not rows:
        return []
    ids = {(r["tenant_id"], r["key_kind"], r["key"]): i for i, r in enumerate(rows)}
    window = (
        submissions.lazy()
        .filter(pl.col("received_at").is_between(now - method.window, now, closed="none"))
        .with_row_index("row")
    )
    keyed = window.unpivot(index=["tenant_id", "row"], on=list(KEY_KINDS), variable_name="key_kind", value_name="key")
    keyed = keyed.join(
        found.lazy().select("tenant_id", "key_kind", "key"), on=["tenant_id", "key_kind", "key"], how="inner"
    )
    keyed = keyed.with_columns(kid=pl.concat_str("key_kind", pl.lit("\x1f"), "key")).select("tenant_id", "row", "kid")
    pairs = (
        keyed.join(keyed, on=["tenant_id", "row"], suffix="_b")
        .filter(pl.col("kid") < pl.col("kid_b"))
        .group_by("tenant_id", "kid", "kid_b")
        .agg(shared=pl.len())
        .collect()
    )
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for tenant, a, b, shared in pairs.iter_rows():
        i, j = (ids[(tenant, *k.split("\x1f", 1))] for k in (a, b))
        if shared >= SAME_PETITIONS * min(rows[i]["window_count"], rows[j]["window_count"]):
            parent[root(i)] = root(j)
    groups: dict[int, list[dict[str, object]]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(root(i), []).append(r)
    order = {kind: n for n, kind in enumerate(KEY_KINDS)}

    def rank(r: dict[str, object]) -> tuple[float, int, str]:
        return (-float(r["score"]), order[str(r["key_kind"])], str(r["key"]))  # type: ignore[arg-type]

    surges_ = [sorted(g, key=rank) for g in groups.values()]
    return sorted(surges_, key=lambda g: (str(g[0]["tenant_id"]), rank(g[0])))
