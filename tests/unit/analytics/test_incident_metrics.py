"""Incident metrics against hand-computed values on a small exact journal (tenant zone Asia/Shanghai, UTC+8).

I1 (real) is reported at 17:00 UTC on 31 March, 01:00 on 1 April local: an April incident. I4 (real) is
reported at 15:00 UTC the same day, 23:00 local on 31 March: a March incident. I3 is a drill in April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from analytics.metrics import CATALOGUE, coordination, dimension_scores, localize, satisfaction, timeliness
from analytics.metrics.incidents import (
    INCIDENT_SCHEMA,
    incident_timeliness,
    information_release,
    plan_targets,
    step_times,
    task_coordination,
)
from analytics.metrics.supervision import SUPERVISION_SCHEMA, supervision_coordination
from tenants.plans.defaults import default_plan
from tests.unit.analytics.test_metrics import journal as petition_journal

T = "tenant-a"
ZONES = {T: "Asia/Shanghai"}
U1, U2, U3 = "unit-1", "unit-2", "unit-3"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ev(event: str, at: datetime, incident: str, *, unit: str | None = None, subject: str | None = None,
       drill: bool = False, **payload: Any) -> dict[str, Any]:  # fmt: skip
    return {"tenant_id": T, "occurred_at": at, "type": event, "incident_id": incident, "org_unit_id": unit,
            "subject_id": subject, "drill": drill, **payload}  # fmt: skip


I1 = utc(2026, 3, 31, 17)
I2 = utc(2026, 4, 10, 2)
I3 = utc(2026, 4, 15, 2)
I4 = utc(2026, 3, 31, 15)


def m(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


EVENTS = [
    # I1: assessed after 45 min, instructed after 150 (late: target 120); three tasks (one declined and
    # reassigned, that one acknowledged after 45 min and completed late); four bulletins, intervals 100, 180
    # (missed) and 30 min, the last a correction; closed after two days.
    ev("incident.reported", I1, "i1"),
    ev("incident.assessed", m(I1, 45), "i1", level="III"),
    ev("incident.step_overdue", m(I1, 120), "i1", step="instruction", target_minutes=120),
    ev("incident.instructed", m(I1, 150), "i1", level="III"),
    ev("task.assigned", m(I1, 150), "i1", unit=U1, subject="t1", step="response"),
    ev("task.acknowledged", m(I1, 160), "i1", unit=U1, subject="t1"),
    ev("task.completed", m(I1, 240), "i1", unit=U1, subject="t1", on_time=True),
    ev("task.assigned", m(I1, 150), "i1", unit=U2, subject="t2", step="logistics"),
    ev("task.declined", m(I1, 170), "i1", unit=U2, subject="t2"),
    ev("task.assigned", m(I1, 180), "i1", unit=U3, subject="t3", step="logistics", reassigned_from="t2"),
    ev("task.acknowledged", m(I1, 225), "i1", unit=U3, subject="t3"),
    ev("task.overdue", m(I1, 420), "i1", unit=U3, subject="t3"),
    ev("task.completed", m(I1, 500), "i1", unit=U3, subject="t3", on_time=False),
    ev("measure.recorded", m(I1, 200), "i1", unit=U1, kind="communication"),
    ev("bulletin.published", m(I1, 200), "i1", subject="b1", kind="initial", sequence=1),
    ev("bulletin.published", m(I1, 300), "i1", subject="b2", kind="update", sequence=2),
    ev("bulletin.update_missed", m(I1, 420), "i1"),
    ev("bulletin.published", m(I1, 480), "i1", subject="b3", kind="update", sequence=3),
    ev("bulletin.published", m(I1, 510), "i1", subject="b4", kind="correction", sequence=4, corrects_id="b2"),
    ev("bulletin.corrected", m(I1, 510), "i1", subject="b2", kind="correction", corrects_id="b2"),
    ev("incident.closed", m(I1, 2 * 24 * 60), "i1", level="III"),
    # I2: assessed after 90 min (late), instructed after 100; one task acknowledged after 10 min, still open;
    # no bulletin (no status page); not closed.
    ev("incident.reported", I2, "i2"),
    ev("incident.assessed", m(I2, 90), "i2", level="IV"),
    ev("incident.instructed", m(I2, 100), "i2", level=None),
    ev("task.assigned", m(I2, 100), "i2", unit=U1, subject="t4", step="response"),
    ev("task.acknowledged", m(I2, 110), "i2", unit=U1, subject="t4"),
    # I3: a drill, everything on time.
    ev("incident.reported", I3, "i3", drill=True),
    ev("incident.assessed", m(I3, 20), "i3", drill=True, level="IV"),
    ev("incident.instructed", m(I3, 40), "i3", drill=True, level="IV"),
    ev("task.assigned", m(I3, 40), "i3", unit=U1, subject="t5", drill=True, step="response"),
    ev("task.acknowledged", m(I3, 45), "i3", unit=U1, subject="t5", drill=True),
    ev("task.completed", m(I3, 90), "i3", unit=U1, subject="t5", drill=True, on_time=True),
    ev("bulletin.published", m(I3, 60), "i3", subject="b5", drill=True, kind="initial", sequence=1),
    ev("incident.closed", m(I3, 120), "i3", drill=True, level="IV"),
    # I4 (March): first bulletin after 300 min (late: target 240), the next 100 min later; closed after 8 days.
    ev("incident.reported", I4, "i4"),
    ev("incident.assessed", m(I4, 30), "i4", level="IV"),
    ev("incident.instructed", m(I4, 60), "i4", level="IV"),
    ev("bulletin.published", m(I4, 300), "i4", subject="b6", kind="initial", sequence=1),
    ev("bulletin.published", m(I4, 400), "i4", subject="b7", kind="update", sequence=2),
    ev("incident.closed", m(I4, 8 * 24 * 60), "i4", level="IV"),
]


def journal(events: list[dict[str, Any]] = EVENTS) -> pl.LazyFrame:
    frame = pl.DataFrame(events, schema=INCIDENT_SCHEMA) if events else pl.DataFrame(schema=INCIDENT_SCHEMA)
    return localize(frame.lazy(), ZONES)


def row(frame: pl.DataFrame, **keys: Any) -> dict[str, Any]:
    found = frame.filter(**keys)
    assert found.height == 1, (keys, frame)
    return found.row(0, named=True)


MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def test_step_times_against_the_plan_with_local_month_boundaries():
    out = incident_timeliness(journal(), period="month")
    march = row(out, period=MARCH, drill=False)
    assert (march["incidents"], march["closed"], march["assess_minutes_mean"], march["instruct_minutes_mean"]) == (
        1, 1, 30.0, 60.0,
    )  # fmt: skip
    assert (march["close_hours_mean"], march["close_on_time_share"], march["units_per_incident"]) == (192.0, 0.0, 0.0)
    april = row(out, period=APRIL, drill=False)
    assert (april["incidents"], april["closed"], april["steps_overdue"]) == (2, 1, 1)
    assert (april["assess_minutes_mean"], april["assess_on_time_share"]) == (67.5, 0.5)
    assert (april["instruct_minutes_mean"], april["instruct_on_time_share"]) == (125.0, 0.5)
    # Only I1 is closed: the open I2 counts in neither the mean nor the share.
    assert (april["close_hours_mean"], april["close_on_time_share"]) == (48.0, 1.0)
    assert (april["units_per_incident"], april["tasks_per_incident"]) == (2.0, 2.0)
    drill = row(out, period=APRIL, drill=True)
    assert (drill["incidents"], drill["assess_on_time_share"], drill["close_hours_mean"]) == (1, 1.0, 2.0)
    # Quarters: I4 (local 31 March) is Q1, I1 (local 1 April) is Q2.
    quarters = incident_timeliness(journal(), period="quarter")
    assert row(quarters, period=date(2026, 1, 1), drill=False)["incidents"] == 1
    assert row(quarters, period=APRIL, drill=False)["incidents"] == 2


def test_a_tenant_s_own_plan_targets_apply():
    out = incident_timeliness(journal(), period="month", targets={T: {"assessment": 100, "instruction": 150}})
    april = row(out, period=APRIL, drill=False)
    assert (april["assess_on_time_share"], april["instruct_on_time_share"]) == (1.0, 1.0)
    release = information_release(journal(), period="month", targets={T: {"information_release": 300,
                                                                           "cadence": 180}})  # fmt: skip
    march = row(release, period=MARCH, drill=False)
    assert march["first_bulletin_on_time_share"] == 1.0
    assert row(release, period=APRIL, drill=False)["cadence_share"] == 1.0
    assert plan_targets(default_plan()) == {
        "assessment": 60, "instruction": 120, "information_release": 240, "cleanup_summary": 10080, "cadence": 120,
    }  # fmt: skip


def test_tasks_per_unit_acknowledgement_completion_declines():
    out = task_coordination(journal(), period="month")
    april = row(out, period=APRIL, drill=False)
    assert (april["tasks"], april["acknowledged_share"], april["completed"], april["units"]) == (4, 0.75, 2, 3)
    assert april["ack_minutes_mean"] == pytest.approx(65 / 3)
    assert april["ack_on_time_share"] == pytest.approx(2 / 3)  # t3 took 45 min; the declined t2 is left out
    assert (april["completed_on_time_share"], april["tasks_overdue"]) == (0.5, 1)
    assert (april["declines"], april["decline_rate"], april["reassignments"]) == (1, 0.25, 1)
    assert row(out, period=APRIL, drill=True)["tasks"] == 1
    assert out.filter(period=MARCH).height == 0  # I4 gave no tasks: no row, not a row of zeros
    by_unit = task_coordination(journal(), period="month", by=["org_unit_id"])
    u1 = row(by_unit, period=APRIL, drill=False, org_unit_id=U1)
    assert (u1["tasks"], u1["ack_minutes_mean"], u1["completed"], u1["completed_on_time_share"]) == (2, 10.0, 1, 1.0)
    by_step = task_coordination(journal(), period="month", by=["step"])
    assert row(by_step, period=APRIL, drill=False, step="logistics")["decline_rate"] == 0.5


def test_information_release_first_bulletin_cadence_corrections_status_pages():
    out = information_release(journal(), period="month")
    march = row(out, period=MARCH, drill=False)
    assert (march["status_page_share"], march["first_bulletin_minutes_mean"]) == (1.0, 300.0)
    assert (march["first_bulletin_on_time_share"], march["update_intervals"], march["cadence_share"]) == (0.0, 1, 1.0)
    april = row(out, period=APRIL, drill=False)
    assert (april["incidents"], april["status_page_share"], april["first_bulletin_minutes_mean"]) == (2, 0.5, 200.0)
    assert (april["first_bulletin_on_time_share"], april["bulletins"], april["update_intervals"]) == (1.0, 4, 3)
    assert april["cadence_share"] == pytest.approx(2 / 3)
    assert (april["updates_missed"], april["corrections"], april["correction_share"]) == (1, 1, 0.25)
    drill = row(out, period=APRIL, drill=True)
    assert (drill["bulletins"], drill["update_intervals"], drill["cadence_share"]) == (1, 0, None)
    by_level = information_release(journal(), period="month", by=["level"])
    assert row(by_level, period=APRIL, drill=False, level="IV")["status_page_share"] == 0.0


def test_step_times_one_row_per_milestone_in_the_plan_s_order():
    out = step_times(journal(), period="month")
    april = out.filter(period=APRIL, drill=False)
    assert april.select(
        "step", "target_minutes", "reached", "minutes_mean", "on_time_share", "steps_overdue"
    ).rows() == [
        ("assessment", 60, 2, 67.5, 0.5, 0),
        ("instruction", 120, 2, 125.0, 0.5, 1),  # I1's instruction flagged overdue
        ("information_release", 240, 1, 200.0, 1.0, 0),  # I2 published nothing: not reached
        ("cleanup_summary", 10080, 1, 2880.0, 1.0, 0),
    ]
    # The drill's milestones are rows of their own; March holds I4 (local 31 March).
    assert out.filter(period=APRIL, drill=True).get_column("on_time_share").to_list() == [1.0, 1.0, 1.0, 1.0]
    assert out.filter(period=MARCH, drill=False, step="information_release").row(0, named=True)["on_time_share"] == 0.0
    tight = step_times(journal(), period="month", targets={T: {"assessment": 30}})
    assert tight.filter(period=APRIL, drill=False, step="assessment").row(0, named=True)["on_time_share"] == 0.0


def test_empty_periods_give_empty_frames():
    empty = journal([])
    for metric in (incident_timeliness, task_coordination, information_release, step_times):
        out = metric(empty, period="month")
        assert out.height == 0 and {"tenant_id", "period", "drill"} <= set(out.columns)
    with pytest.raises(ValueError, match="unknown breakdown"):
        task_coordination(journal(), period="month", by=["category"])


def test_composite_scores_real_incidents_only():
    keys = ["tenant_id", "period"]
    scores = dimension_scores(
        None, None, None, keys=keys,
        incidents=incident_timeliness(journal(), period="month"),
        tasks=task_coordination(journal(), period="month"),
        release=information_release(journal(), period="month"),
    )  # fmt: skip
    assert scores.columns == [*keys, "timeliness_score", "coordination_score", "information_release_score",
                              "satisfaction_score"]  # fmt: skip
    april = row(scores, period=APRIL)  # one row: the drill's rows are not scored
    assert april["timeliness_score"] == pytest.approx(100 * 2 / 3)
    assert april["coordination_score"] == pytest.approx(100 * (2 / 3 + 0.5 + 0.75) / 3)
    assert april["information_release_score"] == pytest.approx(85.0)
    march = row(scores, period=MARCH)
    assert (march["coordination_score"], march["information_release_score"]) == (None, pytest.approx(50.0))
    assert march["timeliness_score"] == pytest.approx(100 * 2 / 3)


def test_composite_combines_petitions_and_incidents():
    """The coordination index takes the petition parts and the task parts side by side."""
    keys = ["tenant_id", "period"]
    pj = petition_journal()
    coord = coordination(pj, period="month")
    only_petitions = dimension_scores(None, coord, None, keys=keys)
    both = dimension_scores(None, coord, None, keys=keys, tasks=task_coordination(journal(), period="month"))
    for period in only_petitions.get_column("period"):
        p = row(coord, period=period)
        parts = [1 - p["bounced_share"], None if p["objection_rate"] is None else 1 - p["objection_rate"]]
        petition_parts = [x for x in parts if x is not None]
        assert row(only_petitions, period=period)["coordination_score"] == pytest.approx(
            100 * sum(petition_parts) / len(petition_parts)
        )
        if period == APRIL:
            all_parts = [*petition_parts, 2 / 3, 0.5, 0.75]
            assert row(both, period=period)["coordination_score"] == pytest.approx(
                100 * sum(all_parts) / len(all_parts)
            )


def test_every_output_column_is_in_the_catalogue():
    j, pj = journal(), petition_journal()
    columns: set[str] = set()
    for metric in (incident_timeliness, task_coordination, information_release, step_times):
        columns |= set(metric(j, period="month").columns)
    for metric in (timeliness, coordination, satisfaction):
        columns |= set(metric(pj, period="month").columns)
    empty = pl.DataFrame(schema={**SUPERVISION_SCHEMA, "local_at": pl.Datetime("us")}).lazy()
    columns |= set(supervision_coordination(empty, period="month").columns)
    columns -= {"tenant_id", "period", "drill", "step"}
    columns |= {"timeliness_score", "coordination_score", "information_release_score", "satisfaction_score",
                "overall_score"}  # fmt: skip
    assert columns == set(CATALOGUE)
