"""Dimension scores (0-100) and the weighted overall score of the §6 evaluation.

The overall score is the weighted mean of the dimension scores that have data in the row: a dimension without
data (no incidents, hence no information-release figures; no ratings yet) is left out and the remaining weights
are renormalised to sum to 1, so missing data neither rewards nor punishes a unit. A row with no dimension at
all has a null overall score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

DIMENSIONS = ("timeliness", "coordination", "information_release", "satisfaction")


def _clip(share: pl.Expr) -> pl.Expr:
    return share.clip(0.0, 1.0)


def dimension_scores(
    timeliness: pl.DataFrame | None,
    coordination: pl.DataFrame | None,
    satisfaction: pl.DataFrame | None,
    *,
    keys: Sequence[str],
) -> pl.DataFrame:
    """One row per key with ``<dimension>_score`` (0-100 or null) from the petition metric frames.

    information_release has no petition source: its score stays null until the incident metrics provide it.
    """
    parts: list[pl.DataFrame] = []
    if timeliness is not None:
        parts.append(
            timeliness.select(
                *keys,
                timeliness_score=100
                * pl.mean_horizontal(_clip(pl.col("accept_within_15_share")), _clip(pl.col("conclude_on_time_share"))),
            )
        )
    if coordination is not None:
        parts.append(
            coordination.select(
                *keys,
                coordination_score=100
                * pl.mean_horizontal(1 - _clip(pl.col("bounced_share")), 1 - _clip(pl.col("objection_rate"))),
            )
        )
    if satisfaction is not None:
        parts.append(
            satisfaction.select(
                *keys,
                satisfaction_score=100 * _clip(pl.col("satisfied_share") + 0.5 * pl.col("basically_satisfied_share")),
            )
        )
    if not parts:
        raise ValueError("no metric frame given")
    out = parts[0]
    for part in parts[1:]:
        out = out.join(part, on=list(keys), how="full", coalesce=True, nulls_equal=True)
    for dimension in DIMENSIONS:
        if f"{dimension}_score" not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(f"{dimension}_score"))
    return out.sort(list(keys), nulls_last=True)


def check_weights(weights: Mapping[str, float]) -> None:
    """Weights are non-negative, name known dimensions and have a positive sum."""
    unknown = sorted(set(weights) - set(DIMENSIONS))
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}; one of {list(DIMENSIONS)}")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative")
    if sum(weights.values()) <= 0:
        raise ValueError("weights must have a positive sum")


def overall(scores: pl.DataFrame, weights: Mapping[str, float]) -> pl.DataFrame:
    """Add ``overall_score``: the weighted mean of the non-null dimension scores, weights renormalised."""
    check_weights(weights)
    used = [(d, float(w)) for d, w in weights.items() if w > 0]
    present = [pl.col(f"{d}_score").is_not_null() for d, _ in used]
    numerator = pl.sum_horizontal(pl.col(f"{d}_score").fill_null(0.0) * w for d, w in used)
    denominator = pl.sum_horizontal(pl.when(p).then(w).otherwise(0.0) for p, (_, w) in zip(present, used, strict=True))
    return scores.with_columns(overall_score=pl.when(denominator > 0).then(numerator / denominator))
