"""Dimension scores (0-100) and the weighted overall score of the §6 evaluation.

Each dimension score is built from shares in [0, 1] that have data in the row (petition and incident metrics
side by side); a share without data is left out of its dimension, and a dimension without any (no incidents,
hence no information-release figures; no ratings yet) is left out of the overall score, whose remaining weights
are renormalised to sum to 1, so missing data neither rewards nor punishes a unit. A row with no dimension at
all has a null overall score. Incident frames count real incidents only: their ``drill = true`` rows are dropped
here (drills are reported separately).

- timeliness: mean of accept_within_15_share, conclude_on_time_share (petitions) and assess_on_time_share,
  instruct_on_time_share, close_on_time_share (incidents);
- coordination (the coordination index): mean of (1 − bounced_share), (1 − objection_rate) (petitions) and
  ack_on_time_share, completed_on_time_share, (1 − decline_rate) (incident tasks) and supervision_on_time_share
  (supervision orders answered on time, ``analytics.metrics.supervision``);
- information release: 0.5·first_bulletin_on_time_share + 0.3·cadence_share + 0.2·(1 − correction_share), the
  weights of the default plan's criteria (first release on time, updates on cadence, accuracy), renormalised
  over the available parts;
- satisfaction: satisfied_share + 0.5·basically_satisfied_share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

DIMENSIONS = ("timeliness", "coordination", "information_release", "satisfaction")

# dimension -> [(column, weight, inverted)]: the share 1 − x is used where a high x is bad.
PARTS: dict[str, list[tuple[str, float, bool]]] = {
    "timeliness": [
        ("accept_within_15_share", 1.0, False),
        ("conclude_on_time_share", 1.0, False),
        ("assess_on_time_share", 1.0, False),
        ("instruct_on_time_share", 1.0, False),
        ("close_on_time_share", 1.0, False),
    ],
    "coordination": [
        ("bounced_share", 1.0, True),
        ("objection_rate", 1.0, True),
        ("ack_on_time_share", 1.0, False),
        ("completed_on_time_share", 1.0, False),
        ("decline_rate", 1.0, True),
        ("supervision_on_time_share", 1.0, False),
    ],
    "information_release": [
        ("first_bulletin_on_time_share", 0.5, False),
        ("cadence_share", 0.3, False),
        ("correction_share", 0.2, True),
    ],
}


def _clip(share: pl.Expr) -> pl.Expr:
    return share.clip(0.0, 1.0)


def _weighted(parts: list[tuple[str, float, bool]], columns: Sequence[str]) -> pl.Expr:
    """100 × the weighted mean of the parts that are present and non-null in the row (null when none is)."""
    present = [(c, w, inv) for c, w, inv in parts if c in columns]
    if not present:
        return pl.lit(None, pl.Float64)
    values = [(1 - _clip(pl.col(c)) if inv else _clip(pl.col(c)), w) for c, w, inv in present]
    numerator = pl.sum_horizontal(v.fill_null(0.0) * w for v, w in values)
    denominator = pl.sum_horizontal(pl.when(v.is_not_null()).then(w).otherwise(0.0) for v, w in values)
    return pl.when(denominator > 0).then(100 * numerator / denominator)


def _real(frame: pl.DataFrame) -> pl.DataFrame:
    """Real incidents only: drill rows dropped, the drill key removed."""
    if "drill" not in frame.columns:
        return frame
    return frame.filter(pl.col("drill").not_()).drop("drill")


def dimension_scores(
    timeliness: pl.DataFrame | None,
    coordination: pl.DataFrame | None,
    satisfaction: pl.DataFrame | None,
    *,
    keys: Sequence[str],
    incidents: pl.DataFrame | None = None,
    tasks: pl.DataFrame | None = None,
    release: pl.DataFrame | None = None,
    supervision: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per key with ``<dimension>_score`` (0-100 or null) from the petition and incident metric frames.

    ``incidents``, ``tasks`` and ``release`` are the outputs of ``incident_timeliness``, ``task_coordination``
    and ``information_release`` with the same keys (plus ``drill``); without them the incident parts are absent
    and information_release stays null. ``supervision`` is the output of ``supervision_coordination`` with the
    same keys (its share joins the coordination parts).
    """
    frames = [f for f in (timeliness, coordination, satisfaction) if f is not None]
    frames += [_real(f) for f in (incidents, tasks, release) if f is not None]
    if supervision is not None:
        frames.append(supervision)
    if not frames:
        raise ValueError("no metric frame given")
    wanted = {c for parts in PARTS.values() for c, _, _ in parts} | {"satisfied_share", "basically_satisfied_share"}
    out = None
    for frame in frames:
        part = frame.select(*keys, *(c for c in frame.columns if c in wanted and c not in keys))
        if out is None:
            out = part
        else:
            clash = [c for c in part.columns if c in out.columns and c not in keys]
            out = out.join(part.drop(clash), on=list(keys), how="full", coalesce=True, nulls_equal=True)
    assert out is not None
    columns = out.columns
    scores = [_weighted(PARTS[d], columns).alias(f"{d}_score") for d in PARTS]
    if "satisfied_share" in columns:
        basically = pl.col("basically_satisfied_share") if "basically_satisfied_share" in columns else pl.lit(0.0)
        scores.append((100 * _clip(pl.col("satisfied_share") + 0.5 * basically)).alias("satisfaction_score"))
    else:
        scores.append(pl.lit(None, pl.Float64).alias("satisfaction_score"))
    return (
        out.select(*keys, *scores).select(*keys, *(f"{d}_score" for d in DIMENSIONS)).sort(list(keys), nulls_last=True)
    )


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
