"""Province aggregates as pure functions: periods in each university's zone, suppression, scores, rankings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from analytics.metrics import JOURNAL_SCHEMA
from analytics.province.statistics import (
    UNIT_SCHEMA,
    UNIVERSITY_SCHEMA,
    ProvinceData,
    Window,
    rankings,
    university_metrics,
)


def test_windows() -> None:
    assert (Window(2026).start, Window(2026).end, Window(2026).period) == (date(2026, 1, 1), date(2027, 1, 1), "year")
    assert (Window(2026, 2).start, Window(2026, 2).end) == (date(2026, 4, 1), date(2026, 7, 1))
    assert Window(2026, 4).end == date(2027, 1, 1)
    # The end of a quarter in Shanghai is 16:00 UTC the day before.
    assert Window(2026, 1).until("Asia/Shanghai").astimezone(UTC) == datetime(2026, 3, 31, 16, tzinfo=UTC)
    assert Window(2026, 3).describe() == {"year": 2026, "quarter": 3, "start": date(2026, 7, 1),
                                          "end": date(2026, 9, 30)}  # fmt: skip


def _data(decisions: dict[str, list[datetime]], zones: dict[str, str]) -> ProvinceData:
    rows = []
    for tenant, times in decisions.items():
        for i, at in enumerate(times):
            p = f"{tenant}-p{i}"
            rows.append({"tenant_id": tenant, "occurred_at": at - timedelta(days=1), "type": "petition.submitted",
                         "petition_id": p, "kind": "complaint", "category": "c"})  # fmt: skip
            rows.append({"tenant_id": tenant, "occurred_at": at, "type": "petition.accepted", "petition_id": p})
    universities = pl.DataFrame([(t, t, t, t, zones[t]) for t in sorted(zones)], schema=UNIVERSITY_SCHEMA, orient="row")
    return ProvinceData(
        universities=universities,
        journal=pl.DataFrame(rows, schema=JOURNAL_SCHEMA),
        units=pl.DataFrame(schema=UNIT_SCHEMA),
        zones=zones,
    )


def test_quarters_are_local_and_small_counts_suppressed_with_a_complement() -> None:
    # 31 March 17:00 UTC is 1 April 01:00 in Shanghai (Q2) but 31 March 23:00 in Urumqi (Q1).
    late_march = datetime(2026, 3, 31, 17, tzinfo=UTC)
    in_april = datetime(2026, 4, 10, 4, tzinfo=UTC)
    data = _data(
        {"a": [late_march] * 3 + [in_april] * 2, "b": [in_april] * 4, "c": [late_march] * 6},
        {"a": "Asia/Shanghai", "b": "Asia/Shanghai", "c": "Asia/Urumqi"},
    )
    metrics, totals = university_metrics(data, Window(2026, 2), k=3)
    by = {r["tenant_id"]: r for r in metrics.to_dicts()}
    # Q2 decisions: a 5 (3 local-April + 2), b 4, c 0 (Urumqi's are in March). Nothing below k = 3: all shown.
    assert {t: r["decisions"] for t, r in by.items()} == {"a": 5, "b": 4, "c": 0}
    assert totals.item(0, "decisions") == 9
    # With k = 5, b's 4 is small; a (5) is its only non-zero complement; the total 9 stays.
    metrics, totals = university_metrics(data, Window(2026, 2), k=5)
    by = {r["tenant_id"]: r for r in metrics.to_dicts()}
    assert {t: r["decisions"] for t, r in by.items()} == {"a": None, "b": None, "c": 0}
    assert by["a"]["accept_within_15_share"] is None and by["a"]["timeliness_score"] is None
    assert totals.item(0, "decisions") == 9 and totals.item(0, "accept_within_15_share") == 1.0
    assert totals.item(0, "timeliness_score") == pytest.approx(100.0)


def test_rankings_share_ranks_on_ties_and_skip_unpublished() -> None:
    universities = pl.DataFrame(
        [(t, f"s-{t}", t, t, "Asia/Shanghai") for t in "abcd"], schema=UNIVERSITY_SCHEMA, orient="row"
    )
    scores = pl.DataFrame({"tenant_id": list("abcd"), "overall_score": [80.0, None, 90.0, 80.0]})
    for s in ("timeliness_score", "coordination_score", "information_release_score", "satisfaction_score"):
        scores = scores.with_columns(pl.lit(None, pl.Float64).alias(s))
    ranked = rankings(scores, universities)
    assert ranked.select("slug", "overall_rank").rows() == [("s-c", 1), ("s-a", 2), ("s-d", 2), ("s-b", None)]
