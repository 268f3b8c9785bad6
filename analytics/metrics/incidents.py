"""Incident metrics of the §6 evaluation: step times against the plan, tasks between offices, information release.

Pure Polars over the incident journal frame (``INCIDENT_SCHEMA``, localized with ``periods.localize``): the
events of the incident journal contract shared with the incidents domain (``incident.*``, ``task.*``,
``measure.*``, ``bulletin.*``; ``incident_id`` on every one, ``subject_id`` the task or bulletin,
``org_unit_id`` the unit concerned, ``drill`` on every payload).

An incident belongs to the period of its report (incidents last hours to days, so the cohort of a period is
the incidents reported in it, followed up to the data watermark); a task belongs to the period of its
assignment. Every output carries a ``drill`` key: drills are reported beside real incidents, never mixed with
them, and the composite scores read the ``drill = false`` rows only.

Step time targets count from the report, as the plan states them; ``targets`` maps a tenant to its plan's
targets (``plan_targets``), and the default plan's apply to a tenant without an entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from analytics.metrics.periods import Period, period_start

INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "tenant_id": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "type": pl.String(),
    "incident_id": pl.String(),
    "org_unit_id": pl.String(),
    "subject_id": pl.String(),
    "drill": pl.Boolean(),
    "step": pl.String(),
    "level": pl.String(),
    "kind": pl.String(),
    "on_time": pl.Boolean(),
    "reassigned_from": pl.String(),
    "corrects_id": pl.String(),
    "sequence": pl.Int64(),
    "target_minutes": pl.Int64(),
    "minutes": pl.Int64(),
}
INCIDENT_TYPES = ("incident.", "task.", "measure.", "logistics.", "bulletin.")
# The default plan's targets (minutes from the report) and the information release cadence (minutes).
DEFAULT_TARGETS: dict[str, int] = {
    "assessment": 60,
    "instruction": 120,
    "information_release": 240,
    "cleanup_summary": 7 * 24 * 60,
    "cadence": 120,
}
ACK_MINUTES = 30  # a task is acknowledged in time within 30 minutes of its assignment (our standard)
INCIDENT_BREAKDOWNS = ("level",)
# The milestones of an incident measured from its report, in the plan's order: (step of the plan whose target
# applies, fact column of the instant the step is reached).
MILESTONES = (
    ("assessment", "assessed_at"),
    ("instruction", "instructed_at"),
    ("information_release", "first_bulletin_at"),
    ("cleanup_summary", "closed_at"),
)
TASK_BREAKDOWNS = ("org_unit_id", "step")
_MINUTE = 60_000_000  # microseconds


def plan_targets(content: Any) -> dict[str, int]:
    """``{step: target minutes, "cadence": minutes}`` from a plan's content (``tenants.plans.content``)."""
    out = {s.key: s.target_minutes for s in content.steps if s.target_minutes is not None}
    cadence = next((s.repeat_every_minutes for s in content.steps if s.key == "information_release"), None)
    return {**DEFAULT_TARGETS, **{k: v for k, v in out.items() if k in DEFAULT_TARGETS}, "cadence": cadence or 120}


def _targets_frame(journal: pl.LazyFrame, targets: Mapping[str, Mapping[str, int]] | None) -> pl.LazyFrame:
    tenants = journal.select(pl.col("tenant_id").unique()).collect().get_column("tenant_id").to_list()
    rows = [{"tenant_id": t, **DEFAULT_TARGETS, **dict((targets or {}).get(t, {}))} for t in tenants]
    schema = {"tenant_id": pl.String(), **dict.fromkeys(DEFAULT_TARGETS, pl.Int64())}
    # The tenant key takes the journal's type (text, or categorical in a compacted frame) so the join matches.
    tenant_type = journal.collect_schema()["tenant_id"]
    return pl.DataFrame(rows, schema=schema).lazy().with_columns(pl.col("tenant_id").cast(tenant_type))


def _is(event: str) -> pl.Expr:
    return pl.col("type") == event


def _minutes(later: str, earlier: str = "reported_at") -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_microseconds() / _MINUTE


def _share(condition: pl.Expr) -> pl.Expr:
    """Mean of a boolean, null over an empty group or an all-null column."""
    return condition.cast(pl.Float64).mean()


def _keys(by: Sequence[str], allowed: Sequence[str]) -> list[str]:
    unknown = [b for b in by if b not in allowed]
    if unknown:
        raise ValueError(f"unknown breakdown {unknown}; one of {list(allowed)}")
    return ["tenant_id", "period", "drill", *by]


def incident_facts(journal: pl.LazyFrame) -> pl.LazyFrame:
    """One row per reported incident: drill flag, level, milestone instants, bulletin and unit counts."""
    events = journal.filter(pl.col("incident_id").is_not_null())
    published = _is("bulletin.published")
    fix = published & pl.col("kind").is_in(["correction", "retraction"])
    involved = (_is("task.assigned") | _is("measure.recorded")) & pl.col("org_unit_id").is_not_null()
    facts = events.group_by("tenant_id", "incident_id").agg(
        drill=pl.col("drill").filter(_is("incident.reported")).first(),
        level=pl.col("level")
        .sort_by("occurred_at")
        .filter(pl.col("type").sort_by("occurred_at") == "incident.assessed")
        .last(),
        reported_at=pl.col("occurred_at").filter(_is("incident.reported")).min(),
        reported_local=pl.col("local_at").filter(_is("incident.reported")).min(),
        assessed_at=pl.col("occurred_at").filter(_is("incident.assessed")).min(),
        instructed_at=pl.col("occurred_at").filter(_is("incident.instructed")).min(),
        first_bulletin_at=pl.col("occurred_at").filter(published).min(),
        closed_at=pl.col("occurred_at").filter(_is("incident.closed")).min(),
        bulletins=published.sum(),
        corrections=fix.sum(),
        updates_missed=_is("bulletin.update_missed").sum(),
        steps_overdue=_is("incident.step_overdue").sum(),
        units=pl.col("org_unit_id").filter(involved).n_unique(),
        tasks=_is("task.assigned").sum(),
    )
    # Events of an incident whose report is not in the frame (extracted from a later bound) are left out.
    return facts.filter(pl.col("reported_at").is_not_null())


def _collect(frame: pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
    return frame.collect().sort(keys, nulls_last=True)


def incident_timeliness(
    journal: pl.LazyFrame,
    *,
    period: Period,
    targets: Mapping[str, Mapping[str, int]] | None = None,
    by: Sequence[str] = (),
    facts: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Step times of the period's incidents against the plan: report → assessment → instruction → close."""
    keys = _keys(by, INCIDENT_BREAKDOWNS)
    facts = incident_facts(journal) if facts is None else facts
    plan = _targets_frame(journal, targets)
    return _collect(
        facts.join(plan, on="tenant_id", how="left")
        .with_columns(period=period_start("reported_local", period))
        .group_by(keys)
        .agg(
            incidents=pl.len(),
            closed=pl.col("closed_at").is_not_null().sum(),
            assess_minutes_mean=_minutes("assessed_at").mean(),
            assess_on_time_share=_share(_minutes("assessed_at") <= pl.col("assessment")),
            instruct_minutes_mean=_minutes("instructed_at").mean(),
            instruct_on_time_share=_share(_minutes("instructed_at") <= pl.col("instruction")),
            close_hours_mean=_minutes("closed_at").mean() / 60,
            close_on_time_share=_share(_minutes("closed_at") <= pl.col("cleanup_summary")),
            steps_overdue=pl.col("steps_overdue").sum(),
            units_per_incident=pl.col("units").cast(pl.Float64).mean(),
            tasks_per_incident=pl.col("tasks").cast(pl.Float64).mean(),
        ),
        keys,
    )


def task_facts(journal: pl.LazyFrame) -> pl.LazyFrame:
    """One row per task (``subject_id`` of ``task.*`` events): unit, step, drill, and what became of it."""
    tasks = journal.filter(pl.col("type").str.starts_with("task.") & pl.col("subject_id").is_not_null())
    return (
        tasks.group_by("tenant_id", "subject_id")
        .agg(
            pl.col("incident_id").first(),
            org_unit_id=pl.col("org_unit_id").filter(_is("task.assigned")).first(),
            step=pl.col("step").filter(_is("task.assigned")).first(),
            drill=pl.col("drill").filter(_is("task.assigned")).first(),
            assigned_at=pl.col("occurred_at").filter(_is("task.assigned")).min(),
            assigned_local=pl.col("local_at").filter(_is("task.assigned")).min(),
            reassigned=pl.col("reassigned_from").filter(_is("task.assigned")).is_not_null().any(),
            acknowledged_at=pl.col("occurred_at").filter(_is("task.acknowledged")).min(),
            declined=_is("task.declined").any(),
            completed=_is("task.completed").any(),
            on_time=pl.col("on_time").filter(_is("task.completed")).first(),
            overdue=_is("task.overdue").any(),
        )
        .filter(pl.col("assigned_at").is_not_null())
    )


def task_coordination(
    journal: pl.LazyFrame, *, period: Period, by: Sequence[str] = (), facts: pl.LazyFrame | None = None
) -> pl.DataFrame:
    """Tasks assigned to units in the period: acknowledgement latency, completion on time, declines, reassignment."""
    keys = _keys(by, TASK_BREAKDOWNS)
    facts = task_facts(journal) if facts is None else facts
    ack = _minutes("acknowledged_at", "assigned_at")
    return _collect(
        facts.with_columns(period=period_start("assigned_local", period))
        .group_by(keys)
        .agg(
            tasks=pl.len(),
            acknowledged_share=_share(pl.col("acknowledged_at").is_not_null()),
            ack_minutes_mean=ack.mean(),
            # Of the tasks not declined: acknowledged within ACK_MINUTES (never acknowledged counts as late).
            ack_on_time_share=_share((ack.fill_null(float("inf")) <= ACK_MINUTES).filter(~pl.col("declined"))),
            completed=pl.col("completed").sum(),
            completed_on_time_share=_share(pl.col("on_time")),
            tasks_overdue=pl.col("overdue").sum(),
            declines=pl.col("declined").sum(),
            decline_rate=_share(pl.col("declined")),
            reassignments=pl.col("reassigned").sum(),
            units=pl.col("org_unit_id").n_unique(),
        ),
        keys,
    )


def information_release(
    journal: pl.LazyFrame,
    *,
    period: Period,
    targets: Mapping[str, Mapping[str, int]] | None = None,
    by: Sequence[str] = (),
    facts: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Bulletins of the period's incidents: time to the first, update cadence, corrections, status pages."""
    keys = _keys(by, INCIDENT_BREAKDOWNS)
    facts = incident_facts(journal) if facts is None else facts
    plan = _targets_frame(journal, targets)
    # Intervals between consecutive bulletins of an incident, against the cadence of its tenant's plan.
    intervals = (
        journal.filter(_is("bulletin.published") & pl.col("incident_id").is_not_null())
        .select("tenant_id", "incident_id", "occurred_at")
        .sort("tenant_id", "incident_id", "occurred_at")
        .with_columns(gap=pl.col("occurred_at").diff().over("tenant_id", "incident_id").dt.total_microseconds())
        .filter(pl.col("gap").is_not_null())
        .join(plan.select("tenant_id", "cadence"), on="tenant_id", how="left")
        .group_by("tenant_id", "incident_id")
        .agg(intervals=pl.len(), on_cadence=(pl.col("gap") <= pl.col("cadence") * _MINUTE).sum())
    )
    first = _minutes("first_bulletin_at")
    return _collect(
        facts.join(plan, on="tenant_id", how="left")
        .join(intervals, on=["tenant_id", "incident_id"], how="left")
        .with_columns(period=period_start("reported_local", period))
        .group_by(keys)
        .agg(
            incidents=pl.len(),
            status_page_share=_share(pl.col("bulletins") > 0),
            first_bulletin_minutes_mean=first.mean(),
            first_bulletin_on_time_share=_share(first <= pl.col("information_release")),
            bulletins=pl.col("bulletins").sum(),
            update_intervals=pl.col("intervals").fill_null(0).sum(),
            cadence_share=pl.when(pl.col("intervals").sum() > 0).then(
                pl.col("on_cadence").sum() / pl.col("intervals").sum()
            ),
            updates_missed=pl.col("updates_missed").sum(),
            corrections=pl.col("corrections").sum(),
            correction_share=pl.when(pl.col("bulletins").sum() > 0).then(
                pl.col("corrections").sum() / pl.col("bulletins").sum()
            ),
        ),
        keys,
    )


def step_times(
    journal: pl.LazyFrame,
    *,
    period: Period,
    targets: Mapping[str, Mapping[str, int]] | None = None,
    facts: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """The period's incidents step by step against the plan (report → assessment → instruction → first bulletin
    → close): one row per milestone with its target, how many incidents reached it, the mean minutes from the
    report, the share within the target, and the step's overdue flags (``incident.step_overdue``)."""
    keys = ["tenant_id", "period", "drill"]
    facts = incident_facts(journal) if facts is None else facts
    plan = _targets_frame(journal, targets)
    base = facts.join(plan, on="tenant_id", how="left").with_columns(period=period_start("reported_local", period))
    overdue = (
        journal.filter(_is("incident.step_overdue") & pl.col("incident_id").is_not_null())
        .select("tenant_id", "incident_id", "step")
        .join(base.select("tenant_id", "incident_id", *keys[1:]), on=["tenant_id", "incident_id"], how="inner")
        .group_by(*keys, "step")
        .agg(steps_overdue=pl.len().cast(pl.Int64))
    )
    parts = [
        base.group_by(keys).agg(
            order=pl.lit(i),
            step=pl.lit(step),
            target_minutes=pl.col(step).first().cast(pl.Int64),
            reached=pl.col(column).is_not_null().sum().cast(pl.Int64),
            minutes_mean=_minutes(column).mean(),
            on_time_share=_share(_minutes(column) <= pl.col(step)),
        )
        for i, (step, column) in enumerate(MILESTONES)
    ]
    out = (
        pl.concat(parts, how="vertical")
        .join(overdue, on=[*keys, "step"], how="left")
        .with_columns(pl.col("steps_overdue").fill_null(0))
    )
    # Plan order within a period (not the alphabetical order of the step keys).
    return out.collect().sort([*keys, "order"], nulls_last=True).drop("order")
