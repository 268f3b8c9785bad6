"""Supervision metrics against hand-computed values (tenant zone Asia/Shanghai, UTC+8).

O1..O4 are issued in April (local); O5 at 23:30 UTC on 31 March, 07:30 on 1 April local: an April order too;
O6 at 15:00 UTC on 31 March, 23:00 local: a March order.
- O1 (unit 1): answered on time, returned once, answered again (late: the first answer counts) → on time;
- O2 (unit 1): overdue, then answered late → not on time;
- O3 (unit 2): overdue, never answered → not on time;
- O4 (unit 2): still running, not due → left out of the share;
- O5 (unit 2): answered on time → on time.
April: 5 orders, decided 4 (O1, O2, O3, O5), on time 2 → 0.5; unit 1: 1/2, unit 2: 1/2 (O3 late, O5 on time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from analytics.metrics import CATALOGUE, dimension_scores, localize
from analytics.metrics.supervision import SUPERVISION_SCHEMA, supervision_coordination

T = "tenant-a"
U1, U2 = "unit-1", "unit-2"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ev(event: str, at: datetime, order: str, unit: str, on_time: bool | None = None) -> dict[str, Any]:
    return {"tenant_id": T, "occurred_at": at, "type": event, "subject_id": order, "org_unit_id": unit,
            "on_time": on_time}  # fmt: skip


EVENTS = [
    ev("supervision.issued", utc(2026, 4, 2, 2), "O1", U1),
    ev("supervision.answered", utc(2026, 4, 3, 2), "O1", U1, True),
    ev("supervision.returned", utc(2026, 4, 4, 2), "O1", U1),
    ev("supervision.answered", utc(2026, 4, 9, 2), "O1", U1, False),
    ev("supervision.issued", utc(2026, 4, 5, 2), "O2", U1),
    ev("supervision.overdue", utc(2026, 4, 8, 2), "O2", U1),
    ev("supervision.answered", utc(2026, 4, 9, 2), "O2", U1, False),
    ev("supervision.issued", utc(2026, 4, 6, 2), "O3", U2),
    ev("supervision.overdue", utc(2026, 4, 9, 2), "O3", U2),
    ev("supervision.issued", utc(2026, 4, 28, 2), "O4", U2),
    ev("supervision.issued", utc(2026, 3, 31, 23, 30), "O5", U2),
    ev("supervision.answered", utc(2026, 4, 1, 3), "O5", U2, True),
    ev("supervision.issued", utc(2026, 3, 31, 15), "O6", U1),
    ev("supervision.accepted", utc(2026, 4, 1, 3), "O6", U1),
    # An event of another order never issued in the frame (before the data): ignored.
    ev("supervision.answered", utc(2026, 4, 1, 3), "O0", U1, True),
]


def frame() -> pl.LazyFrame:
    return localize(pl.DataFrame(EVENTS, schema=SUPERVISION_SCHEMA).lazy(), {T: "Asia/Shanghai"})


def test_totals_by_month():
    out = supervision_coordination(frame(), period="month").to_dicts()
    assert [(r["period"].isoformat(), r["supervision_orders"]) for r in out] == [("2026-03-01", 1), ("2026-04-01", 5)]
    april = out[1]
    assert april["supervision_answered"] == 3
    assert april["supervision_overdue"] == 2
    assert april["supervision_returns"] == 1
    assert april["supervision_on_time_share"] == pytest.approx(0.5)
    # O6: accepted without an answer event in the frame, never overdue: undecided, no share.
    assert out[0]["supervision_on_time_share"] is None


def test_by_unit():
    out = supervision_coordination(frame(), period="month", by=("org_unit_id",)).filter(
        pl.col("period").dt.month() == 4
    )
    rows = {r["org_unit_id"]: r for r in out.to_dicts()}
    assert rows[U1]["supervision_orders"] == 2 and rows[U1]["supervision_on_time_share"] == pytest.approx(0.5)
    assert rows[U2]["supervision_orders"] == 3 and rows[U2]["supervision_on_time_share"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        supervision_coordination(frame(), period="month", by=("category",))


def test_folded_into_the_coordination_score():
    supervision = supervision_coordination(frame(), period="month", by=("org_unit_id",)).drop("tenant_id", "period")
    coordination = pl.DataFrame({"org_unit_id": [U1, U2], "bounced_share": [0.0, 0.5]})
    scores = {r["org_unit_id"]: r for r in dimension_scores(
        None, coordination, None, keys=["org_unit_id"], supervision=supervision.group_by("org_unit_id").agg(
            pl.col("supervision_on_time_share").mean()))
        .to_dicts()}  # fmt: skip
    # unit 1: mean(1 − 0, 0.5) = 0.75; unit 2: mean(1 − 0.5, mean of March-none and April 0.5) = 0.5.
    assert scores[U1]["coordination_score"] == pytest.approx(75.0)
    assert scores[U2]["coordination_score"] == pytest.approx(50.0)


def test_catalogued():
    for name in ("supervision_orders", "supervision_answered", "supervision_overdue", "supervision_returns",
                 "supervision_on_time_share"):  # fmt: skip
        assert CATALOGUE[name]["dimension"] == "coordination" and CATALOGUE[name]["formula"]
    assert "supervision_on_time_share" in CATALOGUE["coordination_score"]["formula"]
