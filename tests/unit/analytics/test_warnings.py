"""The early-warning detector against hand-computed cases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from analytics.warnings.rules import (
    SUBMISSIONS_SCHEMA,
    Method,
    group_surges,
    place_cell,
    poisson_tail,
    same_surge,
    surges,
)

NOW = datetime(2026, 5, 10, 12, tzinfo=UTC)


def frame(rows: list[tuple[str, datetime, str | None, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SUBMISSIONS_SCHEMA, orient="row")


def daily_history(tenant: str = "t", category: str = "canteen", days: int = 28, per_day: int = 1) -> list:
    """``per_day`` petitions at noon of each of the ``days`` days before the current window."""
    return [
        (tenant, NOW - timedelta(days=d, hours=12), category, None, None) for d in range(1, days + 1)
        for _ in range(per_day)
    ]  # fmt: skip


def burst(n: int, tenant: str = "t", category: str = "canteen", unit: str | None = None, place: str | None = None):
    return [(tenant, NOW - timedelta(minutes=10 * (i + 1)), category, unit, place) for i in range(n)]


def test_poisson_tail_exact() -> None:
    e = math.exp(-1)
    assert poisson_tail(6, 1.0) == pytest.approx(1 - e * (1 + 1 + 1 / 2 + 1 / 6 + 1 / 24 + 1 / 120), rel=1e-9)
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(2, 3.0) == pytest.approx(1 - math.exp(-3) * 4, rel=1e-9)
    assert 0 < poisson_tail(200, 1.0) < 1e-300 or poisson_tail(200, 1.0) == 0.0


def test_seven_against_one_a_day_is_a_surge_six_is_not() -> None:
    # Baseline one a day: every bin 1, median 1, MAD 0, λ = 1. P(X ≥ 6) = 5.9e-4 > 1e-4; P(X ≥ 7) = 8.3e-5.
    assert surges(frame(daily_history() + burst(6)), NOW).is_empty()
    out = surges(frame(daily_history() + burst(7)), NOW)
    assert out.height == 1
    row = out.row(0, named=True)
    assert (row["tenant_id"], row["key_kind"], row["key"], row["window_count"]) == ("t", "category", "canteen", 7)
    assert row["baseline"] == pytest.approx(1.0)
    p7 = 1 - math.exp(-1) * sum(1 / math.factorial(i) for i in range(7))
    assert row["score"] == pytest.approx(-math.log10(p7))
    assert (row["window_start"], row["window_end"]) == (NOW - timedelta(hours=24), NOW)


def test_minimum_count_and_new_keys() -> None:
    # A key never seen before: λ = 1/28; four petitions are still below the minimum of five.
    assert surges(frame(burst(4, category="new")), NOW).is_empty()
    out = surges(frame(burst(5, category="new")), NOW)
    assert out.get_column("baseline").to_list() == [pytest.approx(1 / 28)]


def test_every_key_kind_and_no_null_keys() -> None:
    out = surges(frame(burst(8, unit="u1", place="23.130,113.260")), NOW)
    assert sorted(out.get_column("key_kind").to_list()) == ["category", "org_unit", "place"]
    assert set(out.get_column("key").to_list()) == {"canteen", "u1", "23.130,113.260"}


def test_past_bursts_are_capped_in_the_baseline() -> None:
    history = daily_history() + [("t", NOW - timedelta(days=5, hours=3), "canteen", None, None)] * 29
    # One baseline day held 30: capped at median + 1 = 2, so λ = (27 + 2) / 28, not (27 + 30) / 28 — with the
    # plain mean (λ ≈ 2.04, P(X ≥ 8) ≈ 1e-3) eight petitions today would pass unnoticed.
    out = surges(frame(history + burst(8)), NOW)
    assert out.get_column("baseline").to_list() == [pytest.approx(29 / 28)]


def test_baseline_is_the_tenants_own() -> None:
    # Another university's busy canteen does not raise this one's baseline.
    other = daily_history(tenant="o", per_day=10)
    out = surges(frame(other + daily_history() + burst(7)), NOW)
    assert out.select("tenant_id", "baseline").rows() == [("t", pytest.approx(1.0))]


def test_outside_the_windows_is_ignored_and_bounds_are_half_open() -> None:
    late = [("t", NOW, "canteen", None, None)] * 10  # at `now` exactly: the next window's
    ancient = [("t", NOW - timedelta(days=60), "canteen", None, None)] * 10
    assert surges(frame(late + ancient), NOW).is_empty()
    with pytest.raises(ValueError):
        surges(frame([]), NOW.replace(tzinfo=None))


def test_shorter_windows() -> None:
    method = Method(window=timedelta(hours=6), baseline=timedelta(days=7), min_count=3)
    assert method.bins == 28
    out = surges(frame(burst(3, category="x")), NOW, method)
    assert out.get_column("window_start").to_list() == [NOW - timedelta(hours=6)]


def test_place_cells_and_surge_continuity() -> None:
    assert place_cell(23.1291, 113.2644) == "23.125,113.260"
    assert place_cell(None, 113.0) is None
    assert same_surge(NOW - timedelta(hours=23), NOW)
    assert not same_surge(NOW - timedelta(hours=25), NOW)
    assert not same_surge(None, NOW)


def _keys(surge: list[dict]) -> list[tuple[str, str]]:
    return [(str(r["key_kind"]), str(r["key"])) for r in surge]


def test_one_burst_on_three_keys_is_one_surge_led_by_its_highest_score() -> None:
    # Eight petitions on canteen / unit u1 / place p: one matter, three keys; a separate burst on dormitory.
    data = frame(daily_history(per_day=1) + burst(8, unit="u1", place="p") + burst(6, category="dormitory"))
    found = surges(data, NOW)
    assert len(found) == 4
    grouped = group_surges(data, found, NOW)
    assert [sorted(_keys(g)) for g in grouped] in (
        [[("category", "canteen"), ("org_unit", "u1"), ("place", "p")], [("category", "dormitory")]],
        [[("category", "dormitory")], [("category", "canteen"), ("org_unit", "u1"), ("place", "p")]],
    )
    three = next(g for g in grouped if len(g) == 3)
    # The unit and the place have no history (the canteen has one a day): they score higher and lead.
    assert [float(r["score"]) for r in three] == sorted((float(r["score"]) for r in three), reverse=True)
    assert three[0]["key_kind"] == "org_unit" and three[-1]["key_kind"] == "category"


def test_keys_sharing_few_petitions_stay_apart_and_universities_never_mix() -> None:
    # Unit u1 surges with 10 petitions, of which only 3 come from place p (which surges on 3 + 4 others).
    data = frame(
        burst(10, category="canteen", unit="u1")
        + [("t", NOW - timedelta(minutes=3 + i), "canteen", "u1", "p") for i in range(3)]
        + [("t", NOW - timedelta(minutes=30 + i), "library", None, "p") for i in range(4)]
        + burst(7, tenant="other", category="canteen", unit="u1")
    )
    found = surges(data, NOW)
    grouped = group_surges(data, found, NOW)
    by_tenant = {(str(g[0]["tenant_id"]), tuple(sorted(_keys(g)))) for g in grouped}
    # 3 shared of place p's 7 is under half: p stays a surge of its own; canteen and u1 share all 13.
    assert by_tenant == {
        ("t", (("category", "canteen"), ("org_unit", "u1"))),
        ("t", (("place", "p"),)),
        ("other", (("category", "canteen"), ("org_unit", "u1"))),
    }
    assert group_surges(data, found.clear(), NOW) == []
