"""Supervision metrics (督查督办) of the §6 coordination dimension, pure Polars over the journal.

The frame holds the ``supervision.*`` events (``SUPERVISION_SCHEMA``, localized with ``periods.localize``):
``subject_id`` is the order, ``org_unit_id`` the unit that must answer, ``on_time`` is on every
``supervision.answered``. An order belongs to the period of its issue (the cohort), followed up to the data
watermark. An order is *decided* once it was answered or flagged overdue; its first answer decides whether it
was answered on time (an overdue order answered late, or never, is not on time). Orders still running and not
yet due are left out of the share, so a fresh order neither rewards nor punishes its unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analytics.metrics.periods import Period, period_start

SUPERVISION_SCHEMA: dict[str, pl.DataType] = {
    "tenant_id": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "type": pl.String(),
    "subject_id": pl.String(),
    "org_unit_id": pl.String(),
    "on_time": pl.Boolean(),
}
SUPERVISION_BREAKDOWNS = ("org_unit_id",)


def _is(event: str) -> pl.Expr:
    return pl.col("type") == event


def order_facts(journal: pl.LazyFrame) -> pl.LazyFrame:
    """One row per issued order: its unit, local issue time, first answer's on_time, overdue, returns."""
    return (
        journal.filter(pl.col("type").str.starts_with("supervision.") & pl.col("subject_id").is_not_null())
        .sort("occurred_at")
        .group_by("tenant_id", "subject_id")
        .agg(
            org_unit_id=pl.col("org_unit_id").filter(_is("supervision.issued")).first(),
            issued_local=pl.col("local_at").filter(_is("supervision.issued")).first(),
            answered=_is("supervision.answered").any(),
            first_on_time=pl.col("on_time").filter(_is("supervision.answered")).first(),
            overdue=_is("supervision.overdue").any(),
            returns=_is("supervision.returned").sum(),
        )
        .filter(pl.col("issued_local").is_not_null())
    )


def supervision_coordination(journal: pl.LazyFrame, *, period: Period, by: Sequence[str] = ()) -> pl.DataFrame:
    """Orders issued in the period (by tenant, period and ``by``): answered, on time, overdue, returned."""
    unknown = [b for b in by if b not in SUPERVISION_BREAKDOWNS]
    if unknown:
        raise ValueError(f"unknown breakdown {unknown}; one of {list(SUPERVISION_BREAKDOWNS)}")
    keys = ["tenant_id", "period", *by]
    decided = pl.col("answered") | pl.col("overdue")
    on_time = pl.col("first_on_time").fill_null(False)
    return (
        order_facts(journal)
        .with_columns(period=period_start("issued_local", period))
        .group_by(keys)
        .agg(
            supervision_orders=pl.len(),
            supervision_answered=pl.col("answered").sum(),
            supervision_overdue=pl.col("overdue").sum(),
            supervision_returns=pl.col("returns").sum(),
            supervision_on_time_share=on_time.filter(decided).cast(pl.Float64).mean(),
        )
        .collect()
        .sort(keys, nulls_last=True)
    )
