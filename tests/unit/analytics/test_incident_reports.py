"""Incident and drill sections of a report, without a database: a small exact fixture (one real incident and one
drill in October 2026, Asia/Shanghai) gives hand-computed values in the right tables, the drill never enters the
real figures or the scores, the findings name the weakest step and units, and every rendition shows the sections
in zh-CN and en ("none" when the period had no incident)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import polars as pl
import pypdf
import pytest

from analytics.metrics import localize
from analytics.metrics.incidents import INCIDENT_SCHEMA, plan_targets, step_times
from analytics.reports import compute, findings, render
from tenants.plans.defaults import default_plan
from tests.unit.analytics.test_reports import LABELS, U1, U2, WEIGHTS, T, content_of, journal

UTC = dt.UTC
ZONES = {T: "Asia/Shanghai"}
REAL = dt.datetime(2026, 10, 5, 2, tzinfo=UTC)  # 10:00 local
DRILL = dt.datetime(2026, 10, 20, 2, tzinfo=UTC)
OCTOBER = dt.date(2026, 10, 1)


def m(start: dt.datetime, minutes: float) -> dt.datetime:
    return start + dt.timedelta(minutes=minutes)


def ev(event: str, at: dt.datetime, incident: str, *, unit: str | None = None, subject: str | None = None,
       drill: bool = False, **payload: Any) -> dict[str, Any]:  # fmt: skip
    return {"tenant_id": T, "occurred_at": at, "type": event, "incident_id": incident, "org_unit_id": unit,
            "subject_id": subject, "drill": drill, **payload}  # fmt: skip


REAL_EVENTS = [
    # Assessed after 40 min (target 60), instructed after 150 (target 120: late, flagged); U1 acknowledges t1 in
    # 20 min and completes it on time; U2 declines t2, which goes to U1 as t3 (acknowledged after 60 min,
    # completed late); U1 records a measure; bulletins after 180 (target 240), 330 and 400 min (intervals 150 —
    # over the 120-minute cadence — and 70), the last a correction; closed after 3 days (target 7).
    ev("incident.reported", REAL, "r"),
    ev("incident.assessed", m(REAL, 40), "r", level="III"),
    ev("incident.step_overdue", m(REAL, 120), "r", step="instruction", target_minutes=120),
    ev("incident.instructed", m(REAL, 150), "r", level="III"),
    ev("task.assigned", m(REAL, 150), "r", unit=U1, subject="t1", step="response"),
    ev("task.acknowledged", m(REAL, 170), "r", unit=U1, subject="t1"),
    ev("task.completed", m(REAL, 300), "r", unit=U1, subject="t1", on_time=True),
    ev("task.assigned", m(REAL, 150), "r", unit=U2, subject="t2", step="logistics"),
    ev("task.declined", m(REAL, 160), "r", unit=U2, subject="t2"),
    ev("task.assigned", m(REAL, 165), "r", unit=U1, subject="t3", step="logistics", reassigned_from="t2"),
    ev("task.acknowledged", m(REAL, 225), "r", unit=U1, subject="t3"),
    ev("task.completed", m(REAL, 600), "r", unit=U1, subject="t3", on_time=False),
    ev("measure.recorded", m(REAL, 200), "r", unit=U1, kind="communication"),
    ev("bulletin.published", m(REAL, 180), "r", subject="b1", kind="initial", sequence=1),
    ev("bulletin.published", m(REAL, 330), "r", subject="b2", kind="update", sequence=2),
    ev("bulletin.published", m(REAL, 400), "r", subject="b3", kind="correction", sequence=3, corrects_id="b2"),
    ev("incident.closed", m(REAL, 3 * 24 * 60), "r", level="III"),
]
DRILL_EVENTS = [
    # Assessed after 90 min (late), one task for U2 done in time, no bulletin, closed after 200 min.
    ev("incident.reported", DRILL, "d", drill=True),
    ev("incident.assessed", m(DRILL, 90), "d", drill=True, level="IV"),
    ev("incident.instructed", m(DRILL, 100), "d", drill=True, level="IV"),
    ev("task.assigned", m(DRILL, 100), "d", unit=U2, subject="t4", drill=True, step="response"),
    ev("task.acknowledged", m(DRILL, 105), "d", unit=U2, subject="t4", drill=True),
    ev("task.completed", m(DRILL, 130), "d", unit=U2, subject="t4", drill=True, on_time=True),
    ev("incident.closed", m(DRILL, 200), "d", drill=True, level="IV"),
]


def incidents(events: list[dict[str, Any]]) -> pl.LazyFrame:
    frame = pl.DataFrame(events, schema=INCIDENT_SCHEMA) if events else pl.DataFrame(schema=INCIDENT_SCHEMA)
    return localize(frame.lazy(), ZONES)


def october(events: list[dict[str, Any]], petitions: pl.DataFrame | None = None, **targets: int) -> dict[str, Any]:
    ctx = compute.Context(kind="monthly", start=OCTOBER, weights=WEIGHTS, step_targets=targets)
    frame = pl.DataFrame(schema=journal().schema) if petitions is None else petitions
    return compute.compute(localize(frame.lazy(), ZONES), ctx, incidents(events))


def one(frame: pl.DataFrame) -> dict[str, Any]:
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def by(frame: pl.DataFrame, key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in frame.iter_rows(named=True)}


def test_real_incident_figures_are_hand_computed_and_drills_are_apart() -> None:
    tables = october(REAL_EVENTS + DRILL_EVENTS)
    real = one(tables["incidents.total"])
    assert (real["incidents"], real["closed"], real["steps_overdue"]) == (1, 1, 1)
    assert (real["assess_minutes_mean"], real["assess_on_time_share"]) == (40.0, 1.0)
    assert (real["instruct_minutes_mean"], real["instruct_on_time_share"]) == (150.0, 0.0)
    assert (real["close_hours_mean"], real["close_on_time_share"]) == (72.0, 1.0)
    # Units involved: U1 (tasks, measure) and U2 (the declined task); three task.assigned events.
    assert (real["units_per_incident"], real["tasks_per_incident"]) == (2.0, 3.0)
    # Tasks: t1 (ack 20 min), t2 (declined), t3 (ack 60 min, late; completed late).
    assert (real["tasks"], real["acknowledged_share"], real["ack_minutes_mean"]) == (3, pytest.approx(2 / 3), 40.0)
    assert (real["ack_on_time_share"], real["completed"], real["completed_on_time_share"]) == (0.5, 2, 0.5)
    assert (real["declines"], real["decline_rate"], real["reassignments"]) == (1, pytest.approx(1 / 3), 1)
    # Information release: first after 180 min; intervals 150 (over the cadence) and 70; one correction of three.
    assert (real["status_page_share"], real["first_bulletin_minutes_mean"], real["first_bulletin_on_time_share"]) == (
        1.0, 180.0, 1.0,
    )  # fmt: skip
    assert (real["bulletins"], real["update_intervals"], real["cadence_share"]) == (3, 2, 0.5)
    assert (real["corrections"], real["correction_share"]) == (1, pytest.approx(1 / 3))

    steps = by(tables["incidents.steps"], "step")
    assert list(steps) == ["assessment", "instruction", "information_release", "cleanup_summary"]
    assert [(s["target_minutes"], s["reached"], s["minutes_mean"], s["on_time_share"], s["steps_overdue"])
            for s in steps.values()] == [
        (60, 1, 40.0, 1.0, 0), (120, 1, 150.0, 0.0, 1), (240, 1, 180.0, 1.0, 0), (10080, 1, 4320.0, 1.0, 0),
    ]  # fmt: skip
    units = by(tables["incidents.org_unit"], "org_unit_id")
    assert set(units) == {U1, U2}
    u1, u2 = units[U1], units[U2]
    assert (u1["tasks"], u1["ack_minutes_mean"], u1["ack_on_time_share"], u1["completed_on_time_share"]) == (
        2, 40.0, 0.5, 0.5,
    )  # fmt: skip
    assert (u1["declines"], u1["reassignments"]) == (0, 1)
    assert (u2["tasks"], u2["declines"], u2["decline_rate"], u2["ack_on_time_share"]) == (1, 1, 1.0, None)

    drill = one(tables["drills.total"])
    assert (drill["incidents"], drill["closed"], drill["assess_minutes_mean"], drill["assess_on_time_share"]) == (
        1, 1, 90.0, 0.0,
    )  # fmt: skip
    assert (drill["tasks"], drill["ack_on_time_share"], drill["bulletins"], drill["status_page_share"]) == (
        1, 1.0, 0, 0.0,
    )  # fmt: skip
    assert drill["first_bulletin_minutes_mean"] is None
    drill_steps = by(tables["drills.steps"], "step")
    assert drill_steps["assessment"]["on_time_share"] == 0.0
    assert (drill_steps["information_release"]["reached"], drill_steps["information_release"]["on_time_share"]) == (
        0, None,
    )  # fmt: skip
    assert set(tables["drills.org_unit"].get_column("org_unit_id")) == {U2}
    assert "drills.trend" not in tables and tables["incidents.trend"].get_column("period").to_list() == [OCTOBER]

    # The drill changes nothing outside its own tables: real figures, scores and findings are the same without it.
    without = october(REAL_EVENTS)
    for name, frame in tables.items():
        if not name.startswith("drills."):
            assert frame.equals(without[name]), name
    assert findings.findings(tables, LABELS) == findings.findings(without, LABELS)


def test_scores_take_the_real_incident_parts_with_the_plan_weights() -> None:
    score = one(october(REAL_EVENTS + DRILL_EVENTS)["scores.total"])
    timeliness = 100 * (1.0 + 0.0 + 1.0) / 3  # assessment, instruction, close on time
    coordination = 100 * (0.5 + 0.5 + (1 - 1 / 3)) / 3  # ack in time, completed on time, not declined
    release = 100 * (0.5 * 1.0 + 0.3 * 0.5 + 0.2 * (1 - 1 / 3))
    assert score["timeliness_score"] == pytest.approx(timeliness)
    assert score["coordination_score"] == pytest.approx(coordination)
    assert score["information_release_score"] == pytest.approx(release)
    assert score["satisfaction_score"] is None
    assert score["overall_score"] == pytest.approx((0.35 * timeliness + 0.25 * coordination + 0.2 * release) / 0.8)
    # The tasks' units get the task part of the coordination index.
    units = by(october(REAL_EVENTS)["scores.org_unit"], "org_unit_id")
    assert units[U1]["coordination_score"] == pytest.approx(100 * (0.5 + 0.5 + 1.0) / 3)
    assert units[U2]["coordination_score"] == pytest.approx(0.0)
    # With petitions, both families count in one dimension: the petitions' timeliness parts join the incident's.
    both = one(october(REAL_EVENTS, journal())["scores.total"])
    petitions_only = one(october([], journal())["petitions.total"])
    parts = [petitions_only["accept_within_15_share"], petitions_only["conclude_on_time_share"], 1.0, 0.0, 1.0]
    assert both["timeliness_score"] == pytest.approx(100 * sum(parts) / len(parts))


def test_the_plan_s_targets_apply() -> None:
    # A plan with an instruction target of 3 hours and a cadence of 3 hours: instruction and every update in time.
    tables = october(REAL_EVENTS, **{**plan_targets(default_plan()), "instruction": 180, "cadence": 180})
    steps = by(tables["incidents.steps"], "step")
    assert (steps["instruction"]["target_minutes"], steps["instruction"]["on_time_share"]) == (180, 1.0)
    assert one(tables["incidents.total"])["cadence_share"] == 1.0
    assert step_times(incidents(REAL_EVENTS), period="month").height == 4  # the default plan's targets


def test_findings_name_the_weakest_step_and_units_in_both_languages() -> None:
    found = [f for f in findings.findings(october(REAL_EVENTS + DRILL_EVENTS), LABELS) if f["kind"] != "lowest_score"]
    step = next(f for f in found if f["kind"] == "incident_step_below_target")
    assert (step["step"], step["value"], step["target_minutes"]) == ("instruction", 0.0, 120)
    assert "报告至指令下达" in step["zh"] and "0.0%" in step["zh"] and "2小时" in step["zh"]
    assert "report to instruction" in step["en"] and "2 h" in step["en"]
    # Only the instruction step missed its target (the drill's late assessment is not a finding).
    assert [f["step"] for f in found if f["kind"] == "incident_step_below_target"] == ["instruction"]
    units = [f for f in found if f["kind"] == "weakest_task_unit"]
    assert [(f["org_unit_id"], f["value"]) for f in units] == [(U2, 0.0), (U1, pytest.approx(2 / 3))]
    assert units[0]["zh"] == "教务处承担应急任务1项：拒收1项。"
    assert units[0]["en"] == "Academic Affairs: 1 incident task(s), 1 declined."
    assert "Logistics Office" in units[1]["en"] and "50.0% acknowledged within 30 minutes" in units[1]["en"]


def test_recomputation_is_byte_identical() -> None:
    events = REAL_EVENTS + DRILL_EVENTS
    first = compute.encode(content_of(october(events, journal())))
    shuffled = list(reversed(events))
    assert compute.encode(content_of(october(shuffled, journal()))) == first


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_sections_render_in_every_format_and_both_languages() -> None:
    content = content_of(october(REAL_EVENTS + DRILL_EVENTS, journal()))
    page = render.render(content, "zh-CN", "html").decode()
    assert "八、突发事件处置" in page and "九、应急演练（单列，不计入评分）" in page
    assert "报告至指令下达" in page and "各环节按时完成比例" in page  # the step table and its chart
    assert "2小时" in page and "2.5小时" in page and "40分钟" in page  # targets and mean times
    english = render.render(content, "en", "html").decode()
    assert "8. Emergency incidents" in english and "9. Drills (reported separately, not scored)" in english
    assert "report to first bulletin" in english and "Tasks per unit" in english
    assert "No incidents in this period." not in english

    zh = _pdf_text(render.render(content, "zh-CN", "pdf"))
    assert "突发事件处置" in zh and "应急演练" in zh and "报告至指令下达" in zh
    en = _pdf_text(render.render(content, "en", "pdf"))
    assert "Emergency incidents" in en and "Drills" in en and "report to instruction" in en

    book = openpyxl.load_workbook(io.BytesIO(render.render(content, "en", "xlsx")), read_only=True)
    assert {"Incidents total", "Incidents by step", "Incidents by unit", "Drills total", "Drills by step"} <= set(
        book.sheetnames
    )
    rows = list(book["Incidents by step"].iter_rows(values_only=True))
    assert rows[0][:2] == ("step", "step_label") and rows[2][1] == "report to instruction"
    steps = pl.read_parquet(io.BytesIO(render.render(content, "zh-CN", "parquet", table="incidents.steps")))
    labels = ["报告至评估", "报告至指令下达", "报告至首次通报", "报告至总结结束"]
    assert steps.get_column("step_label").to_list() == labels
    long = pl.read_csv(io.BytesIO(render.render(content, "en", "csv")))
    drills = long.filter((pl.col("table") == "drills.total") & (pl.col("metric") == "incidents"))
    assert drills.get_column("value").to_list() == [1.0]
    late = long.filter((pl.col("table") == "incidents.steps") & (pl.col("metric") == "on_time_share"))
    assert late.select("key", "value").rows() == [
        ("assessment", 1.0), ("instruction", 0.0), ("information_release", 1.0), ("cleanup_summary", 1.0),
    ]  # fmt: skip


def test_a_period_without_incidents_says_none() -> None:
    content = content_of(october([], journal()))
    assert content["tables"]["incidents.total"]["rows"] == [] and content["tables"]["drills.steps"]["rows"] == []
    assert "本期无突发事件。" in render.render(content, "zh-CN", "html").decode()
    assert "No drills in this period." in render.render(content, "en", "html").decode()
    text = _pdf_text(render.render(content, "en", "pdf"))
    assert "No incidents in this period." in text and "No drills in this period." in text
    for fmt in ("csv", "xlsx", "parquet"):
        assert render.render(content, "zh-CN", fmt)
    # A drill alone: the real section says none, the drill section shows it.
    drill_only = render.render(content_of(october(DRILL_EVENTS)), "en", "html").decode()
    assert "No incidents in this period." in drill_only and "No drills in this period." not in drill_only
