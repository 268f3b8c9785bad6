"""Report assembly: the metric *sections* over one tenant's localized journal frames, as plain tables.

A section is a pure function ``(inputs, context, done) -> {table name: frame}``; ``inputs`` holds the petition
and the incident journal frames, ``done`` the tables of the sections before it (the scores read the petition and
incident tables). Real incidents and drills are two sections with the same tables (``incidents.*``,
``drills.*``): a drill never enters the real figures or the scores. Every table is restricted to the report's
period except ``*.trend``, which holds the total of each of the last ``TREND_PERIODS`` periods.

The result must be byte-identical when recomputed from the same journal rows: floats are rounded, every table is
sorted by its keys, and nothing depends on the clock (the generation time is stored beside the content, not in it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from analytics.metrics import composite
from analytics.metrics.incidents import (
    INCIDENT_SCHEMA,
    incident_facts,
    incident_timeliness,
    information_release,
    step_times,
    task_coordination,
    task_facts,
)
from analytics.metrics.petitions import coordination, petition_facts, satisfaction, timeliness
from analytics.metrics.supervision import SUPERVISION_SCHEMA, supervision_coordination
from analytics.reports.periods import METRIC_PERIOD, TREND_PERIODS, Kind, add_periods, period_end

FORMAT = 3  # 2: incident and drill sections, incident events in the watermark; 3: supervision orders
# Breakdowns of every metric family: the tenant total and one table per dimension.
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "total": (),
    "org_unit": ("org_unit_id",),
    "category": ("category",),
    "kind": ("kind",),
}
DIGITS = 6


@dataclass(frozen=True)
class Context:
    """What a section needs besides the journal: the period and the plan version in force."""

    kind: Kind
    start: dt.date
    weights: Mapping[str, float]
    # The plan's step targets and cadence (``metrics.incidents.plan_targets``); empty: the default plan's.
    step_targets: Mapping[str, int] = field(default_factory=dict)

    @property
    def end(self) -> dt.date:
        return period_end(self.kind, self.start)

    @property
    def trend_start(self) -> dt.date:
        return add_periods(self.kind, self.start, 1 - TREND_PERIODS[self.kind])


def no_incidents() -> pl.LazyFrame:
    """An empty localized incident frame (a report computed from petition events only)."""
    return pl.DataFrame(schema={**INCIDENT_SCHEMA, "local_at": pl.Datetime("us")}).lazy()


def no_supervision() -> pl.LazyFrame:
    """An empty localized supervision frame (a report of a university that issued no order)."""
    return pl.DataFrame(schema={**SUPERVISION_SCHEMA, "local_at": pl.Datetime("us")}).lazy()


@dataclass(frozen=True)
class Inputs:
    """The localized journal frames (``local_at`` added): petition, incident and supervision order events."""

    petitions: pl.LazyFrame
    incidents: pl.LazyFrame
    supervision: pl.LazyFrame = field(default_factory=no_supervision)


Section = Callable[[Inputs, Context, Mapping[str, pl.DataFrame]], dict[str, pl.DataFrame]]


def _in_window(journal: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """The events of the petitions touched in the trend window (with their earlier history, which the metrics
    need: a conclusion is measured from the acceptance, possibly months before)."""
    start = dt.datetime.combine(ctx.trend_start, dt.time())
    touched = journal.filter(pl.col("local_at") >= start).select("tenant_id", "petition_id").unique()
    return journal.join(touched, on=["tenant_id", "petition_id"], how="semi", nulls_equal=True)


def _period_rows(frame: pl.DataFrame, start: dt.date, keys: tuple[str, ...]) -> pl.DataFrame:
    rows = frame.filter(pl.col("period") == start).drop("tenant_id", "period")
    return rows.sort(list(keys), nulls_last=True) if keys else rows


def _trend_rows(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    return (
        frame.filter((pl.col("period") >= ctx.trend_start) & (pl.col("period") < ctx.end))
        .drop("tenant_id")
        .sort("period")
    )


def _joined(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on=keys, how="full", coalesce=True, nulls_equal=True)
    return out.sort(keys, nulls_last=True)


def petitions_section(inputs: Inputs, ctx: Context, done: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Timeliness, coordination and satisfaction, in total, per org unit, category and kind, and the trend."""
    period = METRIC_PERIOD[ctx.kind]
    events = _in_window(inputs.petitions, ctx)
    facts = petition_facts(events).collect().lazy()
    out: dict[str, pl.DataFrame] = {}
    for name, by in BREAKDOWNS.items():
        keys = ["tenant_id", "period", *by]
        frames = [fn(events, period=period, by=by, facts=facts) for fn in (timeliness, coordination, satisfaction)]
        joined = _joined(frames, keys)
        out[f"petitions.{name}"] = _period_rows(joined, ctx.start, by)
        if name == "total":
            out["petitions.trend"] = _trend_rows(joined, ctx)
    return out


# Count columns of the incident totals: zero, not null, where one family has rows and another none (tasks
# assigned in the period to an incident reported in an earlier one, or incidents without tasks).
_COUNTS = (
    "incidents", "closed", "steps_overdue", "bulletins", "update_intervals", "updates_missed", "corrections",
    "tasks", "completed", "tasks_overdue", "declines", "reassignments", "units",
)  # fmt: skip


def _incident_tables(frame: pl.LazyFrame, ctx: Context, *, drill: bool) -> dict[str, pl.DataFrame]:
    """Real incidents (``drill=False``) or drills: totals, step times, tasks per unit, and (real) the trend."""
    prefix = "drills" if drill else "incidents"
    period = METRIC_PERIOD[ctx.kind]
    tenants = frame.select(pl.col("tenant_id").unique()).collect().get_column("tenant_id").to_list()
    targets = {t: dict(ctx.step_targets) for t in tenants} if ctx.step_targets else None
    facts = incident_facts(frame).collect().lazy()
    tasks = task_facts(frame).collect().lazy()

    def mine(out: pl.DataFrame) -> pl.DataFrame:
        return out.filter(pl.col("drill") == drill).drop("drill")

    keys = ["tenant_id", "period"]
    total = _joined(
        [
            mine(incident_timeliness(frame, period=period, targets=targets, facts=facts)),
            mine(information_release(frame, period=period, targets=targets, facts=facts)).drop("incidents"),
            mine(task_coordination(frame, period=period, facts=tasks)),
        ],
        keys,
    )
    total = total.with_columns(pl.col(c).fill_null(0) for c in _COUNTS)
    out = {
        f"{prefix}.total": _period_rows(total, ctx.start, ()),
        f"{prefix}.steps": _period_rows(mine(step_times(frame, period=period, targets=targets, facts=facts)),
                                        ctx.start, ()),
        f"{prefix}.org_unit": _period_rows(
            mine(task_coordination(frame, period=period, by=("org_unit_id",), facts=tasks)).drop("units"),
            ctx.start,
            ("org_unit_id",),
        ),
    }  # fmt: skip
    if not drill:
        out[f"{prefix}.trend"] = _trend_rows(total, ctx)
    return out


def incidents_section(inputs: Inputs, ctx: Context, done: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Real incidents: step times against the plan, units involved, tasks per unit, information release."""
    return _incident_tables(inputs.incidents, ctx, drill=False)


def drills_section(inputs: Inputs, ctx: Context, done: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Drills, the same tables apart from real incidents (and never scored)."""
    return _incident_tables(inputs.incidents, ctx, drill=True)


def supervision_section(inputs: Inputs, ctx: Context, done: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Supervision orders (督查督办) issued in the period, in total and per answering unit, and the trend: their
    on-time share joins the coordination dimension (``analytics.metrics.supervision``)."""
    period = METRIC_PERIOD[ctx.kind]
    out: dict[str, pl.DataFrame] = {}
    for name, by in (("total", ()), ("org_unit", ("org_unit_id",))):
        frame = supervision_coordination(inputs.supervision, period=period, by=by)
        out[f"supervision.{name}"] = _period_rows(frame, ctx.start, by)
        if name == "total":
            out["supervision.trend"] = _trend_rows(frame, ctx)
    return out


# Which incident and supervision tables join each petition breakdown in the scores (neither has a category or
# a kind).
_INCIDENT_SCORES = {"total": "incidents.total", "org_unit": "incidents.org_unit", "trend": "incidents.trend"}
_SUPERVISION_SCORES = {"total": "supervision.total", "org_unit": "supervision.org_unit", "trend": "supervision.trend"}


def _one_row_key(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    return None if frame is None else frame.with_columns(_row=pl.lit(0))


def scores_section(inputs: Inputs, ctx: Context, done: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Dimension scores and the overall score with the plan version's weights, for every petition table, with
    the real incidents' parts beside the petitions' (drills are not scored)."""
    out: dict[str, pl.DataFrame] = {}
    for name, by in [*BREAKDOWNS.items(), ("trend", ("period",))]:
        table = done[f"petitions.{name}"]
        incidents = done.get(_INCIDENT_SCORES.get(name, ""))
        supervision = done.get(_SUPERVISION_SCORES.get(name, ""))
        keys = list(by)
        if table.height == 0 and all(f is None or f.height == 0 for f in (incidents, supervision)):
            schema = {**{k: table.schema[k] for k in keys}, **{f"{d}_score": pl.Float64 for d in composite.DIMENSIONS}}
            out[f"scores.{name}"] = pl.DataFrame(schema=schema).with_columns(overall_score=pl.lit(None, pl.Float64))
            continue
        # dimension_scores needs at least one key column: the total tables get a constant one, dropped after.
        frame = table if keys else table.with_columns(_row=pl.lit(0))
        if not keys:
            incidents, supervision = (_one_row_key(f) for f in (incidents, supervision))
        scores = composite.dimension_scores(
            frame, frame, frame, keys=keys or ["_row"], incidents=incidents, supervision=supervision
        )
        out[f"scores.{name}"] = composite.overall(scores, ctx.weights).drop("_row", strict=False)
    return out


# The order matters: a section may read the tables of the ones before it (the scores read petitions and
# incidents; drills are reported and never scored).
SECTIONS: list[tuple[str, Section]] = [
    ("petitions", petitions_section),
    ("incidents", incidents_section),
    ("drills", drills_section),
    ("supervision", supervision_section),
    ("scores", scores_section),
]


def compute(
    journal: pl.LazyFrame,
    ctx: Context,
    incidents: pl.LazyFrame | None = None,
    supervision: pl.LazyFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """Every section's tables for the report's period. ``journal`` (petition events), ``incidents`` (incident
    events) and ``supervision`` (supervision order events; none when omitted) are localized: they have
    ``local_at``."""
    inputs = Inputs(
        journal,
        no_incidents() if incidents is None else incidents,
        no_supervision() if supervision is None else supervision,
    )
    done: dict[str, pl.DataFrame] = {}
    for _, section in SECTIONS:
        done.update(section(inputs, ctx, done))
    return done


# --- the snapshot ---------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, DIGITS)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def table_json(frame: pl.DataFrame) -> dict[str, Any]:
    """A frame as ``{"columns", "types", "rows"}`` with rounded floats and ISO dates (JSON-stable)."""
    return {
        "columns": frame.columns,
        "types": [_type_name(t) for t in frame.dtypes],
        "rows": [[_plain(v) for v in row] for row in frame.iter_rows()],
    }


def _type_name(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.Date:
        return "date"
    return "str"


_POLARS = {"int": pl.Int64, "float": pl.Float64, "date": pl.Date, "str": pl.String}


def table_frame(table: Mapping[str, Any]) -> pl.DataFrame:
    """The inverse of ``table_json`` (dates come back as dates)."""
    pairs = list(zip(table["columns"], table["types"], strict=True))
    schema = {c: (pl.String if t == "date" else _POLARS[t]) for c, t in pairs}
    frame = pl.DataFrame(table["rows"], schema=schema, orient="row")
    dates = [c for c, t in pairs if t == "date"]
    return frame.with_columns(pl.col(c).str.to_date() for c in dates)


def encode(content: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a report's content (sorted keys, no whitespace, UTF-8)."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def content_hash(encoded: bytes) -> str:
    return hashlib.sha256(encoded).hexdigest()
