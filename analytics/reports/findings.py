"""Findings: the weakest units and steps against the plan's targets ("find problems and improve", §6).

Pure: the report's tables in, a short list of findings out, each with its figures and a sentence in zh-CN and
en. Ties are broken by the unit id (or the plan's step order) so the list is the same on every recomputation.
Incident findings read the real incidents only (``incidents.*``); drills are reported, not judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from analytics.metrics.petitions import ACCEPT_DAYS, CONCLUDE_DAYS

TOP = 3  # units named per finding kind
# The incident milestones of ``incidents.steps``, named as the report names them (times count from the report).
STEP_LABELS: dict[str, dict[str, str]] = {
    "assessment": {"zh": "报告至评估", "en": "report to assessment"},
    "instruction": {"zh": "报告至指令下达", "en": "report to instruction"},
    "information_release": {"zh": "报告至首次通报", "en": "report to first bulletin"},
    "cleanup_summary": {"zh": "报告至总结结束", "en": "report to close"},
}


def duration(minutes: float | None, lang: str) -> str:
    """Minutes as people read them: days, hours or minutes (``lang`` "zh" or "en")."""
    if minutes is None:
        return "—"
    zh = lang == "zh"
    if minutes >= 2 * 24 * 60:
        value, unit = minutes / (24 * 60), ("天" if zh else " d")
    elif minutes >= 120:
        value, unit = minutes / 60, ("小时" if zh else " h")
    else:
        value, unit = minutes, ("分钟" if zh else " min")
    return f"{value:.1f}".removesuffix(".0") + unit


def _label(labels: Mapping[str, Mapping[str, str]], unit: str | None, lang: str) -> str:
    if unit is None:
        return "（未指定部门）" if lang == "zh" else "(no unit)"
    names = labels.get(unit)
    return names[lang] if names else unit


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _finding(kind: str, unit: str | None, value: float, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "org_unit_id": unit, "value": round(float(value), 6), "zh": zh, "en": en, **extra}


def findings(tables: Mapping[str, pl.DataFrame], labels: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """The lowest overall scores, the most overdue and the most bounced units, and each step below its target."""
    out = _petition_findings(tables, labels)
    out += _incident_findings(tables, labels)
    return out


def _petition_findings(
    tables: Mapping[str, pl.DataFrame], labels: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    scores = tables["scores.org_unit"]
    units = tables["petitions.org_unit"]

    lowest = scores.filter(pl.col("overall_score").is_not_null()).sort(["overall_score", "org_unit_id"]).head(TOP)
    for row in lowest.iter_rows(named=True):
        u, v = row["org_unit_id"], row["overall_score"]
        out.append(
            _finding(
                "lowest_score",
                u,
                v,
                f"{_label(labels, u, 'zh')}综合得分{v:.1f}分，居各部门后列。",
                f"{_label(labels, u, 'en')} has one of the lowest overall scores: {v:.1f}.",
            )
        )

    overdue = units.filter(pl.col("overdue") > 0).sort(["overdue", "org_unit_id"], descending=[True, False]).head(TOP)
    for row in overdue.iter_rows(named=True):
        u, v = row["org_unit_id"], row["overdue"]
        out.append(
            _finding(
                "most_overdue",
                u,
                v,
                f"{_label(labels, u, 'zh')}本期逾期{v}次"
                f"（受理{row['overdue_accept']}次，办结{row['overdue_conclude']}次）。",
                f"{_label(labels, u, 'en')}: {v} deadline(s) missed this period ({row['overdue_accept']} acceptance, "
                f"{row['overdue_conclude']} conclusion).",
            )
        )

    bounced = (
        units.filter(pl.col("bounced_share") > 0)
        .sort(["bounced_share", "transfers", "org_unit_id"], descending=[True, True, False])
        .head(TOP)
    )
    for row in bounced.iter_rows(named=True):
        u, v = row["org_unit_id"], row["bounced_share"]
        out.append(
            _finding(
                "most_bounced",
                u,
                v,
                f"{_label(labels, u, 'zh')}交办件中{_pct(v)}被多次转办（推诿），共转办{row['transfers']}次。",
                f"{_pct(v)} of the petitions assigned to {_label(labels, u, 'en')} bounced between offices "
                f"({row['transfers']} transfers).",
            )
        )

    # Steps of petition handling against their targets (the regulation's defaults, which the plan may tighten).
    steps = (
        ("acceptance", "accept_within_15_share", ACCEPT_DAYS, "受理决定", "acceptance decisions"),
        ("conclusion", "conclude_on_time_share", CONCLUDE_DAYS, "办结", "conclusions"),
    )
    for step, column, days, zh_step, en_step in steps:
        late = units.filter(pl.col(column) < 1).sort([column, "org_unit_id"]).head(TOP)
        for row in late.iter_rows(named=True):
            u, v = row["org_unit_id"], row[column]
            out.append(
                _finding(
                    "step_below_target",
                    u,
                    v,
                    f"{_label(labels, u, 'zh')}{zh_step}在{days}日时限内完成的比例为{_pct(v)}（目标100%）。",
                    f"{_label(labels, u, 'en')}: {_pct(v)} of {en_step} within the {days}-day target (target 100%).",
                    step=step,
                    target_days=days,
                )
            )
    return out


def _incident_findings(
    tables: Mapping[str, pl.DataFrame], labels: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """The incident steps below the plan's targets (lowest share first) and the units weakest on their tasks."""
    out: list[dict[str, Any]] = []
    steps = tables.get("incidents.steps")
    if steps is not None and steps.height:
        order = {step: i for i, step in enumerate(STEP_LABELS)}
        late = (
            steps.filter(pl.col("on_time_share") < 1)
            .with_columns(order=pl.col("step").replace_strict(order, default=len(order)))
            .sort(["on_time_share", "order"])
        )
        for row in late.iter_rows(named=True):
            step, v, target, mean = row["step"], row["on_time_share"], row["target_minutes"], row["minutes_mean"]
            names = STEP_LABELS.get(step, {"zh": step, "en": step})
            out.append(
                _finding(
                    "incident_step_below_target",
                    None,
                    v,
                    f"突发事件“{names['zh']}”环节在预案时限{duration(target, 'zh')}内完成的比例为{_pct(v)}"
                    f"（{row['reached']}起，平均用时{duration(mean, 'zh')}，目标100%）。",
                    f"Incidents: {_pct(v)} within the plan's target of {duration(target, 'en')} for "
                    f"{names['en']} ({row['reached']} incident(s), mean {duration(mean, 'en')}; target 100%).",
                    step=step,
                    target_minutes=target,
                )
            )
    units = tables.get("incidents.org_unit")
    if units is not None and units.height:
        # The task part of the coordination index: acknowledged in time, completed on time, not declined.
        parts = [pl.col("ack_on_time_share"), pl.col("completed_on_time_share"), 1 - pl.col("decline_rate")]
        weakest = (
            units.with_columns(task_score=pl.mean_horizontal(parts))
            .filter(pl.col("task_score") < 1)
            .sort(["task_score", "org_unit_id"], nulls_last=True)
            .head(TOP)
        )
        for row in weakest.iter_rows(named=True):
            u, v = row["org_unit_id"], row["task_score"]
            ack, done = row["ack_on_time_share"], row["completed_on_time_share"]
            # Only the parts that have data (a unit that declined its only task acknowledged nothing).
            zh = [f"30分钟内确认{_pct(ack)}"] if ack is not None else []
            zh += [f"按时完成{_pct(done)}"] if done is not None else []
            en = [f"{_pct(ack)} acknowledged within 30 minutes"] if ack is not None else []
            en += [f"{_pct(done)} completed on time"] if done is not None else []
            out.append(
                _finding(
                    "weakest_task_unit",
                    u,
                    v,
                    f"{_label(labels, u, 'zh')}承担应急任务{row['tasks']}项："
                    + "，".join([*zh, f"拒收{row['declines']}项"])
                    + "。",
                    f"{_label(labels, u, 'en')}: {row['tasks']} incident task(s), "
                    + ", ".join([*en, f"{row['declines']} declined"])
                    + ".",
                )
            )
    return out
