"""The cells of the province aggregates: per university and period, the counts and sums (never a rate) that
every bureau figure is built from, and the incremental fold that keeps them up to date (pure Polars here; the
I/O is in ``analytics.province.jobs``).

A period is a calendar quarter or year in the university's own time zone, and a period's figures depend only on
the journal events that occurred before its end (as the from-scratch computation and the university's reports
do): a closed period is frozen by construction, and only an event committed late with an earlier time (an
import, a backfill) can still revise it.

Every cell is a sum over petitions of what one petition contributes, and a petition's contribution depends on
its own events only. So folding a batch of new events is: take every event of the petitions the batch touches,
compute their contribution with the events before the batch and with the batch, and add the difference to the
cells. The sum telescopes to the from-scratch value, whatever the batches were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import polars as pl

from analytics.metrics.periods import local_days_between, period_start
from analytics.metrics.petitions import ACCEPT_DAYS, CONCLUDE_DAYS, petition_facts
from analytics.province import disclosure
from analytics.province.statistics import BASES, KINDS, METRICS, Statistics, Window, protect_statistics, publish

# The columns of province_cells (alembic 0013 lists the same names).
SUMS = (
    "decisions", "accept_us", "accept_within_15",
    "concluded", "conclude_days", "conclude_on_time", "concluded_reviewed",
    "reviews_answered", "reviews_rereviewed",
    "overdue_accept", "overdue_conclude",
    "assigned", "transfers", "transferred", "bounced", "objections",
    "ratings", "ratings_known", "satisfied", "basically_satisfied", "dissatisfied",
    "replied", "replied_rated",
    "followups_outstanding",
    "received_suggestion", "received_accusation", "received_complaint",
    "adopted",
)  # fmt: skip
CELL_SCHEMA: dict[str, Any] = {"tenant_id": pl.String(), **{s: pl.Int64() for s in SUMS}}
DIMENSION_SCHEMA: dict[str, Any] = {"tenant_id": pl.String(), "dimension": pl.String(), "value": pl.String(),
                                    "n": pl.Int64()}  # fmt: skip
PERIOD_KINDS = ("quarter", "year")
_P = "petition."
_HOUR_US = 3_600_000_000


def _is(event: str) -> pl.Expr:
    return pl.col("type") == _P + event


def _count(condition: pl.Expr) -> pl.Expr:
    return condition.fill_null(False).sum().cast(pl.Int64)


def window_cells(local: pl.LazyFrame, window: Window) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The cells of ``window`` per ``tenant_id`` (a localized petition journal in): the sums of ``SUMS`` and the
    received petitions per category and per handling unit (``dimension``, ``value``, ``n``).

    Only events before the window's end count, so the cohort figures (review requested, transfers, rated)
    are those known at the end of the period, as in the university's report of the period.
    """
    end = datetime.combine(window.end, time())
    journal = local.filter(pl.col("local_at") < end)
    facts = petition_facts(journal)

    def inside(column: str) -> pl.Expr:
        return (period_start(column, window.period) == window.start).fill_null(False)

    decided = inside("decided_local") & pl.col("received_local").is_not_null()
    concluded = inside("replied_local") & pl.col("accepted_local").is_not_null()
    accept_days = local_days_between("received_local", "decided_local")
    conclude_days = local_days_between("accepted_local", "replied_local")
    assigned = inside("assigned_local")
    received = inside("received_local")
    per_petition = facts.group_by("tenant_id").agg(
        decisions=_count(decided),
        accept_us=(pl.col("decided_at") - pl.col("received_at")).dt.total_microseconds().filter(decided).sum(),
        accept_within_15=_count(decided & (accept_days <= ACCEPT_DAYS)),
        concluded=_count(concluded),
        conclude_days=conclude_days.filter(concluded).sum().cast(pl.Int64),
        conclude_on_time=_count(concluded & (conclude_days <= CONCLUDE_DAYS + pl.col("extension_days").fill_null(0))),
        concluded_reviewed=_count(concluded & pl.col("review_requested")),
        reviews_answered=_count(inside("reviewed_local")),
        reviews_rereviewed=_count(inside("reviewed_local") & pl.col("rereview_requested")),
        assigned=_count(assigned),
        transfers=pl.col("transfers").filter(assigned).sum().cast(pl.Int64),
        transferred=_count(assigned & (pl.col("transfers") >= 1)),
        bounced=_count(assigned & (pl.col("transfers") >= 2)),
        objections=pl.col("objections").filter(assigned).sum().cast(pl.Int64),
        replied=_count(inside("replied_local")),
        replied_rated=_count(inside("replied_local") & pl.col("rated")),
        **{f"received_{k}": _count(received & (pl.col("kind") == k)) for k in KINDS},
    )
    in_period = inside("local_at")
    rated_stages = journal.filter(_is("rated")).select("tenant_id", "petition_id", "stage").unique()
    per_event = (
        journal.filter(in_period)
        .join(
            # A follow-up stays outstanding until the petition is rated at the stage it asked about.
            rated_stages.with_columns(rated_stage=pl.lit(True)),
            on=["tenant_id", "petition_id", "stage"],
            how="left",
            nulls_equal=True,
        )
        .group_by("tenant_id")
        .agg(
            overdue_accept=_count(_is("overdue") & (pl.col("deadline") == "accept")),
            overdue_conclude=_count(_is("overdue") & (pl.col("deadline") == "conclude")),
            ratings=_count(_is("rated")),
            ratings_known=_count(_is("rated") & pl.col("rating").is_not_null()),
            satisfied=_count(_is("rated") & (pl.col("rating") == "satisfied")),
            basically_satisfied=_count(_is("rated") & (pl.col("rating") == "basically_satisfied")),
            dissatisfied=_count(_is("rated") & (pl.col("rating") == "dissatisfied")),
            followups_outstanding=_count(_is("followup_due") & pl.col("rated_stage").is_null()),
            # A suggestion is adopted when a handling opinion of the period supports it (once per petition).
            adopted=pl.col("petition_id")
            .filter(_is("replied") & (pl.col("kind") == "suggestion") & (pl.col("outcome") == "supported"))
            .n_unique()
            .cast(pl.Int64),
        )
    )
    cells = (
        per_petition.join(per_event, on="tenant_id", how="full", coalesce=True)
        .with_columns(pl.col(s).fill_null(0).cast(pl.Int64) for s in SUMS)
        .select("tenant_id", *SUMS)
        .collect()
        .sort("tenant_id")
    )
    received_facts = facts.filter(received)
    dimensions = (
        pl.concat(
            [
                received_facts.group_by("tenant_id", value=pl.col(column).cast(pl.String).fill_null(""))
                .agg(n=pl.len().cast(pl.Int64))
                .with_columns(dimension=pl.lit(name))
                for name, column in (("category", "category"), ("org_unit", "org_unit_id"))
            ]
        )
        .select("tenant_id", "dimension", "value", "n")
        .collect()
        .sort("tenant_id", "dimension", "value")
    )
    return cells.cast({"tenant_id": pl.String}), dimensions.cast({"tenant_id": pl.String})


# --- periods touched by a fold ---------------------------------------------------------------------------------


def windows_between(first: date, last: date, kind: str) -> list[Window]:
    """Every window of ``kind`` from the one containing ``first`` to the one containing ``last``."""
    out: list[Window] = []
    year, quarter = first.year, (first.month - 1) // 3 + 1
    while True:
        window = Window(year, quarter if kind == "quarter" else None)
        if window.start > last:
            return out
        out.append(window)
        if kind == "year":
            year += 1
        else:
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


@dataclass(frozen=True)
class Delta:
    """What a fold adds to the cells: rows of ``period_kind``, ``period_start`` and the key columns."""

    cells: pl.DataFrame  # tenant_id, period_kind, period_start, *SUMS
    dimensions: pl.DataFrame  # tenant_id, period_kind, period_start, dimension, value, n

    @property
    def is_empty(self) -> bool:
        return self.cells.is_empty() and self.dimensions.is_empty()


def _tagged(frame: pl.DataFrame, window: Window) -> pl.DataFrame:
    return frame.with_columns(period_kind=pl.lit(window.period), period_start=pl.lit(window.start))


def fold_delta(local: pl.LazyFrame, *, before: int, kinds: Iterable[str] = PERIOD_KINDS) -> Delta:
    """The change to the cells from the events with ``txid >= before``.

    ``local``: a localized petition journal with a ``txid`` column holding *every* event (old and new) of each
    petition that has a new event. Each touched window's cells are computed with all of them and with the old
    ones only; the difference is the delta (rows that do not change are left out).
    """
    new = local.filter(pl.col("txid") >= before)
    span = new.select(first=pl.col("local_at").min()).collect()
    if span.height == 0 or span.item(0, "first") is None:
        return empty_delta()
    first = span.item(0, "first").date()
    # Out-of-order times: a petition may have old events later than the new ones, so the touched windows run
    # to the last event of the touched petitions.
    last = local.select(pl.col("local_at").max()).collect().item().date()
    old = local.filter(pl.col("txid") < before)
    cell_parts: list[pl.DataFrame] = []
    dimension_parts: list[pl.DataFrame] = []
    for kind in kinds:
        for window in windows_between(first, last, kind):
            now_cells, now_dims = window_cells(local, window)
            was_cells, was_dims = window_cells(old, window) if before > 0 else (_empty_cells(), _empty_dimensions())
            cell_parts.append(_tagged(_difference(now_cells, was_cells, ["tenant_id"], SUMS), window))
            dimension_parts.append(
                _tagged(_difference(now_dims, was_dims, ["tenant_id", "dimension", "value"], ("n",)), window)
            )
    cells = pl.concat(cell_parts).select("tenant_id", "period_kind", "period_start", *SUMS)
    dimensions = pl.concat(dimension_parts).select(
        "tenant_id", "period_kind", "period_start", "dimension", "value", "n"
    )
    return Delta(
        cells.sort("tenant_id", "period_kind", "period_start"),
        dimensions.sort("tenant_id", "period_kind", "period_start", "dimension", "value"),
    )


def _difference(now: pl.DataFrame, was: pl.DataFrame, keys: list[str], values: Iterable[str]) -> pl.DataFrame:
    values = list(values)
    joined = now.join(was, on=keys, how="full", coalesce=True, suffix="_was")
    out = joined.select(*keys, *((pl.col(v).fill_null(0) - pl.col(f"{v}_was").fill_null(0)).alias(v) for v in values))
    return out.filter(pl.any_horizontal(pl.col(v) != 0 for v in values))


def empty_delta() -> Delta:
    tag = {"period_kind": pl.String(), "period_start": pl.Date()}
    cells = pl.DataFrame(schema={**CELL_SCHEMA, **tag}).select("tenant_id", *tag, *SUMS)
    dimensions = pl.DataFrame(schema={**DIMENSION_SCHEMA, **tag}).select("tenant_id", *tag, "dimension", "value", "n")
    return Delta(cells, dimensions)


def _empty_cells() -> pl.DataFrame:
    return pl.DataFrame(schema=CELL_SCHEMA)


def _empty_dimensions() -> pl.DataFrame:
    return pl.DataFrame(schema=DIMENSION_SCHEMA)


# --- from cells to the bureau's figures --------------------------------------------------------------------------


def _ratio(numerator: str, denominator: str, scale: float = 1.0) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator).cast(pl.Float64) / pl.col(denominator) / scale)


def metrics_of(cells: pl.DataFrame) -> pl.DataFrame:
    """The bureau's petition metrics (``province.METRICS``, unsuppressed) per ``tenant_id`` from summed cells:
    counts as they are, means and shares as sums over counts (null without a count, as from scratch)."""
    out = cells.select(
        "tenant_id",
        "decisions",
        accept_hours_mean=_ratio("accept_us", "decisions", _HOUR_US),
        accept_within_15_share=_ratio("accept_within_15", "decisions"),
        concluded="concluded",
        conclude_days_mean=_ratio("conclude_days", "concluded"),
        conclude_on_time_share=_ratio("conclude_on_time", "concluded"),
        review_rate=_ratio("concluded_reviewed", "concluded"),
        reviews_answered="reviews_answered",
        rereview_rate=_ratio("reviews_rereviewed", "reviews_answered"),
        overdue_accept="overdue_accept",
        overdue_conclude="overdue_conclude",
        assigned="assigned",
        transfers_per_petition=_ratio("transfers", "assigned"),
        transferred_share=_ratio("transferred", "assigned"),
        bounced_share=_ratio("bounced", "assigned"),
        transfers="transfers",
        objection_rate=_ratio("objections", "transfers"),
        ratings="ratings",
        satisfied_share=_ratio("satisfied", "ratings_known"),
        basically_satisfied_share=_ratio("basically_satisfied", "ratings_known"),
        dissatisfied_share=_ratio("dissatisfied", "ratings_known"),
        replied="replied",
        response_rate=_ratio("replied_rated", "replied"),
        followups_outstanding="followups_outstanding",
    )
    assert set(out.columns) == {"tenant_id", *METRICS}
    return out.select("tenant_id", *METRICS).with_columns(pl.col(c).cast(pl.Int64) for c in BASES)


def summed(cells: pl.DataFrame, tenant_ids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per university of ``tenant_ids`` (zeros without cells) and the province row (their sum)."""
    base = pl.DataFrame({"tenant_id": tenant_ids}, schema={"tenant_id": pl.String()})
    per = base.join(cells.select("tenant_id", *SUMS), on="tenant_id", how="left").with_columns(
        pl.col(s).fill_null(0).cast(pl.Int64) for s in SUMS
    )
    province = per.select(pl.lit("province").alias("tenant_id"), *(pl.col(s).sum().cast(pl.Int64) for s in SUMS))
    return per, province


def published_metrics(
    universities: pl.DataFrame, cells: pl.DataFrame, *, k: int = disclosure.DEFAULT_K
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-university metrics and the province row from the cells, suppressed as from scratch
    (``province.publish`` on the whole table)."""
    per, province = summed(cells, universities.get_column("tenant_id").to_list())
    return publish(metrics_of(per), metrics_of(province), k=k)


def published_statistics(
    universities: pl.DataFrame, cells: pl.DataFrame, dimensions: pl.DataFrame, *, k: int = disclosure.DEFAULT_K
) -> Statistics:
    """The art. 41 tables from the cells (``dimensions`` with unit kinds already in place of unit ids)."""
    slugs = dict(universities.select("tenant_id", "slug").iter_rows())
    per, _ = summed(cells, list(slugs))
    by_kind = {
        (slugs[row["tenant_id"]], kind): row[f"received_{kind}"] for row in per.iter_rows(named=True) for kind in KINDS
    }
    adopted: dict[str | None, int] = {slugs[t]: n for t, n in per.select("tenant_id", "adopted").iter_rows()}

    def counts(dimension: str, empty: str | None) -> dict[str | None, int]:
        rows = dimensions.filter(pl.col("dimension") == dimension).group_by("value").agg(pl.col("n").sum())
        return {(v if v != "" else empty): n for v, n in rows.iter_rows()}

    return protect_statistics(
        list(slugs.values()),
        by_kind,
        counts("category", None),
        counts("org_unit", "unassigned"),
        adopted,
        k=k,
    )
