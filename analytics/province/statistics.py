"""Province aggregates for bureau viewers: per-university metrics, province totals, rankings and the annual
statistics of art. 41 (volume, kinds, categories, most-complained unit types, adopted suggestions).

Each university is extracted under its own tenant context (``analytics.extract``: the journal's ids and coded
payload fields only, never personal data or free text); the rest is pure Polars over the concatenated frames,
and every published figure goes through ``analytics.province.disclosure`` before it leaves this module.

Universities are scored with one set of weights, the default plan's, so that a ranking compares like with like
(each university's own plan may weigh the dimensions differently for its own report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import select

from analytics.extract import journal_frame
from analytics.metrics import (
    JOURNAL_SCHEMA,
    coordination,
    dimension_scores,
    localize,
    overall,
    petition_facts,
    satisfaction,
    timeliness,
)
from analytics.metrics.periods import period_start
from analytics.province import disclosure
from tenants.db import Database
from tenants.org import OrgUnit
from tenants.plans.defaults import default_plan
from tenants.tenancy import Tenant

# Each published count and the rates and means built on it (suppressed together). Counts that are a part of
# another published count (accepted of decisions, extended of concluded) are left out: their difference would
# be an unpublished count that could be small.
BASES: dict[str, tuple[str, ...]] = {
    "decisions": ("accept_hours_mean", "accept_within_15_share"),
    "concluded": ("conclude_days_mean", "conclude_on_time_share", "review_rate"),
    "reviews_answered": ("rereview_rate",),
    "overdue_accept": (),
    "overdue_conclude": (),
    "assigned": ("transfers_per_petition", "transferred_share", "bounced_share"),
    "transfers": ("objection_rate",),
    "ratings": ("satisfied_share", "basically_satisfied_share", "dissatisfied_share"),
    "replied": ("response_rate",),
    "followups_outstanding": (),
}
METRICS = [name for base, rates in BASES.items() for name in (base, *rates)]
SCORES = ["timeliness_score", "coordination_score", "information_release_score", "satisfaction_score", "overall_score"]
KINDS = ("suggestion", "accusation", "complaint")


def province_weights() -> dict[str, float]:
    """The dimension weights every university of a province is scored with (the default plan's)."""
    return {d.key: d.weight for d in default_plan().evaluation}


# --- periods ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A reporting period: a calendar year, or one of its quarters, in each university's own time zone."""

    year: int
    quarter: int | None = None

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """The first local day after the period."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def period(self) -> Literal["year", "quarter"]:
        return "year" if self.quarter is None else "quarter"

    def until(self, zone: str) -> datetime:
        """The end of the period as an aware instant in ``zone``."""
        return datetime.combine(self.end, datetime.min.time(), ZoneInfo(zone))

    def days(self) -> int:
        return (self.end - self.start).days

    def describe(self) -> dict[str, Any]:
        last = self.end - timedelta(days=1)
        return {"year": self.year, "quarter": self.quarter, "start": self.start, "end": last}


# --- extraction ------------------------------------------------------------------------------------------------


@dataclass
class ProvinceData:
    """The extracted, non-personal frames of a province's universities."""

    universities: pl.DataFrame  # tenant_id, slug, name_zh, name_en, timezone
    journal: pl.DataFrame  # JOURNAL_SCHEMA rows of every university
    units: pl.DataFrame  # tenant_id, org_unit_id, unit_kind
    zones: dict[str, str] = field(default_factory=dict)


UNIVERSITY_SCHEMA = {
    "tenant_id": pl.String(),
    "slug": pl.String(),
    "name_zh": pl.String(),
    "name_en": pl.String(),
    "timezone": pl.String(),
}
UNIT_SCHEMA = {"tenant_id": pl.String(), "org_unit_id": pl.String(), "unit_kind": pl.String()}


def same_province(code: str) -> Any:
    """The SQL condition selecting the universities of the province-level division containing ``code``."""
    return Tenant.province_code.like(code[:2] + "%")


async def universities_of(db: Database, province_code: str) -> list[Tenant]:
    async with db.transaction() as session:
        query = select(Tenant).where(same_province(province_code)).order_by(Tenant.slug)
        return list(await session.scalars(query))


async def extract(db: Database, province_code: str, window: Window) -> ProvinceData:
    """Each university of the province under its own tenant context, up to the end of ``window``."""
    tenants = await universities_of(db, province_code)
    journals: list[pl.DataFrame] = []
    units: list[pl.DataFrame] = []
    for tenant in tenants:
        async with db.transaction(tenant.id) as session:
            journals.append(await journal_frame(session, until=window.until(tenant.timezone)))
            rows = (await session.execute(select(OrgUnit.id, OrgUnit.kind))).all()
        units.append(
            pl.DataFrame(
                {
                    "tenant_id": [str(tenant.id)] * len(rows),
                    "org_unit_id": [str(r[0]) for r in rows],
                    "unit_kind": [r[1] for r in rows],
                },
                schema=UNIT_SCHEMA,
            )
        )
    universities = pl.DataFrame(
        [(str(t.id), t.slug, t.name_zh, t.name_en, t.timezone) for t in tenants], schema=UNIVERSITY_SCHEMA, orient="row"
    )
    return ProvinceData(
        universities=universities,
        journal=pl.concat(journals) if journals else pl.DataFrame(schema=JOURNAL_SCHEMA),
        units=pl.concat(units) if units else pl.DataFrame(schema=UNIT_SCHEMA),
        zones={str(t.id): t.timezone for t in tenants},
    )


# --- metrics (pure) --------------------------------------------------------------------------------------------


def known_at_end(local: pl.LazyFrame, window: Window) -> pl.LazyFrame:
    """The events of a localized journal before the window's end (local time): a period's figures are those known
    at its end, as in the university's report of the period and in the province cells (a unit a petition moved
    to, or a decision taken, after the period does not rewrite it)."""
    return local.filter(pl.col("local_at") < datetime.combine(window.end, datetime.min.time()))


def raw_metrics(journal: pl.LazyFrame, window: Window, *, key: str = "tenant_id") -> pl.DataFrame:
    """The petition metrics of ``window`` per ``key`` value (a localized journal in; one row per key out)."""
    facts = petition_facts(journal)
    frames = [
        f(journal, period=window.period, facts=facts).filter(pl.col("period") == window.start).drop("period")
        for f in (timeliness, coordination, satisfaction)
    ]
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on="tenant_id", how="full", coalesce=True)
    return out.rename({"tenant_id": key}) if key != "tenant_id" else out


def university_metrics(
    data: ProvinceData, window: Window, *, k: int = disclosure.DEFAULT_K
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-university metrics and the province row computed from scratch from the extracted journals, both
    suppressed for publication (see ``publish``). The bureau routes read the precomputed cells instead
    (``analytics.province.cells``); this is the reference they are tested against."""
    local = known_at_end(localize(data.journal.lazy(), data.zones), window)
    metrics = data.universities.select("tenant_id").join(raw_metrics(local, window), on="tenant_id", how="left")
    # The province row: the same definitions over every petition of the province at once.
    province = raw_metrics(local.with_columns(tenant_id=pl.lit("province")), window)
    if province.is_empty():
        province = pl.DataFrame({"tenant_id": ["province"]})
    return publish(metrics, province, k=k)


def _complete(frame: pl.DataFrame) -> pl.DataFrame:
    for column in METRICS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(column))
    return frame.select("tenant_id", *METRICS).with_columns(pl.col(c).fill_null(0) for c in BASES)


def publish(
    metrics: pl.DataFrame, province: pl.DataFrame, *, k: int = disclosure.DEFAULT_K
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Suppress the per-university metrics and the province row (unsuppressed ``METRICS`` per ``tenant_id``).

    Every count is protected as a one-way table of the universities with the province total as its margin;
    the rates and means built on a suppressed count are suppressed with it, and the scores are computed from
    what is published (so a score never carries a suppressed rate).
    """
    metrics, province = _complete(metrics), _complete(province)
    for base, rates in BASES.items():
        metrics, total = disclosure.protect_column(metrics, key="tenant_id", count=base, dependents=rates, k=k)
        hidden = total is None
        province = province.with_columns(
            *(pl.when(pl.lit(hidden)).then(None).otherwise(pl.col(c)).alias(c) for c in (base, *rates))
        )
    return _scored(metrics), _scored(province)


def _scored(frame: pl.DataFrame) -> pl.DataFrame:
    scores = dimension_scores(frame, frame, frame, keys=["tenant_id"])
    return frame.join(overall(scores, province_weights()), on="tenant_id", how="left")


def rankings(metrics: pl.DataFrame, universities: pl.DataFrame) -> pl.DataFrame:
    """Universities ranked by each published score (1 = best; equal scores share a rank); unpublished → null."""
    out = universities.select("tenant_id", "slug").join(metrics.select("tenant_id", *SCORES), on="tenant_id")
    return out.with_columns(
        pl.col(s).rank(method="min", descending=True).cast(pl.Int64).alias(s.replace("_score", "_rank")) for s in SCORES
    ).sort("overall_rank", "slug", nulls_last=True)


# --- annual statistics (art. 41) -------------------------------------------------------------------------------


def _in_window(local: str, window: Window) -> pl.Expr:
    return period_start(local, window.period) == window.start


@dataclass(frozen=True)
class Statistics:
    """Art. 41 statistics, each table already protected."""

    kinds: disclosure.Protected  # universities × kinds (row totals: each university's volume)
    categories: disclosure.Protected  # one row: category code → count (province)
    unit_kinds: disclosure.Protected  # one row: kind of the handling unit → count (province)
    adopted: disclosure.Protected  # one row: university → suggestions replied "supported"


def statistics(data: ProvinceData, window: Window, *, k: int = disclosure.DEFAULT_K) -> Statistics:
    """Volume by university and kind, categories, most-complained unit types and adopted suggestions, from
    scratch (the reference for the precomputed cells)."""
    local = known_at_end(localize(data.journal.lazy(), data.zones), window)
    facts = petition_facts(local).filter(_in_window("received_local", window)).collect()
    slugs = dict(data.universities.select("tenant_id", "slug").iter_rows())
    facts = facts.with_columns(slug=pl.col("tenant_id").replace_strict(slugs, default=None))
    by_kind = {(s, kd): n for s, kd, n in facts.group_by("slug", "kind").len().iter_rows()}
    handled = facts.join(data.units, on=["tenant_id", "org_unit_id"], how="left").with_columns(
        pl.col("unit_kind").fill_null("unassigned")
    )
    # A suggestion is adopted when its handling opinion (first reply) in the period supports it.
    replies = (
        local.filter((pl.col("type") == "petition.replied") & _in_window("local_at", window))
        .filter((pl.col("kind") == "suggestion") & (pl.col("outcome") == "supported"))
        .unique(["tenant_id", "petition_id"])
        .group_by("tenant_id")
        .len()
        .collect()
    )
    adopted = {slugs.get(t): n for t, n in replies.iter_rows()}
    return protect_statistics(
        sorted(slugs.values()),
        by_kind,
        dict(facts.group_by("category").len().iter_rows()),
        dict(handled.group_by("unit_kind").len().iter_rows()),
        adopted,
        k=k,
    )


def protect_statistics(
    slugs: list[str],
    by_kind: dict[tuple[str, str], int],
    categories: dict[str | None, int],
    unit_kinds: dict[str | None, int],
    adopted: dict[str | None, int],
    *,
    k: int = disclosure.DEFAULT_K,
) -> Statistics:
    """The art. 41 tables protected for publication, from their counts: petitions per (university slug, kind),
    per category code and per kind of handling unit, adopted suggestions per university."""
    names = sorted(slugs)
    kinds = disclosure.protect(names, list(KINDS), [[by_kind.get((s, kd), 0) for kd in KINDS] for s in names], k=k)
    category_table = _one_way(categories, k)
    unit_kind_table = _one_way(unit_kinds, k)
    adopted_table = disclosure.protect(["adopted"], names, [[adopted.get(s, 0) for s in names]], k=k)
    # One grand total (the province's volume) is shared by three tables: hidden in one, hidden in all (hiding
    # more never reveals anything).
    if kinds.total is None or category_table.total is None or unit_kind_table.total is None:
        kinds, category_table, unit_kind_table = (_hide_total(t) for t in (kinds, category_table, unit_kind_table))
    return Statistics(kinds=kinds, categories=category_table, unit_kinds=unit_kind_table, adopted=adopted_table)


def _one_way(counts: dict[str | None, int], k: int) -> disclosure.Protected:
    pairs = sorted((str(v) if v is not None else "unknown", n) for v, n in counts.items() if n)
    return disclosure.protect(["n"], [p[0] for p in pairs], [[p[1] for p in pairs]], k=k)


def _hide_total(t: disclosure.Protected) -> disclosure.Protected:
    one_way = len(t.rows) == 1
    return disclosure.Protected(
        rows=t.rows,
        columns=t.columns,
        cells=t.cells,
        row_totals=[None] if one_way else t.row_totals,
        column_totals=t.column_totals,
        total=None,
    )


def suppressed(row: dict[str, Any]) -> list[str]:
    """The metrics of a published row that were suppressed (a base count is null only when suppressed)."""
    return [name for base, rates in BASES.items() if row.get(base) is None for name in (base, *rates)]
