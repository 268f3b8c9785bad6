"""Findings: the weakest units and steps against the plan's targets ("find problems and improve", §6).

Pure: the report's tables in, a short list of findings out, each with its figures and a sentence in zh-CN and
en. Ties are broken by the unit id so the list is the same on every recomputation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from analytics.metrics.petitions import ACCEPT_DAYS, CONCLUDE_DAYS

TOP = 3  # units named per finding kind


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
