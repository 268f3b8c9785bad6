"""Local time and reporting periods: a period is a calendar month, quarter or year in the tenant's time zone.

An event at 23:30 UTC on 31 March belongs to April in Asia/Shanghai, so every period is computed on the local
wall-clock time, never on UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl

Period = Literal["month", "quarter", "year"]
_EVERY: dict[str, str] = {"month": "1mo", "quarter": "1q", "year": "1y"}


def localize(journal: pl.LazyFrame, zones: Mapping[str, str]) -> pl.LazyFrame:
    """Add ``local_at``: ``occurred_at`` (UTC) as the naive wall-clock time of each row's tenant zone.

    ``zones`` maps tenant id (as text) to an IANA zone name; a tenant missing from it is an error rather than
    a silent UTC fallback that would move events across month boundaries.
    """
    tenants = journal.select(pl.col("tenant_id").unique()).collect().get_column("tenant_id").to_list()
    missing = sorted(t for t in tenants if t not in zones)
    if missing:
        raise KeyError(f"no time zone for tenants {missing}")
    # A datetime column carries one zone, so each zone is converted separately and the parts concatenated.
    by_zone: dict[str, list[str]] = {}
    for tenant in tenants:
        by_zone.setdefault(zones[tenant], []).append(tenant)
    parts = [
        journal.filter(pl.col("tenant_id").is_in(ids)).with_columns(
            local_at=pl.col("occurred_at").dt.convert_time_zone(zone).dt.replace_time_zone(None)
        )
        for zone, ids in sorted(by_zone.items())
    ]
    if not parts:
        return journal.with_columns(local_at=pl.col("occurred_at").dt.replace_time_zone(None))
    return pl.concat(parts, how="vertical")


def period_start(local: str | pl.Expr, period: Period) -> pl.Expr:
    """The first local day of the ``period`` containing the naive local datetime ``local``."""
    expr = pl.col(local) if isinstance(local, str) else local
    return expr.dt.truncate(_EVERY[period]).dt.date()


def local_days_between(start: str, end: str) -> pl.Expr:
    """Calendar days between the local dates of two naive local datetimes (the regulation counts local days)."""
    return (pl.col(end).dt.date() - pl.col(start).dt.date()).dt.total_days()
